/* The momentum stability map (Goh's phase diagram, computed live): heavy ball's contraction per
 * step over (rate, momentum) on a quadratic with condition number kappa, the best momentum for
 * each rate, the tuned pair, and the reader's point, whose run is drawn beside the map with the
 * rate the map predicts. A click on the map moves the point.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const { problems, optim, theory, plot, controls } = live;

  function stabilityMap(container, config) {
    const s = { condition: 100, lr: 1, momentum: 0.5, steps: 200, ...config };
    const panel = controls.element("div", { class: "lr-live-controls" }, container);
    const onInput = (name, value) => { s[name] = value; draw(); };
    const sliders = {
      condition: controls.slider(panel, { name: "condition", label: "condition κ", min: 2, max: 1000, log: true, value: s.condition }, onInput),
      lr: controls.slider(panel, { name: "lr", label: "rate η (L = 1)", min: 0.01, max: 4.2, value: s.lr }, onInput),
      momentum: controls.slider(panel, { name: "momentum", label: "momentum β", min: 0, max: 0.999, value: s.momentum }, onInput),
      steps: controls.slider(panel, { name: "steps", label: "steps", min: 20, max: 1000, integer: true, value: s.steps }, onInput),
    };
    const figures = controls.element("div", { class: "lr-live-figures" }, container);
    const left = plot.canvas(figures, 340, 342, "contraction per step over rate and momentum");
    const right = plot.canvas(figures, 340, 342, "distance to the minimum against steps");
    const mapAxes = () => plot.axes(left, [50, 20, 275, 255], {
      xlim: [0, 4.2], ylim: [0, 1], xlabel: "rate η", ylabel: "momentum β",
      title: `heavy ball, κ = ${controls.format(s.condition)}`,
    });

    left.el.addEventListener("click", (event) => {
      const r = left.el.getBoundingClientRect(), ax = mapAxes();
      const lr = ax.x(((event.clientX - r.left) / r.width) * left.w);
      const beta = ax.y(((event.clientY - r.top) / r.height) * left.h);
      if (lr <= 0 || lr > 4.2 || beta < 0 || beta > 0.999) return;
      s.lr = Number(lr.toPrecision(4));
      s.momentum = Number(beta.toPrecision(4));
      sliders.lr.set(s.lr);
      sliders.momentum.set(s.momentum);
      draw();
    });

    function draw() {
      const f = problems.conditioned({ condition: s.condition });
      const [mu, L] = [f.mu, f.L];
      const rate = (lr, beta) => theory.worstRadius(lr, beta, f.curvatures);

      // left: the map, grey where heavy ball diverges
      plot.clear(left);
      const ax = mapAxes();
      left.ctx.fillStyle = "#bbb";
      left.ctx.fillRect(...ax.box);
      // colour: -log10(1 - rate), the decades of steps per e-fold; bright is fast
      const slowness = (lr, beta) => { const r = rate(lr, beta); return r < 1 ? -Math.log10(1 - r) : NaN; };
      const fastest = -Math.log10(1 - theory.worstRadius(theory.tunedPair(mu, L).lr, theory.tunedPair(mu, L).momentum, f.curvatures));
      plot.heatmap(ax, slowness, 140, { range: [fastest, fastest + 2.5], reverse: true });
      const lrs = Array.from({ length: 200 }, (_, k) => ((k + 1) / 200) * (4 / L));
      plot.line(ax, lrs, lrs.map((lr) => theory.optimalMomentum(lr, mu, L)), { color: "#fff", dash: [5, 4] });
      ax.frame();
      const tuned = theory.tunedPair(mu, L);
      plot.marker(ax, tuned.lr, tuned.momentum, { color: "#ff7f0e", shape: "star", size: 8 });
      plot.marker(ax, s.lr, s.momentum, { color: "#d62728", size: 5 });
      plot.text(left, "bright: fast · grey: diverges", 4, 325, { color: "#444" });
      plot.text(left, "dashed: best β for each η · star: tuned pair", 4, 338, { color: "#444" });

      // right: the run at the reader's point, against the predicted rate
      const run = optim.run(f, "sgd", { lr: s.lr, momentum: s.momentum }, [1, 1], s.steps);
      const dist = run.path.map((x) => Math.hypot(x[0], x[1]));
      const predicted = rate(s.lr, s.momentum);
      plot.clear(right);
      const finite = dist.filter((d) => Number.isFinite(d) && d > 0);
      const bx = plot.axes(right, [60, 20, 265, 255], {
        xlim: [0, s.steps], ylim: [Math.max(1e-16, Math.min(...finite, 1e-2) / 10), Math.max(10, ...finite.slice(0, 20))],
        ylog: true, xlabel: "step", ylabel: "distance to the minimum",
      });
      bx.frame();
      const ks = dist.map((_, k) => k);
      plot.line(bx, ks, ks.map((k) => dist[0] * predicted ** k), { color: "#888", dash: [5, 4] });
      plot.line(bx, ks, dist, { color: "#1f77b4" });

      const half = Math.floor(s.steps / 2);
      const measured = (dist[s.steps] / dist[half]) ** (1 / (s.steps - half)); // problems.measured_contraction
      controls.report(container,
        `η = ${controls.format(s.lr)}, β = ${controls.format(s.momentum)}: contraction ${controls.format(predicted)} per step ` +
        `predicted, ${Number.isFinite(measured) ? controls.format(measured) : "diverged"} measured over steps ${half}-${s.steps}; ` +
        `best β for this η: ${s.lr <= 4 / L ? controls.format(theory.optimalMomentum(s.lr, mu, L)) : "none converges"}`,
        { condition: s.condition, lr: s.lr, momentum: s.momentum, steps: s.steps, predicted, measured,
          final: run.path[s.steps], final_loss: run.loss[s.steps], tuned });
    }
    draw();
    return { state: s, draw };
  }

  live.widgets = live.widgets || {};
  live.widgets["stability-map"] = stabilityMap;
})(typeof globalThis !== "undefined" ? globalThis : this);
