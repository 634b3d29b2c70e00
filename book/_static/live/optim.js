/* The update rules of lrcourse.optim, on plain arrays of float64: SGD (heavy ball, Nesterov),
 * Adagrad, RMSprop, Adam and AdamW.
 *
 * Each rule is one statement per equation, in the order of operations of the package's
 * (torch's) code, formula in the comment, so that runs agree to rounding with
 * lrcourse.problems.run(problem, lrcourse.optim.<Name>, ...) in float64. An optimizer is
 * made with its PyTorch keyword names, make("adam", {lr, betas, eps, ...}), and
 * step(theta, g) returns the next theta (theta is not changed).
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const zeros = (n) => new Array(n).fill(0);

  // torch.lerp(a, b, w): a + w (b - a) for w < 0.5, else b - (b - a)(1 - w)
  function lerp(a, b, w) {
    return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
  }

  /* SGD: g <- g + lambda theta; b_1 = g_1, b_t = beta b_{t-1} + (1 - tau) g_t;
   * g <- g + beta b_t (Nesterov) or b_t; theta_t = theta_{t-1} - lr g. */
  function sgd({ lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false }) {
    let b = null;
    return {
      step(theta, grad) {
        return theta.map((th, i) => {
          let g = grad[i];
          if (weight_decay !== 0) g = g + weight_decay * th; // g <- g + lambda theta
          if (momentum !== 0) {
            if (b === null) b = zeros(theta.length);
            b[i] = this.t === 0 ? g : b[i] * momentum + (1 - dampening) * g; // b_t
            g = nesterov ? g + momentum * b[i] : b[i]; // Nesterov looks one step ahead
          }
          return th + -lr * g; // theta_t = theta_{t-1} - lr g_t
        });
      },
    };
  }

  /* Adagrad: eta_t = eta / (1 + (t - 1) delta); G_t = G_{t-1} + g_t^2;
   * theta_t = theta_{t-1} - eta_t g_t / (sqrt(G_t) + eps). */
  function adagrad({ lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10 }) {
    let G = null;
    return {
      step(theta, grad) {
        if (G === null) G = new Array(theta.length).fill(initial_accumulator_value);
        const t = this.t + 1;
        const lr_t = lr / (1 + (t - 1) * lr_decay); // eta_t
        return theta.map((th, i) => {
          let g = grad[i];
          if (weight_decay !== 0) g = g + weight_decay * th;
          G[i] = G[i] + 1 * g * g; // G_t = G_{t-1} + g_t^2
          return th + (-lr_t * g) / (Math.sqrt(G[i]) + eps); // theta_t
        });
      },
    };
  }

  /* RMSprop: v_t = alpha v_{t-1} + (1 - alpha) g_t^2; d_t = sqrt(v_t - gbar_t^2) + eps (centered)
   * or sqrt(v_t) + eps; b_t = beta b_{t-1} + g_t / d_t, theta_t = theta_{t-1} - lr b_t
   * (or theta_{t-1} - lr g_t / d_t without momentum). */
  function rmsprop({ lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0, centered = false }) {
    let v = null, gbar = null, b = null;
    return {
      step(theta, grad) {
        if (v === null) [v, gbar, b] = [zeros(theta.length), zeros(theta.length), zeros(theta.length)];
        return theta.map((th, i) => {
          let g = grad[i];
          if (weight_decay !== 0) g = g + weight_decay * th;
          v[i] = v[i] * alpha + (1 - alpha) * g * g; // v_t
          let d;
          if (centered) {
            gbar[i] = lerp(gbar[i], g, 1 - alpha); // gbar_t = alpha gbar_{t-1} + (1 - alpha) g_t
            d = Math.sqrt(v[i] + -1 * gbar[i] * gbar[i]) + eps; // d_t = sqrt(v_t - gbar_t^2) + eps
          } else {
            d = Math.sqrt(v[i]) + eps; // d_t = sqrt(v_t) + eps
          }
          if (momentum > 0) {
            b[i] = b[i] * momentum + (1 * g) / d; // b_t = beta b_{t-1} + g_t / d_t
            return th + -lr * b[i]; // theta_t = theta_{t-1} - lr b_t
          }
          return th + (-lr * g) / d; // theta_t = theta_{t-1} - lr g_t / d_t
        });
      },
    };
  }

  /* Adam: m_t = beta1 m_{t-1} + (1 - beta1) g_t; v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
   * m_hat = m_t / (1 - beta1^t); v_hat = v_t / (1 - beta2^t);
   * theta_t = theta_{t-1} - lr m_hat / (sqrt(v_hat) + eps). With weight decay lambda, L2 adds
   * lambda theta to g; decoupled (AdamW) first shrinks theta by (1 - lr lambda).
   * biasCorrection: false drops the two corrections (the book's "Adam without bias correction"). */
  function adam({
    lr = 1e-3,
    betas = [0.9, 0.999],
    eps = 1e-8,
    weight_decay = 0,
    decoupled_weight_decay = false,
    amsgrad = false,
    biasCorrection = true,
  }) {
    const [beta1, beta2] = betas;
    let m = null, v = null, vmax = null;
    return {
      step(theta, grad) {
        if (m === null) [m, v, vmax] = [zeros(theta.length), zeros(theta.length), zeros(theta.length)];
        const t = this.t + 1;
        const c1 = biasCorrection ? 1 - beta1 ** t : 1; // 1 - beta1^t
        const c2 = biasCorrection ? 1 - beta2 ** t : 1; // 1 - beta2^t
        return theta.map((th, i) => {
          let g = grad[i];
          if (weight_decay !== 0 && decoupled_weight_decay) th = th * (1 - lr * weight_decay); // AdamW
          else if (weight_decay !== 0) g = g + weight_decay * th; // L2
          m[i] = lerp(m[i], g, 1 - beta1); // m_t = beta1 m_{t-1} + (1 - beta1) g_t
          v[i] = v[i] * beta2 + (1 - beta2) * g * g; // v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
          let vt = v[i];
          if (amsgrad) vt = vmax[i] = Math.max(vmax[i], v[i]); // v_max_t = max(v_max_{t-1}, v_t)
          const m_hat = m[i] / c1; // m_hat = m_t / (1 - beta1^t)
          const v_hat = vt / c2; // v_hat = v_t / (1 - beta2^t)
          return th + (-lr * m_hat) / (Math.sqrt(v_hat) + eps); // theta_t
        });
      },
    };
  }

  function adamw(options) {
    return adam({ weight_decay: 1e-2, ...options, decoupled_weight_decay: true });
  }

  const RULES = { sgd, adagrad, rmsprop, adam, adamw };

  /* An optimizer by its lrcourse.optim name (lower case); it counts its own steps in .t. */
  function make(name, options = {}) {
    const rule = RULES[name];
    if (!rule) throw new RangeError("no optimizer " + name + "; one of " + Object.keys(RULES).join(", "));
    const opt = rule(options);
    opt.t = 0;
    const step = opt.step;
    opt.step = function (theta, grad) {
      const next = step.call(this, theta, grad);
      this.t += 1;
      return next;
    };
    return opt;
  }

  /* lrcourse.problems.run: steps + 1 iterates, and the loss at each. */
  function run(problem, name, options, x0, steps) {
    const opt = make(name, options);
    const path = [x0.slice()];
    for (let k = 0; k < steps; k++) {
      const theta = path[k];
      path.push(opt.step(theta, problem.grad(theta)));
    }
    return { path, loss: path.map((x) => problem.value(x)) };
  }

  live.optim = { make, run, lerp, names: Object.keys(RULES) };
})(typeof globalThis !== "undefined" ? globalThis : this);
