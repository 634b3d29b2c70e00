/* Closed forms the live figures draw beside the runs: heavy ball's contraction on a quadratic,
 * its best momentum for a rate, and the size of Adam's uncorrected step.
 *
 * The same formulas as the chapters (book/foundations/momentum, book/adaptive/adam);
 * tests/test_live_figures.py checks them against NumPy and against runs of lrcourse.optim.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});

  /* Heavy ball on curvature h: the larger |root| of z^2 - (1 + beta - lr h) z + beta. */
  function heavyBallRadius(lr, beta, h) {
    const a = 1 + beta - lr * h;
    const disc = a * a - 4 * beta;
    if (disc < 0) return Math.sqrt(beta); // complex pair: |z|^2 = beta
    const root = Math.sqrt(disc);
    return Math.max(Math.abs(a + root), Math.abs(a - root)) / 2;
  }

  /* The slowest curvature decides: the largest radius over the quadratic's curvatures. */
  function worstRadius(lr, beta, curvatures) {
    return Math.max(...curvatures.map((h) => heavyBallRadius(lr, beta, h)));
  }

  /* For a rate lr, the momentum with the smallest worst radius on curvatures in [mu, L]:
   * the least beta that puts both ends' roots on the circle |z| = sqrt(beta). */
  function optimalMomentum(lr, mu, L) {
    return Math.max((1 - Math.sqrt(lr * mu)) ** 2, (1 - Math.sqrt(lr * L)) ** 2);
  }

  /* The tuned pair: lr = 4 / (sqrt(L) + sqrt(mu))^2, beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2. */
  function tunedPair(mu, L) {
    const rootKappa = Math.sqrt(L / mu);
    return { lr: 4 / (Math.sqrt(L) + Math.sqrt(mu)) ** 2, momentum: ((rootKappa - 1) / (rootKappa + 1)) ** 2 };
  }

  /* Adam's step without bias correction, in units of lr, for a constant gradient: r(t). */
  function uncorrectedRatio(beta1, beta2, t) {
    return (1 - beta1 ** t) / Math.sqrt(1 - beta2 ** t);
  }

  live.theory = { heavyBallRadius, worstRadius, optimalMomentum, tunedPair, uncorrectedRatio };
})(typeof globalThis !== "undefined" ? globalThis : this);
