"""lrcourse: the companion package of *The Learning Rate: principles and code*.

One module per concept; importing the package does no work and reads no
configuration, so each helper reads the environment when it is called.

>>> import lrcourse
>>> lrcourse.device().type in {"cuda", "mps", "cpu"}
True
"""

from lrcourse.config import data_root, is_quick, pick
from lrcourse.devices import device
from lrcourse.seeding import seed_everything

__all__ = ["data_root", "device", "is_quick", "pick", "seed_everything"]
__version__ = "0.1.0"
