/* The closed-form schedules of lrcourse.schedules: each a function step -> lr.
 *
 * Made with the package's function names and keyword names, make("cosine", {lr, total_steps}),
 * each formula evaluated in the order of the package's NumPy code, so that the rates agree with
 * lrcourse's to rounding (tests/test_live_figures.py checks every schedule over its horizon).
 * The cyclical ones also carry .momentum, as the package's do. python(name, args) writes the
 * package call that makes the same schedule.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const { PI, cos, sqrt, floor, min, max, log, log1p } = Math;

  const constant = ({ lr }) => () => lr;

  const linear = ({ start_lr, end_lr, total_steps: T }) => (t) =>
    start_lr + (end_lr - start_lr) * (min(t, T) / T); // fraction done, 1 past the horizon

  const step_decay = ({ lr, step_size, gamma = 0.1 }) => (t) => lr * gamma ** floor(t / step_size);

  const multistep = ({ lr, milestones, gamma = 0.1 }) => (t) =>
    lr * gamma ** milestones.filter((m) => m <= t).length; // milestones passed

  const exponential = ({ lr, gamma }) => (t) => lr * gamma ** t;

  const cosine = ({ lr, total_steps: T, min_lr = 0 }) => (t) =>
    min_lr + ((lr - min_lr) * (1 + cos((PI * min(t, T)) / T))) / 2;

  const polynomial = ({ lr, total_steps: T, power = 1, end_lr = 0 }) => (t) =>
    end_lr + (lr - end_lr) * (1.0 - min(t, T) / T) ** power; // fraction left, to the power

  const inverse_sqrt = ({ lr, warmup_steps: w }) => (t) => lr * min(t / w, sqrt(w / max(t, w)));

  /* SGDR: cycle i lasts T0 m^i steps from S_i = T0 (m^i - 1)/(m - 1); peak shrunk by decay^i. */
  function cosine_restarts({ lr, cycle_steps: t0, cycle_mult: m = 1, min_lr = 0, decay = 1 }) {
    const start = (i) => (m === 1 ? i * t0 : (t0 * (m ** i - 1)) / (m - 1));
    return (t) => {
      let i; // 1) which cycle: invert S_i <= t, then correct the float log by one either way
      if (m === 1) i = floor(t / t0);
      else {
        i = floor(log1p((t / t0) * (m - 1)) / log(m));
        if (start(i + 1) <= t) i += 1;
        if (start(i) > t) i -= 1;
      }
      const t_cur = t - start(i), t_i = t0 * m ** i; // 2) where in it, and how long it is
      return min_lr + ((((lr - min_lr) * decay ** i) * (1 + cos((PI * t_cur) / t_i))) / 2); // 3)
    };
  }

  /* Smith's cyclical rates, as CyclicLR in its three modes; .momentum moves the other way. */
  function cyclic({
    base_lr, max_lr, step_size_up = 2000, step_size_down = null, mode = "triangular", gamma = 1,
    base_momentum = 0.8, max_momentum = 0.9,
  }) {
    const up = step_size_up;
    const size = up + (step_size_down !== null ? step_size_down : step_size_up);
    const ratio = up / size;
    function height(t) {
      const c = floor(1 + t / size); // 1) cycle number, from 1
      const x = 1.0 + t / size - c; // 2) fraction of this cycle done
      const h = x <= ratio ? x / ratio : (x - 1) / (ratio - 1); // 3) up, then down
      if (mode === "triangular2") return h * (1 / 2.0 ** (c - 1)); // 4) amplitude scaling
      if (mode === "exp_range") return h * gamma ** t;
      return h;
    }
    const s = (t) => base_lr + (max_lr - base_lr) * height(t);
    s.momentum = (t) => max_momentum - (max_momentum - base_momentum) * height(t);
    return s;
  }

  /* Smith's one cycle, as OneCycleLR: phases (end step, start value, end value), each annealed. */
  function one_cycle({
    max_lr, total_steps: T, pct_start = 0.3, div_factor = 25, final_div_factor = 1e4,
    anneal_strategy = "cos", three_phase = false, base_momentum = 0.85, max_momentum = 0.95,
  }) {
    function phases(lr) {
      const initial = max_lr / div_factor;
      const [low, top, floor_] = lr
        ? [initial, max_lr, initial / final_div_factor]
        : [max_momentum, base_momentum, max_momentum];
      const peak = pct_start * T - 1, last = T - 1;
      if (!three_phase) return [[peak, low, top], [last, top, floor_]]; // 1) up, 2) down
      const back = 2 * pct_start * T - 2;
      return [[peak, low, top], [back, top, low], [last, low, floor_]]; // 1) up, 2) back, 3) floor
    }
    function anneal(t, lr) {
      const ps = phases(lr);
      let start = 0.0;
      for (let k = 0; k < ps.length; k++) {
        const [end, a, z] = ps[k];
        if (k === ps.length - 1 || t <= end) { // the first phase not over yet
          const tau = end > start ? min(max((t - start) / (end - start), 0.0), 1.0) : 1.0;
          return anneal_strategy === "cos" ? z + ((a - z) / 2.0) * (cos(PI * tau) + 1) : (z - a) * tau + a;
        }
        start = end;
      }
    }
    const s = (t) => anneal(t, true);
    s.momentum = (t) => anneal(t, false);
    return s;
  }

  /* Linear warmup from start_lr to where the schedule starts, then the schedule on its own clock. */
  function warmup({ schedule, warmup_steps: w, start_lr = 0 }) {
    return (t) => {
      if (w === 0 || t >= w) return schedule(max(t - w, 0.0));
      const target = schedule(0.0);
      return start_lr + (target - start_lr) * (min(t, w) / w);
    };
  }

  /* schedules[i] from boundaries[i - 1] on, each started at its own step 0. */
  function join({ schedules, boundaries }) {
    const starts = [0, ...boundaries];
    return (t) => {
      let i = starts.length - 1;
      while (starts[i] > t) i -= 1; // 1) which part
      return schedules[i](t - starts[i]); // 2) on its own clock
    };
  }

  const COOLDOWNS = { linear: (f) => 1 - f, cosine: (f) => (1 + cos(PI * f)) / 2, "1-sqrt": (f) => 1 - sqrt(f) };

  /* Warmup-stable-decay: ramp to peak_lr, hold it, cool down to min_lr along k(f). */
  function wsd({ peak_lr, warmup_steps: w, stable_steps, decay_steps, decay = "linear", min_lr = 0 }) {
    const cooldown_start = w + stable_steps;
    return (t) => {
      if (t < w) return peak_lr * (min(t, w) / max(w, 1)); // 1) warmup
      if (t < cooldown_start) return peak_lr; // 2) stable
      const f = min(max((t - cooldown_start) / decay_steps, 0.0), 1.0); // fraction of the cooldown done
      return min_lr + (peak_lr - min_lr) * COOLDOWNS[decay](f); // 3) cooldown, then the floor
    };
  }

  const MAKERS = {
    constant, linear, step_decay, multistep, exponential, cosine, polynomial, inverse_sqrt,
    cosine_restarts, cyclic, one_cycle, wsd,
  };

  /* A schedule by its lrcourse.schedules name; {warmup_steps} wraps it in warmup(). */
  function make(name, args, warmup_steps = 0) {
    const maker = MAKERS[name];
    if (!maker) throw new RangeError("no schedule " + name + "; one of " + Object.keys(MAKERS).join(", "));
    const s = maker(args);
    return warmup_steps > 0 ? warmup({ schedule: s, warmup_steps }) : s;
  }

  const POSITIONAL = {
    constant: ["lr"], linear: ["start_lr", "end_lr"], step_decay: ["lr"], multistep: ["lr", "milestones"],
    exponential: ["lr"], cosine: ["lr"], polynomial: ["lr"], inverse_sqrt: ["lr"], cosine_restarts: ["lr"],
    cyclic: ["base_lr", "max_lr"], one_cycle: ["max_lr"], wsd: ["peak_lr"],
  };

  function pyValue(x) {
    if (Array.isArray(x)) return "[" + x.map(pyValue).join(", ") + "]";
    if (typeof x === "string") return JSON.stringify(x);
    if (typeof x === "boolean") return x ? "True" : "False";
    if (x === null) return "None";
    return String(x); // the shortest text that reads back as the same double, as Python's repr
  }

  /* The package call: schedules.cosine(0.1, total_steps=1000), inside warmup(...) if warmed up. */
  function python(name, args, warmup_steps = 0) {
    const first = POSITIONAL[name] || [];
    const parts = first.filter((k) => k in args).map((k) => pyValue(args[k]));
    for (const [k, v] of Object.entries(args)) if (!first.includes(k)) parts.push(k + "=" + pyValue(v));
    const call = "schedules." + name + "(" + parts.join(", ") + ")";
    return warmup_steps > 0 ? "schedules.warmup(" + call + ", warmup_steps=" + warmup_steps + ")" : call;
  }

  live.schedules = { make, python, warmup, join, COOLDOWNS, names: Object.keys(MAKERS) };
})(typeof globalThis !== "undefined" ? globalThis : this);
