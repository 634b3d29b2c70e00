"""The optimizers of the course, each a ``torch.optim.Optimizer`` that reads like its formula.

Every class takes the keyword names and defaults of its ``torch.optim`` namesake and
is tested against it, so one can be swapped for the other (:class:`LARS` and
:class:`LAMB`, which ``torch.optim`` lacks, are tested against their papers' rules
computed independently). ``fused=True`` on :class:`Adam`, :class:`AdamW` and :class:`SGD`
selects the compiled fast path of :mod:`lrcourse.optim.compiled` (same numbers to float32
rounding); the other options that only choose an implementation (``foreach``,
``capturable``, ``differentiable``) are not offered. Each class's ``update`` method is its rule for one parameter, one
statement per equation; the loop around it is :class:`lrcourse.optim.base.Optimizer`.
The state of a parameter is named in the book's symbols (``m``, ``v``, ``t``, ...), so
a ``state_dict`` saved by one of these loads into the same class here, not into
``torch.optim``'s.

>>> import torch
>>> from lrcourse import optim
>>> theta = torch.nn.Parameter(torch.ones(3))
>>> opt = optim.Adam([theta], lr=0.1)
>>> isinstance(opt, torch.optim.Optimizer)
True
"""

from lrcourse.optim.adadelta import Adadelta
from lrcourse.optim.adagrad import Adagrad
from lrcourse.optim.adam import Adam, AdamW
from lrcourse.optim.lamb import LAMB as LAMB
from lrcourse.optim.lars import LARS as LARS
from lrcourse.optim.nadam import NAdam
from lrcourse.optim.radam import RAdam
from lrcourse.optim.rmsprop import RMSprop
from lrcourse.optim.sgd import SGD

# the torch.optim namesakes (tests/test_optim_api.py checks each against torch); then the layer-wise pair
__all__ = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam"]
LAYERWISE = ["LARS", "LAMB"]
