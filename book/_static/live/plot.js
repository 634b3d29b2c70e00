/* Drawing for the live figures: HiDPI canvases, axes (linear or log), lines, a heat map with a
 * colour map, contour lines by marching squares, and the sliders and menus that drive a figure.
 * No dependency: the book ships these files and loads them only on pages with a live figure.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});
  const FONT = "12px system-ui, sans-serif";

  /* A canvas of w x h CSS pixels, drawn at the screen's resolution. */
  function canvas(parent, w, h, label) {
    const c = document.createElement("canvas");
    const ratio = root.devicePixelRatio || 1;
    c.width = Math.round(w * ratio);
    c.height = Math.round(h * ratio);
    c.style.width = "100%";
    c.style.maxWidth = w + "px";
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", label);
    parent.appendChild(c);
    const ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.font = FONT;
    return { el: c, ctx, w, h };
  }

  /* Axes in a box of the canvas: data -> pixels, log scales by exponent. */
  function axes(cv, box, { xlim, ylim, xlog = false, ylog = false, xlabel = "", ylabel = "", title = "" }) {
    const [left, top, width, height] = box;
    const fx = xlog ? Math.log10 : (v) => v, fy = ylog ? Math.log10 : (v) => v;
    const [x0, x1] = xlim.map(fx), [y0, y1] = ylim.map(fy);
    const ax = {
      cv, box, xlim, ylim, xlog, ylog,
      px: (x) => left + ((fx(x) - x0) / (x1 - x0)) * width,
      py: (y) => top + height - ((fy(y) - y0) / (y1 - y0)) * height,
      x: (px) => { const v = x0 + ((px - left) / width) * (x1 - x0); return xlog ? 10 ** v : v; },
      y: (py) => { const v = y0 + ((top + height - py) / height) * (y1 - y0); return ylog ? 10 ** v : v; },
    };
    ax.clip = () => { cv.ctx.save(); cv.ctx.beginPath(); cv.ctx.rect(left, top, width, height); cv.ctx.clip(); };
    ax.unclip = () => cv.ctx.restore();
    ax.frame = () => frame(ax, xlabel, ylabel, title);
    return ax;
  }

  function ticks(lo, hi, log) {
    if (log) {
      const out = [];
      const step = Math.max(1, Math.ceil((Math.log10(hi) - Math.log10(lo)) / 6));
      for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e += step) out.push(10 ** e);
      return out;
    }
    const raw = (hi - lo) / 5, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  function tickText(v, log) {
    if (log) return "1e" + Math.round(Math.log10(v));
    return String(Number(v.toPrecision(4)));
  }

  function frame(ax, xlabel, ylabel, title) {
    const { ctx } = ax.cv, [left, top, width, height] = ax.box;
    ctx.save();
    ctx.strokeStyle = "#444";
    ctx.fillStyle = "#222";
    ctx.lineWidth = 1;
    ctx.strokeRect(left, top, width, height);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const v of ticks(...ax.xlim, ax.xlog)) {
      const x = ax.px(v);
      ctx.beginPath(); ctx.moveTo(x, top + height); ctx.lineTo(x, top + height + 4); ctx.stroke();
      ctx.fillText(tickText(v, ax.xlog), x, top + height + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of ticks(...ax.ylim, ax.ylog)) {
      const y = ax.py(v);
      ctx.beginPath(); ctx.moveTo(left - 4, y); ctx.lineTo(left, y); ctx.stroke();
      ctx.fillText(tickText(v, ax.ylog), left - 6, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(xlabel, left + width / 2, top + height + 36);
    ctx.fillText(title, left + width / 2, top - 6);
    ctx.translate(Math.max(left - 44, 8), top + height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
  }

  /* A polyline through (xs[i], ys[i]); points that are not finite break it. */
  function line(ax, xs, ys, { color = "#1f77b4", width = 1.5, dash = [], dots = false } = {}) {
    const { ctx } = ax.cv;
    ctx.save();
    ax.clip();
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xs.length; i++) {
      const x = ax.px(xs[i]), y = ax.py(ys[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x) > 1e6 || Math.abs(y) > 1e6) { pen = false; continue; }
      pen ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
    if (dots) for (let i = 0; i < xs.length; i++) {
      const x = ax.px(xs[i]), y = ax.py(ys[i]);
      if (Math.abs(x) < 1e6 && Math.abs(y) < 1e6) { ctx.beginPath(); ctx.arc(x, y, 2, 0, 2 * Math.PI); ctx.fill(); }
    }
    ax.unclip();
    ctx.restore();
  }

  function marker(ax, x, y, { color = "#d62728", size = 5, shape = "circle" } = {}) {
    const { ctx } = ax.cv, px = ax.px(x), py = ax.py(y);
    ctx.save();
    ctx.fillStyle = color;
    ctx.strokeStyle = "#fff";
    ctx.beginPath();
    if (shape === "star") {
      for (let k = 0; k < 10; k++) {
        const r = k % 2 ? size / 2.2 : size, a = -Math.PI / 2 + (k * Math.PI) / 5;
        ctx.lineTo(px + r * Math.cos(a), py + r * Math.sin(a));
      }
      ctx.closePath();
    } else ctx.arc(px, py, size, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  // viridis at nine stops, interpolated
  const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
  function colour(u) {
    if (!Number.isFinite(u)) return [0, 0, 0]; // drawn transparent by heatmap()
    const v = Math.min(Math.max(u, 0), 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(v), VIRIDIS.length - 2);
    const f = v - i;
    return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
  }

  /* Fill the axes with value(x, y) on n x n cells, coloured from the smallest finite value to the
   * largest (or to `range`); returns the grid, for contours(). */
  function heatmap(ax, value, n = 120, { alpha = 255, reverse = false, range = null } = {}) {
    const { ctx } = ax.cv, [left, top, width, height] = ax.box;
    const grid = [];
    for (let j = 0; j < n; j++) {
      const y = ax.y(top + height - ((j + 0.5) / n) * height), row = [];
      for (let i = 0; i < n; i++) row.push(value(ax.x(left + ((i + 0.5) / n) * width), y));
      grid.push(row);
    }
    const finite = grid.flat().filter(Number.isFinite);
    const [lo, hi] = range || [Math.min(...finite), Math.max(...finite)];
    const img = ctx.createImageData(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      const u = (grid[j][i] - lo) / (hi - lo || 1);
      const [r, g, b] = colour(reverse ? 1 - u : u);
      img.data.set([r, g, b, Number.isFinite(u) ? alpha : 0], 4 * ((n - 1 - j) * n + i));
    }
    const off = document.createElement("canvas");
    off.width = off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, left, top, width, height);
    ctx.restore();
    grid.lo = lo;
    grid.hi = hi;
    return grid;
  }

  /* Contour lines of a grid from heatmap() at the given levels (marching squares). */
  function contours(ax, grid, levels, { color = "rgba(255,255,255,0.7)", width = 0.8 } = {}) {
    const { ctx } = ax.cv, [left, top, w, h] = ax.box, n = grid.length;
    const X = (i) => left + ((i + 0.5) / n) * w, Y = (j) => top + h - ((j + 0.5) / n) * h;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const level of levels) {
      for (let j = 0; j < n - 1; j++) for (let i = 0; i < n - 1; i++) {
        const v = [grid[j][i], grid[j][i + 1], grid[j + 1][i + 1], grid[j + 1][i]];
        const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
        const cuts = [];
        for (let e = 0; e < 4; e++) {
          const a = v[e], b = v[(e + 1) % 4];
          if ((a < level) !== (b < level)) {
            const f = (level - a) / (b - a), [ia, ja] = corners[e], [ib, jb] = corners[(e + 1) % 4];
            cuts.push([X(ia + f * (ib - ia)), Y(ja + f * (jb - ja))]);
          }
        }
        for (let c = 0; c + 1 < cuts.length; c += 2) { ctx.moveTo(...cuts[c]); ctx.lineTo(...cuts[c + 1]); }
      }
    }
    ctx.stroke();
    ctx.restore();
  }

  function text(cv, s, x, y, { align = "left", color = "#222", base = "alphabetic" } = {}) {
    const { ctx } = cv;
    ctx.save();
    ctx.fillStyle = color;
    ctx.textAlign = align;
    ctx.textBaseline = base;
    ctx.fillText(s, x, y);
    ctx.restore();
  }

  function clear(cv) {
    cv.ctx.clearRect(0, 0, cv.w, cv.h);
  }

  live.plot = { canvas, axes, line, marker, heatmap, contours, colour, text, clear, ticks };
})(typeof globalThis !== "undefined" ? globalThis : this);
