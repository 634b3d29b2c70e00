/* The schedule explorer: every schedule of lrcourse.schedules, its arguments as sliders, its rate
 * curve (and momentum, for the cyclical ones), and the Python call that makes the same schedule.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const { schedules, plot, controls } = live;

  // each schedule's arguments: slider specs, starting from the package's default where it has one
  const rate = (name, value = 0.1) => ({ name, label: name, min: 1e-4, max: 1, log: true, value });
  const floor = (name) => ({ name, label: name, min: 0, max: 0.05, value: 0 }); // min_lr, end_lr: 0 by default
  const whole = (name, value, max = 5000, min = 1) => ({ name, label: name, min, max, integer: true, value });
  const number = (name, value, min, max, extra = {}) => ({ name, label: name, min, max, value, ...extra });
  const choice = (name, value, choices) => ({ name, label: name, value, choices });
  const SPECS = {
    constant: [rate("lr")],
    linear: [rate("start_lr", 0.1), floor("end_lr"), whole("total_steps", 1000)],
    step_decay: [rate("lr"), whole("step_size", 300), number("gamma", 0.1, 0.01, 1)],
    multistep: [rate("lr"), whole("first", 500), whole("second", 800), number("gamma", 0.1, 0.01, 1)],
    exponential: [rate("lr"), number("gamma", 0.997, 0.9, 0.99999, { complement: true })],
    cosine: [rate("lr"), whole("total_steps", 1000), floor("min_lr")],
    polynomial: [rate("lr"), whole("total_steps", 1000), number("power", 1, 0.1, 5), floor("end_lr")],
    inverse_sqrt: [rate("lr"), whole("warmup_steps", 100)],
    cosine_restarts: [rate("lr"), whole("cycle_steps", 100), number("cycle_mult", 1, 1, 3), floor("min_lr"),
      number("decay", 1, 0.1, 1)],
    cyclic: [rate("base_lr", 0.001), rate("max_lr", 0.1), whole("step_size_up", 2000), whole("step_size_down", 2000),
      choice("mode", "triangular", ["triangular", "triangular2", "exp_range"]), number("gamma", 1, 0.99, 1)],
    one_cycle: [rate("max_lr", 0.1), whole("total_steps", 1000), number("pct_start", 0.3, 0.01, 0.99),
      number("div_factor", 25, 1, 1000, { log: true }), number("final_div_factor", 1e4, 1, 1e6, { log: true }),
      choice("anneal_strategy", "cos", ["cos", "linear"]), choice("three_phase", "false", ["false", "true"])],
    wsd: [rate("peak_lr", 0.1), whole("warmup_steps", 100, 5000, 0), whole("stable_steps", 700, 5000, 0),
      whole("decay_steps", 200), choice("decay", "linear", ["linear", "cosine", "1-sqrt"]), floor("min_lr")],
  };
  const WARMS = new Set(["constant", "linear", "step_decay", "multistep", "exponential", "cosine", "polynomial",
    "cosine_restarts"]); // the ones that take a warmup in front (the others have their own)

  /* The package's arguments from the sliders' values (multistep's two milestones become a list). */
  function packageArgs(name, values) {
    const args = { ...values };
    if (name === "multistep") {
      args.milestones = [Math.min(values.first, values.second), Math.max(values.first, values.second)];
      delete args.first;
      delete args.second;
    }
    if (name === "one_cycle") args.three_phase = values.three_phase === "true" || values.three_phase === true;
    return args;
  }

  function scheduleExplorer(container, config) {
    const s = { schedule: "cosine", args: {}, warmup_steps: 0, horizon: 1200, ...config };
    const values = {};
    const top = controls.element("div", { class: "lr-live-controls" }, container);
    const panel = controls.element("div", { class: "lr-live-controls" }, container);
    const code = controls.element("pre", { class: "lr-live-code" }, container);
    const figures = controls.element("div", { class: "lr-live-figures" }, container);
    const cv = plot.canvas(figures, 690, 300, "learning rate against steps");
    const names = Object.fromEntries(Object.keys(SPECS).map((n) => [n, n]));
    controls.menu(top, { name: "schedule", label: "schedule", choices: names, value: s.schedule }, (_, v) => {
      s.schedule = v;
      s.args = {};
      build();
    });
    const warm = controls.slider(top, { name: "warmup_steps", label: "warmup() steps", min: 0, max: 1000, integer: true,
      value: s.warmup_steps }, (_, v) => { s.warmup_steps = v; draw(); });
    controls.slider(top, { name: "horizon", label: "steps shown", min: 100, max: 10000, log: true, integer: true,
      value: s.horizon }, (_, v) => { s.horizon = v; draw(); });

    function build() {
      panel.textContent = "";
      for (const k of Object.keys(values)) delete values[k];
      const given = { ...s.args };
      if (s.schedule === "multistep" && given.milestones) [given.first, given.second] = given.milestones;
      for (const spec of SPECS[s.schedule]) {
        values[spec.name] = spec.name in given ? given[spec.name] : spec.value;
        const onInput = (name, v) => { values[name] = v; draw(); };
        if (spec.choices) {
          const choices = Object.fromEntries(spec.choices.map((c) => [c, c]));
          controls.menu(panel, { ...spec, choices, value: String(values[spec.name]) }, onInput);
        } else controls.slider(panel, { ...spec, value: values[spec.name] }, onInput);
      }
      warm.show(WARMS.has(s.schedule));
      draw();
    }

    function draw() {
      const args = packageArgs(s.schedule, values);
      const warmup = WARMS.has(s.schedule) ? s.warmup_steps : 0;
      const f = schedules.make(s.schedule, args, warmup);
      const t = Array.from({ length: s.horizon + 1 }, (_, k) => k);
      const lr = t.map(f);
      const momentum = f.momentum ? t.map(f.momentum) : null;
      plot.clear(cv);
      const peak = Math.max(...lr);
      const ax = plot.axes(cv, [60, 20, 570, 235], {
        xlim: [0, s.horizon], ylim: [0, peak > 0 ? peak * 1.08 : 1], xlabel: "step", ylabel: "learning rate",
      });
      ax.frame();
      plot.line(ax, t, lr, { color: "#1f77b4", width: 2 });
      // the last rate, which a linear axis cannot show when it is a thousandth of the peak
      plot.text(cv, `last: ${controls.format(lr[s.horizon])}`, 626, 50, { align: "right", color: "#1f77b4" });
      if (momentum) {
        const mx = plot.axes(cv, [60, 20, 570, 235], { xlim: [0, s.horizon], ylim: [0, 1.05] });
        plot.line(mx, t, momentum, { color: "#ff7f0e", dash: [5, 4] });
        plot.text(cv, "dashed: .momentum (0 to 1)", 626, 34, { align: "right", color: "#ff7f0e" });
      }
      const python = schedules.python(s.schedule, args, warmup);
      code.textContent = python;
      const sample = Array.from({ length: 21 }, (_, k) => Math.round((k * s.horizon) / 20));
      controls.report(container,
        `${s.schedule}: rate ${controls.format(lr[0])} at step 0, largest ${controls.format(peak)} ` +
        `(step ${lr.indexOf(peak)}), ${controls.format(lr[s.horizon])} at step ${s.horizon}`,
        { schedule: s.schedule, args, warmup_steps: warmup, python, steps: sample, lr: sample.map((k) => lr[k]),
          momentum: momentum ? sample.map((k) => momentum[k]) : null });
    }
    build();
    return { state: s, draw };
  }

  live.widgets = live.widgets || {};
  live.widgets["schedule-explorer"] = scheduleExplorer;
})(typeof globalThis !== "undefined" ? globalThis : this);
