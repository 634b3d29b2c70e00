"""lrcourse: the companion package of *The Learning Rate: principles and code*.

One module per concept; importing the package does no work and reads no
configuration, so each helper reads the environment when it is called. The
modules are imported by name (``from lrcourse import schedules``):

- ``lrcourse.optim``: SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, NAdam, RAdam,
  verified against ``torch.optim`` (Adam, AdamW and SGD with a compiled ``fused=True``
  path), plus the layer-wise LARS and LAMB;
- ``lrcourse.schedules``: closed-form learning-rate schedules and ``attach``;
- ``lrcourse.scaling``: the linear and square-root rules for larger batches;
- ``lrcourse.mup``: the maximal update parametrisation, a network and its per-layer
  rates from a base width, so that one rate holds at every width;
- ``lrcourse.train``: ``fit`` with accumulation, clipping, history, resume,
  TensorBoard and data-parallel training under ``torchrun``;
- ``lrcourse.lr_finder``: the range test; ``lrcourse.recipes``: the MNIST recipes;
- ``lrcourse.interop``: optimizer checkpoints to and from ``torch.optim``;
- ``lrcourse.data``, ``lrcourse.batching``, ``lrcourse.synthetic``, ``lrcourse.models``:
  data sets, batches and the course's models; ``lrcourse.recommender``,
  ``lrcourse.text``, ``lrcourse.series``: the applications' data and models;
- ``lrcourse.problems``, ``lrcourse.plotting``, ``lrcourse.curvature``,
  ``lrcourse.gradient_noise``, ``lrcourse.sweeps``: what the chapters compute and draw.

>>> import lrcourse
>>> lrcourse.device().type in {"cuda", "mps", "cpu"}
True
"""

from lrcourse.config import data_root, is_quick, pick
from lrcourse.devices import device
from lrcourse.seeding import seed_everything

__all__ = ["data_root", "device", "is_quick", "pick", "seed_everything"]
__version__ = "0.1.0"
