r"""Learning-rate schedules as pure functions of the step, and a thin adapter for torch optimizers.

A schedule maps the 0-based count of optimizer updates, ``step``, to the rate for the next
update, from a closed form: ``lr = schedule(step)``. It holds no state, pickles, takes one
step or a NumPy array of steps, and can be plotted with no optimizer at all. Compound
schedules are joins of simple ones; any plain callable ``step -> lr`` works wherever a
schedule does. :func:`attach` drives a torch optimizer with schedules, and
:class:`ReduceOnPlateau` is the one stateful piece, a controller fed a metric.

- decay: :func:`constant`, :func:`linear`, :func:`step_decay`, :func:`multistep`,
  :func:`exponential`, :func:`cosine`, :func:`polynomial`, :func:`inverse_sqrt`
- cycles: :func:`cosine_restarts`, :func:`cyclic`, :func:`one_cycle`
- combinators: :func:`warmup`, :func:`join`
- cooldown: :func:`wsd` (warmup-stable-decay), :func:`cooldown_branches`, :func:`run_cooldowns`
- :class:`ReduceOnPlateau`, :func:`attach`, :func:`plot`, :func:`steps_per_epoch`, :func:`epochs_to_steps`

>>> import numpy as np
>>> from lrcourse import schedules
>>> s = schedules.warmup(schedules.cosine(0.1, total_steps=900), warmup_steps=100)
>>> s(100), s(np.array([0, 50, 1000])).tolist()
(0.1, [0.0, 0.05, 0.0])
"""

from lrcourse.schedules._base import Schedule, values
from lrcourse.schedules.adapter import Scheduler, attach
from lrcourse.schedules.combinators import Join, Warmup, join, warmup
from lrcourse.schedules.cooldown import WSD, Branch, CooldownPlan, cooldown_branches, run_cooldowns, wsd
from lrcourse.schedules.cycles import (
    CosineRestarts,
    Cyclic,
    CyclicMomentum,
    OneCycle,
    OneCycleMomentum,
    cosine_restarts,
    cyclic,
    one_cycle,
)
from lrcourse.schedules.decay import (
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    Linear,
    MultiStep,
    Polynomial,
    StepDecay,
    constant,
    cosine,
    exponential,
    inverse_sqrt,
    linear,
    multistep,
    polynomial,
    step_decay,
)
from lrcourse.schedules.plateau import PlateauScaled, ReduceOnPlateau
from lrcourse.schedules.plotting import epochs_to_steps, plot, steps_per_epoch

__all__ = [
    "constant",
    "linear",
    "step_decay",
    "multistep",
    "exponential",
    "cosine",
    "polynomial",
    "inverse_sqrt",
    "cosine_restarts",
    "cyclic",
    "one_cycle",
    "warmup",
    "join",
    "wsd",
    "cooldown_branches",
    "run_cooldowns",
    "ReduceOnPlateau",
    "attach",
    "plot",
    "steps_per_epoch",
    "epochs_to_steps",
    "values",
    "Schedule",
    "Constant",
    "Linear",
    "StepDecay",
    "MultiStep",
    "Exponential",
    "Cosine",
    "Polynomial",
    "InverseSqrt",
    "CosineRestarts",
    "Cyclic",
    "CyclicMomentum",
    "OneCycle",
    "OneCycleMomentum",
    "Warmup",
    "Join",
    "WSD",
    "Branch",
    "CooldownPlan",
    "PlateauScaled",
    "Scheduler",
]
