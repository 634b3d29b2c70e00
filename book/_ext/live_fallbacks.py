"""The static image inside each live figure: its starting state, computed with lrcourse, drawn with matplotlib.

A reader without JavaScript sees it, and so does a printer; the widget draws over it with the
same numbers (the engine equals the package to 1e-12, ``tests/test_live_figures.py``).
:data:`DEFAULTS` holds every widget's starting settings: the directive completes its options
from them, so the image and the script start from the same state.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

DEFAULTS = {
    "playground": dict(
        problem="quadratic",
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        alpha=0.99,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        weight_decay=0.01,
        condition=10,
        angle=0,
        steps=60,
    ),
    "stability-map": dict(condition=100, lr=1.0, momentum=0.5, steps=200),
    # args: the schedule's arguments as the package takes them (every required one)
    "schedule-explorer": dict(schedule="cosine", args={"lr": 0.1, "total_steps": 1000}, warmup_steps=0, horizon=1200),
    "adam-bias": dict(beta1=0.9, beta2=0.999, horizon=3000),
}
START = {"quadratic": (1.0, 1.0), "rosenbrock": (-1.2, 1.0), "saddle": (1.0, 0.01)}
VIEW = {"quadratic": (-1.5, 1.5, -1.5, 1.5), "rosenbrock": (-2, 2, -1, 3), "saddle": (-1.5, 1.5, -1.5, 1.5)}


def settings(widget: str, options: dict) -> dict:
    """The widget's defaults, overridden by the directive's options."""
    if widget == "schedule-explorer" and "schedule" in options and "args" not in options:
        raise ValueError("a schedule-explorer that names its schedule gives its args too (JSON)")
    return {**DEFAULTS[widget], **options}


class TurnedQuadratic:
    """``problems.Quadratic(curvatures)`` turned by ``angle`` radians: Hessian ``R diag(h) R^T``.

    Written in the engine's order of operations (``book/_static/live/problems.js``).

    >>> f = TurnedQuadratic((1.0, 10.0), math.pi / 2)
    >>> bool(np.allclose(f.grad(np.array([1.0, 0.0])), [10.0, 0.0])), round(float(f(np.array([1.0, 0.0]))), 12)
    (True, 5.0)
    """

    def __init__(self, curvatures, angle: float):
        self.curvatures, self.c, self.s = tuple(curvatures), math.cos(angle), math.sin(angle)
        self.minimum = 0.0

    def _eigen(self, x):
        return [self.c * x[0] + self.s * x[1], -self.s * x[0] + self.c * x[1]]

    def grad(self, x):
        u = [h * ui for h, ui in zip(self.curvatures, self._eigen(x))]
        return np.array([self.c * u[0] - self.s * u[1], self.s * u[0] + self.c * u[1]])

    def __call__(self, x):
        from lrcourse import problems

        x = np.asarray(x, dtype=float)
        if x.ndim > 1:  # a grid of points, for the contours
            return np.apply_along_axis(self, -1, x)
        return problems.Quadratic(self.curvatures)(np.array(self._eigen(x)))


def playground_problem(s: dict):
    """The problem of the playground's settings, as lrcourse.problems builds it."""
    from lrcourse import problems

    if s["problem"] == "rosenbrock":
        return problems.Rosenbrock()
    if s["problem"] == "saddle":
        return problems.Saddle(1.0)
    f = problems.quadratic(condition=s["condition"])
    return TurnedQuadratic(f.curvatures, math.radians(s["angle"])) if s["angle"] else f


def playground_optimizer(s: dict):
    """(class, keyword arguments) of lrcourse.optim for the playground's settings."""
    from lrcourse import optim

    lr, name = s["lr"], s["optimizer"]
    if name in ("sgd", "momentum", "nesterov"):
        extra = {} if name == "sgd" else {"momentum": s["momentum"], "nesterov": name == "nesterov"}
        return optim.SGD, {"lr": lr, **extra}
    if name == "adagrad":
        return optim.Adagrad, {"lr": lr, "eps": s["eps"]}
    if name == "rmsprop":
        return optim.RMSprop, {"lr": lr, "alpha": s["alpha"], "eps": s["eps"], "momentum": s["momentum"]}
    betas = (s["beta1"], s["beta2"])
    if name == "adam":
        return optim.Adam, {"lr": lr, "betas": betas, "eps": s["eps"]}
    return optim.AdamW, {"lr": lr, "betas": betas, "eps": s["eps"], "weight_decay": s["weight_decay"]}


def playground_run(s: dict):
    """The path and the losses of the playground's starting state, by lrcourse.problems.run."""
    from lrcourse import problems

    f = playground_problem(s)
    cls, kwargs = playground_optimizer(s)
    with np.errstate(all="ignore"):
        path = problems.run(f, cls, START[s["problem"]], s["steps"], **kwargs)
        loss = np.array([float(f(x)) for x in path])
    return f, path, loss


def playground(fig, s: dict) -> str:
    f, path, loss = playground_run(s)
    left, right = fig.subplots(1, 2)
    a, b, c, d = VIEW[s["problem"]]
    x, y = np.meshgrid(np.linspace(a, b, 200), np.linspace(c, d, 200))
    minimum = getattr(f, "minimum", 0.0)
    left.contour(x, y, np.log10(f(np.stack([x, y], axis=-1)) - minimum + 1e-3), levels=12, cmap="viridis_r")
    left.plot(path[:, 0], path[:, 1], ".-", color="tab:red", markersize=3, linewidth=1)
    left.set(xlim=(a, b), ylim=(c, d), xlabel="θ1", ylabel="θ2", title=f"{s['optimizer']}, η = {s['lr']:g}")
    right.semilogy(np.maximum(loss - minimum, 1e-16))
    right.set(xlabel="step", ylabel="loss − minimum")
    return f"loss after {s['steps']} steps {loss[-1]:.3g}"


def heavy_ball_radius(lr, beta, h):
    """Heavy ball's contraction on curvature h: the larger root of z^2 - (1 + beta - lr h) z + beta."""
    a = 1 + beta - lr * h
    root = np.sqrt((a**2 - 4 * beta).astype(complex))
    return np.maximum(abs(a + root), abs(a - root)) / 2


def stability_map(fig, s: dict) -> str:
    from lrcourse import optim, problems

    q = problems.quadratic(condition=s["condition"])
    left, right = fig.subplots(1, 2)
    lrs, betas = np.meshgrid(np.linspace(0.005, 4.2, 220), np.linspace(0, 0.999, 160))
    worst = np.maximum(*(heavy_ball_radius(lrs, betas, h) for h in q.curvatures))
    left.set_facecolor("0.75")  # grey: heavy ball diverges
    root_kappa = math.sqrt(q.condition)
    fastest = -math.log10(1 - (root_kappa - 1) / (root_kappa + 1))  # at the tuned pair; as the live map's colours
    with np.errstate(divide="ignore", invalid="ignore"):
        slowness = np.where(worst < 1, -np.log10(1 - worst), np.nan)
    shade = left.pcolormesh(lrs, betas, slowness, cmap="viridis_r", vmin=fastest, vmax=fastest + 2.5)
    fig.colorbar(shade, ax=left, label="−log10(1 − contraction)")
    eta = np.linspace(1e-3, 4 / q.L, 300)
    left.plot(eta, np.maximum((1 - np.sqrt(eta * q.mu)) ** 2, (1 - np.sqrt(eta * q.L)) ** 2), "w--", linewidth=1)
    tuned_lr, tuned_beta = 4 / (math.sqrt(q.L) + math.sqrt(q.mu)) ** 2, ((root_kappa - 1) / (root_kappa + 1)) ** 2
    left.plot(tuned_lr, tuned_beta, "*", color="tab:orange", markersize=12)
    left.plot(s["lr"], s["momentum"], "o", color="tab:red")
    left.set(xlabel="rate η", ylabel="momentum β", title=f"heavy ball, κ = {s['condition']:g}")
    path = problems.run(q, optim.SGD, [1.0, 1.0], s["steps"], lr=s["lr"], momentum=s["momentum"])
    predicted = float(max(heavy_ball_radius(np.array(s["lr"]), np.array(s["momentum"]), h) for h in q.curvatures))
    right.semilogy(np.linalg.norm(path, axis=1))
    right.semilogy(np.sqrt(2) * predicted ** np.arange(s["steps"] + 1), "--", color="0.5")
    right.set(xlabel="step", ylabel="distance to the minimum")
    return f"η = {s['lr']:g}, β = {s['momentum']:g}: contraction {predicted:.3g} per step"


def schedule_explorer(fig, s: dict) -> str:
    from lrcourse import schedules

    schedule = getattr(schedules, s["schedule"])(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in s["args"].items()}
    )
    if s["warmup_steps"]:
        schedule = schedules.warmup(schedule, s["warmup_steps"])
    steps = np.arange(s["horizon"] + 1)
    ax = fig.subplots()
    ax.plot(steps, schedule(steps))
    if hasattr(schedule, "momentum"):
        ax.twinx().plot(steps, schedule.momentum(steps), "--", color="tab:orange")
    ax.set(xlabel="step", ylabel="learning rate", title=s["schedule"])
    return f"{s['schedule']}: rate {schedule(0):.3g} at step 0, {schedule(s['horizon']):.3g} at step {s['horizon']}"


def adam_bias(fig, s: dict) -> str:
    from lrcourse import optim, problems

    b1, b2, horizon = s["beta1"], s["beta2"], s["horizon"]
    t = np.arange(1, horizon + 1)
    path = problems.run(problems.Quadratic((1.0,)), optim.Adam, [1e6], horizon, lr=1e-3, betas=(b1, b2))
    uncorrected = (1 - b1**t) / np.sqrt(1 - b2**t)
    left, right = fig.subplots(1, 2)
    left.semilogx(t, uncorrected, color="tab:red", label="without correction")
    left.semilogx(t, -np.diff(path[:, 0]) / 1e-3, color="tab:blue", label="Adam, corrected")
    left.set(xlabel="step t", ylabel="step size / lr")
    left.legend()
    right.semilogx(t, 1 - b1**t, color="tab:green", label="$m_t / g$")
    right.semilogx(t, np.sqrt(1 - b2**t), color="tab:purple", label=r"$\sqrt{v_t} / |g|$")
    right.set(xlabel="step t", ylabel="average / its target")
    right.legend()
    return f"β1 = {b1:g}, β2 = {b2:g}: first step {uncorrected[0]:.3g} lr without correction, 1 lr with it"


DRAW = {
    "playground": playground,
    "stability-map": stability_map,
    "schedule-explorer": schedule_explorer,
    "adam-bias": adam_bias,
}


def render(widget: str, options: dict) -> tuple[str, str]:
    """The starting state as an inline PNG at 100 dpi (a few tens of kB), and a line saying what it shows."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), dpi=100, layout="constrained")
    summary = DRAW[widget](fig, settings(widget, options))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), summary
