/* The toy problems of lrcourse.problems, in the browser: value and gradient, float64.
 *
 * Each expression is written in the order NumPy evaluates lrcourse's, so that the
 * iterates agree with the package's to rounding (tests/test_live_figures.py checks
 * 1e-12 over 200 steps). A problem is {dim, value(x), grad(x), L, minimizers, extent}.
 * Loaded as a classic script (file:// pages cannot load ES modules); under Node the
 * test runner loads it the same way.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});

  // NumPy's np.round(h, 15): scale, round half to even, scale back
  function round15(h) {
    const y = h * 1e15;
    let r = Math.round(y);
    if (r - y === 0.5 && r % 2 !== 0) r -= 1; // Math.round takes ties up; rint takes them to even
    return r / 1e15;
  }

  /* f(x) = 1/2 sum_i h_i (R^T x)_i^2: lrcourse.problems.Quadratic(h), turned by `angle` radians.
   * With angle 0 the Hessian is diag(h); otherwise it is R diag(h) R^T. */
  function quadratic({ curvatures, angle = 0 }) {
    const h = curvatures.slice();
    const c = Math.cos(angle), s = Math.sin(angle);
    const turned = angle !== 0;
    // the coordinates along the curvature directions: u = R^T x
    const toEigen = (x) => (turned ? [c * x[0] + s * x[1], -s * x[0] + c * x[1]] : x);
    const fromEigen = (u) => (turned ? [c * u[0] - s * u[1], s * u[0] + c * u[1]] : u);
    return {
      name: "quadratic",
      dim: h.length,
      curvatures: h,
      angle,
      L: Math.max(...h),
      mu: Math.min(...h),
      minimizers: [h.map(() => 0)],
      minimum: 0,
      value(x) {
        const u = toEigen(x);
        let sum = 0; // np.sum of h u^2, then times 0.5, as Quadratic.__call__
        for (let i = 0; i < h.length; i++) sum += h[i] * (u[i] * u[i]);
        return 0.5 * sum;
      },
      grad(x) {
        const u = toEigen(x);
        return fromEigen(u.map((ui, i) => h[i] * ui)); // diag(h) x, turned back
      },
    };
  }

  /* lrcourse.problems.quadratic(condition, L, dim=2): curvatures L / condition and L. */
  function conditioned({ condition = 10, L = 1, angle = 0 }) {
    if (!(condition >= 1)) throw new RangeError("condition must be at least 1, not " + condition);
    // np.geomspace(1/condition, 1, 2) is exactly its two ends; times L, rounded to 15 decimals
    return quadratic({ curvatures: [round15(L * (1 / condition)), round15(L * 1)], angle });
  }

  /* Rosenbrock's valley (a - x1)^2 + b (x2 - x1^2)^2, minimum 0 at (a, a^2). */
  function rosenbrock({ a = 1, b = 100 } = {}) {
    return {
      name: "rosenbrock",
      dim: 2,
      a,
      b,
      // the Hessian at the minimum: [[2 + 8 b a^2, -4 b a], [-4 b a, 2 b]]; its largest eigenvalue
      L: (() => {
        const p = 2 + 8 * b * a * a, q = 2 * b, r = -4 * b * a;
        return (p + q) / 2 + Math.sqrt(((p - q) / 2) ** 2 + r * r);
      })(),
      minimizers: [[a, a * a]],
      minimum: 0,
      value([x1, x2]) {
        const d = a - x1, ridge = x2 - x1 * x1; // NumPy squares by one product
        return d * d + b * (ridge * ridge);
      },
      grad([x1, x2]) {
        const ridge = x2 - x1 * x1;
        return [2 * (x1 - a) - 4 * b * x1 * ridge, 2 * b * ridge];
      },
    };
  }

  /* h/2 x1^2 + x2^4/4 - x2^2/2: a saddle at 0 between minima -1/4 at (0, +-1). */
  function saddle({ h = 1 } = {}) {
    return {
      name: "saddle",
      dim: 2,
      h,
      L: Math.max(h, 2), // the Hessian at a minimum is diag(h, 2)
      minimizers: [[0, 1], [0, -1]],
      minimum: -0.25,
      value([x1, x2]) {
        return 0.5 * h * (x1 * x1) + 0.25 * x2 ** 4 - 0.5 * (x2 * x2);
      },
      grad([x1, x2]) {
        return [h * x1, x2 ** 3 - x2];
      },
    };
  }

  live.problems = { quadratic, conditioned, rosenbrock, saddle, round15 };
})(typeof globalThis !== "undefined" ? globalThis : this);
