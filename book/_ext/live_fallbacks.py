"""The static image inside each live figure: its starting state, computed with lrcourse, drawn with matplotlib.

A reader without JavaScript sees it, and so does a printer; the widget draws over it with the
same numbers (the engine equals the package to 1e-12, ``tests/test_live_figures.py``).
:data:`DEFAULTS` holds every widget's starting settings: the directive completes its options
from them, so the image and the script start from the same state.
"""

from __future__ import annotations

import base64
import io

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
    "schedule-explorer": dict(schedule="cosine", lr=0.1, total_steps=1000, warmup_steps=0),
    "adam-bias": dict(beta1=0.9, beta2=0.999, horizon=10000),
}
START = {"quadratic": (1.0, 1.0), "rosenbrock": (-1.2, 1.0), "saddle": (1.0, 0.01)}
VIEW = {"quadratic": (-1.5, 1.5, -1.5, 1.5), "rosenbrock": (-2, 2, -1, 3), "saddle": (-1.5, 1.5, -1.5, 1.5)}


def settings(widget: str, options: dict) -> dict:
    """The widget's defaults, overridden by the directive's options."""
    return {**DEFAULTS[widget], **options}


def playground_problem(s: dict):
    """The problem of the playground's settings, as lrcourse.problems builds it."""
    from lrcourse import problems

    if s["problem"] == "rosenbrock":
        return problems.Rosenbrock()
    if s["problem"] == "saddle":
        return problems.Saddle(1.0)
    if s["angle"]:
        raise ValueError("the static playground draws unrotated quadratics only")
    return problems.quadratic(condition=s["condition"])


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


DRAW = {"playground": playground}


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
