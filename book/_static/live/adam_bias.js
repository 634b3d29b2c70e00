/* Adam's bias correction: the size of each step, in units of lr, for a constant gradient, with and
 * without the correction, as beta1 and beta2 move. Both runs are Adam of the engine (equal to
 * lrcourse.optim.Adam) on the bowl f(x) = x^2 / 2 started at 1e6, where the gradient is 1e6 to
 * within a few parts in 1e5; beside them, the averages that cause the difference.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const { problems, optim, theory, plot, controls } = live;
  const LR = 1e-3, START = [1e6];

  function adamBias(container, config) {
    const s = { beta1: 0.9, beta2: 0.999, horizon: 3000, ...config };
    const panel = controls.element("div", { class: "lr-live-controls" }, container);
    const onInput = (name, value) => { s[name] = value; draw(); };
    controls.slider(panel, { name: "beta1", label: "β1", min: 0, max: 0.999, value: s.beta1 }, onInput);
    controls.slider(panel, { name: "beta2", label: "β2", min: 0.9, max: 0.99999, complement: true, value: s.beta2 }, onInput);
    controls.slider(panel, { name: "horizon", label: "steps", min: 10, max: 10000, log: true, integer: true, value: s.horizon }, onInput);
    const figures = controls.element("div", { class: "lr-live-figures" }, container);
    const left = plot.canvas(figures, 340, 320, "step size over lr, with and without bias correction");
    const right = plot.canvas(figures, 340, 320, "the moving averages without correction");
    const bowl = problems.quadratic({ curvatures: [1] });

    function steps(biasCorrection) {
      const { path } = optim.run(bowl, "adam", { lr: LR, betas: [s.beta1, s.beta2], biasCorrection }, START, s.horizon);
      return { path, size: path.slice(1).map((x, k) => (path[k][0] - x[0]) / LR) }; // step t = 1, 2, ...
    }

    function draw() {
      const corrected = steps(true), raw = steps(false);
      const t = raw.size.map((_, k) => k + 1);
      const ratio = t.map((k) => theory.uncorrectedRatio(s.beta1, s.beta2, k));
      const peak = raw.size.reduce((best, v, k) => (v > raw.size[best] ? k : best), 0);
      const top = Math.max(2, raw.size[peak] * 1.15, ...corrected.size);

      plot.clear(left);
      const ax = plot.axes(left, [55, 20, 270, 255], {
        xlim: [1, s.horizon], ylim: [0, top], xlog: true, xlabel: "step t", ylabel: "step size / lr",
      });
      ax.frame();
      plot.line(ax, t, ratio, { color: "#888", width: 3 });
      plot.line(ax, t, raw.size, { color: "#d62728" });
      plot.line(ax, t, corrected.size, { color: "#1f77b4" });
      plot.marker(ax, peak + 1, raw.size[peak], { color: "#d62728", size: 4 });
      plot.text(left, "red: without correction (grey: its formula)", 320, 252, { align: "right", color: "#d62728" });
      plot.text(left, "blue: Adam, corrected", 320, 268, { align: "right", color: "#1f77b4" });

      plot.clear(right);
      const bx = plot.axes(right, [55, 20, 270, 255], {
        xlim: [1, s.horizon], ylim: [0, 1.05], xlog: true, xlabel: "step t", ylabel: "average / its target",
      });
      bx.frame();
      plot.line(bx, t, t.map((k) => 1 - s.beta1 ** k), { color: "#2ca02c" });
      plot.line(bx, t, t.map((k) => Math.sqrt(1 - s.beta2 ** k)), { color: "#9467bd" });
      plot.text(right, "green: m_t / g = 1 − β1^t", 320, 252, { align: "right", color: "#2ca02c" });
      plot.text(right, "purple: √v_t / |g| = √(1 − β2^t)", 320, 268, { align: "right", color: "#9467bd" });

      controls.report(container,
        `β1 = ${controls.format(s.beta1)}, β2 = ${s.beta2}: first step ${controls.format(raw.size[0])} lr without ` +
        `correction, ${controls.format(corrected.size[0])} lr with it; without it the steps peak at ` +
        `${controls.format(raw.size[peak])} lr at step ${peak + 1}`,
        { beta1: s.beta1, beta2: s.beta2, horizon: s.horizon, lr: LR, x0: START[0],
          first_uncorrected: raw.size[0], first_corrected: corrected.size[0], peak: raw.size[peak], peak_step: peak + 1,
          final_corrected: corrected.path[s.horizon][0], final_uncorrected: raw.path[s.horizon][0] });
    }
    draw();
    return { state: s, draw };
  }

  live.widgets = live.widgets || {};
  live.widgets["adam-bias"] = adamBias;
})(typeof globalThis !== "undefined" ? globalThis : this);
