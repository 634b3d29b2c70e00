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

**Differences from torch.optim.** PyTorch's own optimizer tests (its ``test/test_optim.py``,
run against these classes by ``benchmarks/torch_suite``) fail on these alone, each deliberate:

* *Error messages.* A bad argument raises the exception ``torch.optim`` raises, at the same
  point (construction), in the course's words: they name the argument, its allowed range and
  an example (``momentum must be >= 0, got -0.5`` where torch says ``Invalid momentum value:
  -0.5``). Code that matches torch's wording does not match these: 24 of torch's 64 error
  cases (two to five per optimizer), so its ``test_errors`` fails for all eight.
* *Implementation flags.* ``foreach``, ``capturable`` and ``differentiable`` choose among
  torch's kernels, not the update; they are not taken (a ``TypeError``, like any unknown
  keyword): each class has its one readable loop. ``fused`` is offered by :class:`Adam`,
  :class:`AdamW` and :class:`SGD` only. The 108 tests of torch's suite that exist for these
  flags (on CPU or CUDA) do not apply.
* *State.* Named in the book's symbols (above), with the step count ``t`` a Python ``int``
  (read with no host sync), where torch keeps a tensor ``step``. A ``torch.optim``
  ``state_dict`` is refused with a pointer to :mod:`lrcourse.interop`, which converts it both
  ways. Code that expects every state value to be a tensor sees an ``int``: torch's
  ``test_fused_matches_forloop`` (Adam and AdamW, four dtypes) stops there, though the
  parameters and every state tensor match.
* *Gradients under* ``fused=True``. Each ``.grad`` becomes a view of one flat buffer: the first
  step copies the gradient in (the caller's tensor is read, never written) and puts the view in
  its place, so ``p.grad`` is another tensor after that step, where torch keeps the same one
  (torch's ``test_grads_are_never_inplaced_into`` reads the new tensor's version counter).

>>> import torch
>>> from lrcourse import optim
>>> theta = torch.nn.Parameter(torch.ones(3))
>>> opt = optim.Adam([theta], lr=0.1)
>>> isinstance(opt, torch.optim.Optimizer)
True
"""

from lrcourse.optim.adadelta import Adadelta
from lrcourse.optim.adafactor import Adafactor as Adafactor
from lrcourse.optim.adagrad import Adagrad
from lrcourse.optim.adam import Adam, AdamW
from lrcourse.optim.hybrid import MuonAdamW as MuonAdamW
from lrcourse.optim.hybrid import muon_adamw as muon_adamw
from lrcourse.optim.hybrid import split_for_muon as split_for_muon
from lrcourse.optim.lamb import LAMB as LAMB
from lrcourse.optim.lars import LARS as LARS
from lrcourse.optim.lion import Lion as Lion
from lrcourse.optim.memory import state_bytes as state_bytes
from lrcourse.optim.memory import state_bytes_per_parameter as state_bytes_per_parameter
from lrcourse.optim.muon import Muon as Muon
from lrcourse.optim.nadam import NAdam
from lrcourse.optim.prodigy import Prodigy as Prodigy
from lrcourse.optim.radam import RAdam
from lrcourse.optim.rmsprop import RMSprop
from lrcourse.optim.schedule_free import AdamWScheduleFree as AdamWScheduleFree
from lrcourse.optim.schedule_free import SGDScheduleFree as SGDScheduleFree
from lrcourse.optim.sgd import SGD

# the torch.optim namesakes (tests/test_optim_api.py checks each against torch); then the layer-wise pair
__all__ = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam"]
LAYERWISE = ["LARS", "LAMB"]
# torch.optim namesakes whose rule reads a weight as a matrix, not entry by entry (Muon takes 2-D
# parameters only; neither takes complex ones): tests/test_optim_matrix.py holds them to the eight's standard
MATRIX = ["Muon", "Adafactor"]
# not in torch.optim: each is held to its PyPI reference (lion-pytorch, schedulefree, prodigyopt)
REFERENCE_PACKAGES = ["Lion", "SGDScheduleFree", "AdamWScheduleFree", "Prodigy"]
