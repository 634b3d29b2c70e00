/* The trajectory playground: an optimizer of lrcourse.optim on a toy problem of lrcourse.problems,
 * its path over the contours and its loss against steps, recomputed as any slider moves.
 * A click on the contours moves the start. The lr slider marks the edge of stability, 2/L
 * (and heavy ball's (2 + 2 beta)/L when there is momentum).
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const { problems, optim, plot, controls } = live;

  const OPTIMIZERS = { sgd: "SGD", momentum: "SGD, heavy ball", nesterov: "SGD, Nesterov",
    adagrad: "Adagrad", rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW" };
  const PROBLEMS = { quadratic: "quadratic", rosenbrock: "Rosenbrock", saddle: "saddle" };
  const VIEW = { quadratic: [-1.5, 1.5, -1.5, 1.5], rosenbrock: [-2, 2, -1, 3], saddle: [-1.5, 1.5, -1.5, 1.5] };
  const START = { quadratic: [1, 1], rosenbrock: [-1.2, 1], saddle: [1, 0.01] };
  const USES = { // which sliders each optimizer reads
    sgd: ["lr"], momentum: ["lr", "momentum"], nesterov: ["lr", "momentum"], adagrad: ["lr", "eps"],
    rmsprop: ["lr", "alpha", "eps", "momentum"], adam: ["lr", "beta1", "beta2", "eps"],
    adamw: ["lr", "beta1", "beta2", "eps", "weight_decay"],
  };

  const SLIDERS = [
    { name: "lr", label: "rate η", min: 1e-4, max: 10, log: true, value: 0.1 },
    { name: "momentum", label: "momentum β", min: 0, max: 0.99, value: 0.9 },
    { name: "alpha", label: "RMSprop α", min: 0, max: 0.999, value: 0.99 },
    { name: "beta1", label: "β1", min: 0, max: 0.999, value: 0.9 },
    { name: "beta2", label: "β2", min: 0.5, max: 0.9999, value: 0.999 },
    { name: "eps", label: "ε", min: 1e-10, max: 1, log: true, value: 1e-8 },
    { name: "weight_decay", label: "weight decay λ", min: 0, max: 1, value: 0.01 },
    { name: "condition", label: "condition κ", min: 1, max: 1000, log: true, value: 10 },
    { name: "angle", label: "rotation (°)", min: 0, max: 90, value: 0 },
    { name: "steps", label: "steps", min: 10, max: 500, integer: true, value: 60 },
  ];

  /* The package's call for the current settings: (optimizer name of the engine, its options). */
  function optimizerOptions(s) {
    const lr = s.lr;
    switch (s.optimizer) {
      case "sgd": return ["sgd", { lr }];
      case "momentum": return ["sgd", { lr, momentum: s.momentum }];
      case "nesterov": return ["sgd", { lr, momentum: s.momentum, nesterov: true }];
      case "adagrad": return ["adagrad", { lr, eps: s.eps }];
      case "rmsprop": return ["rmsprop", { lr, alpha: s.alpha, eps: s.eps, momentum: s.momentum }];
      case "adam": return ["adam", { lr, betas: [s.beta1, s.beta2], eps: s.eps }];
      default: return ["adamw", { lr, betas: [s.beta1, s.beta2], eps: s.eps, weight_decay: s.weight_decay }];
    }
  }

  function makeProblem(s) {
    if (s.problem === "rosenbrock") return problems.rosenbrock({});
    if (s.problem === "saddle") return problems.saddle({ h: 1 });
    return problems.conditioned({ condition: s.condition, angle: (s.angle * Math.PI) / 180 });
  }

  /* The rate beyond which the iteration diverges on the steepest curvature L (SGD and heavy ball). */
  function edge(s, L) {
    if (s.optimizer === "sgd") return 2 / L;
    if (s.optimizer === "momentum") return (2 + 2 * s.momentum) / L;
    if (s.optimizer === "nesterov") return (2 + 2 * s.momentum) / (1 + 2 * s.momentum) / L;
    return null; // adaptive methods: the step is not lr times the gradient
  }

  function playground(container, config) {
    const s = { problem: "quadratic", optimizer: "sgd", x0: null, ...config };
    for (const spec of SLIDERS) if (!(spec.name in s)) s[spec.name] = spec.value;
    const panel = controls.element("div", { class: "lr-live-controls" }, container);
    const onInput = (name, value) => {
      s[name] = value;
      if (name === "problem") s.x0 = null;
      draw();
    };
    controls.menu(panel, { name: "problem", label: "problem", choices: PROBLEMS, value: s.problem }, onInput);
    controls.menu(panel, { name: "optimizer", label: "optimizer", choices: OPTIMIZERS, value: s.optimizer }, onInput);
    const sliders = {};
    for (const spec of SLIDERS) sliders[spec.name] = controls.slider(panel, { ...spec, value: s[spec.name] }, onInput);
    const edgeMark = controls.element("span", { class: "lr-live-edge", title: "edge of stability" }, sliders.lr.track);
    const figures = controls.element("div", { class: "lr-live-figures" }, container);
    const left = plot.canvas(figures, 340, 320, "path of the optimizer over the loss contours");
    const right = plot.canvas(figures, 340, 320, "loss against steps");

    left.el.addEventListener("click", (event) => {
      const r = left.el.getBoundingClientRect(), ax = contourAxes();
      s.x0 = [ax.x(((event.clientX - r.left) / r.width) * left.w), ax.y(((event.clientY - r.top) / r.height) * left.h)];
      draw();
    });

    function contourAxes() {
      const [a, b, c, d] = VIEW[s.problem];
      return plot.axes(left, [50, 20, 275, 255], { xlim: [a, b], ylim: [c, d], xlabel: "θ1", ylabel: "θ2" });
    }

    function draw() {
      const f = makeProblem(s);
      const x0 = s.x0 || START[s.problem];
      const [name, options] = optimizerOptions(s);
      const { path, loss } = optim.run(f, name, options, x0, s.steps);
      for (const [k, sl] of Object.entries(sliders)) {
        const quadOnly = k === "condition" || k === "angle";
        sl.show(k === "steps" || (quadOnly ? s.problem === "quadratic" : USES[s.optimizer].includes(k)));
      }
      const e = edge(s, f.L);
      edgeMark.style.display = e && e >= 1e-4 && e <= 10 ? "" : "none";
      if (e) edgeMark.style.left = `${(100 * sliders.lr.position(e)).toFixed(2)}%`;
      edgeMark.title = e ? `edge of stability ${controls.format(e)} (${s.optimizer === "sgd" ? "2/L" : "heavy ball"})` : "";

      // left: contours, minimizers, the path
      plot.clear(left);
      const ax = contourAxes();
      const excess = (x, y) => Math.log10(f.value([x, y]) - f.minimum + 1e-3);
      const grid = plot.heatmap(ax, excess, 100, { alpha: 110, reverse: true });
      const levels = Array.from({ length: 11 }, (_, k) => grid.lo + ((k + 0.5) * (grid.hi - grid.lo)) / 11);
      plot.contours(ax, grid, levels, { color: "rgba(40,40,40,0.35)" });
      ax.frame();
      for (const m of f.minimizers) plot.marker(ax, m[0], m[1], { color: "#2ca02c", shape: "star", size: 7 });
      plot.line(ax, path.map((p) => p[0]), path.map((p) => p[1]), { color: "#d62728", width: 1.2, dots: true });
      plot.marker(ax, x0[0], x0[1], { color: "#222", size: 4 });

      // right: the loss above its minimum, per step
      plot.clear(right);
      const gap = loss.map((v) => v - f.minimum);
      const shown = gap.filter((v) => Number.isFinite(v) && v > 0);
      const top = Math.max(10, ...shown.slice(0, 50)), bottom = Math.max(1e-16, Math.min(...shown, 1e-3) / 10);
      const bx = plot.axes(right, [60, 20, 265, 255], {
        xlim: [0, s.steps], ylim: [bottom, top], ylog: true, xlabel: "step", ylabel: "loss − minimum",
      });
      bx.frame();
      plot.line(bx, gap.map((_, k) => k), gap.map((v) => Math.max(v, bottom)), { color: "#1f77b4" });

      const last = loss[loss.length - 1];
      const diverged = loss.findIndex((v) => !Number.isFinite(v) || v > 1e12);
      if (diverged >= 0) {
        plot.text(right, `${OPTIMIZERS[s.optimizer]} diverged at step ${diverged}`, 70, 40, { color: "#d62728" });
      }
      const where = e ? `, edge ${controls.format(e)}` : "";
      controls.report(container,
        `${OPTIMIZERS[s.optimizer]} on the ${PROBLEMS[s.problem]}: η = ${controls.format(s.lr)}${where}; ` +
        (diverged >= 0 ? `diverged by step ${diverged}` : `loss after ${s.steps} steps ${controls.format(last)}`),
        { problem: s.problem, optimizer: name, options, x0, steps: s.steps, final_loss: last, edge: e,
          condition: s.condition, angle: s.angle, final: path[path.length - 1] });
    }
    draw();
    return { state: s, draw };
  }

  live.widgets = live.widgets || {};
  live.widgets.playground = playground;
})(typeof globalThis !== "undefined" ? globalThis : this);
