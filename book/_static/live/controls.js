/* The controls of the live figures: labelled sliders (linear, logarithmic or whole numbers) and
 * menus. Each calls back on every movement, so the figure redraws as the reader drags.
 */
(function (root) {
  "use strict";
  const live = (root.LRLive = root.LRLive || {});

  function element(tag, attrs = {}, parent = null) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") el.textContent = v;
      else el.setAttribute(k, v);
    }
    if (parent) parent.appendChild(el);
    return el;
  }

  function format(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }

  /* A slider: {name, label, min, max, value, log, integer, steps}; .value reads it, .set(v) moves it. */
  function slider(parent, spec, onInput) {
    // complement: a log scale on 1 - x, for averaging constants near 1 (beta2 = 0.9, 0.99, 0.999, ...)
    const { name, label, min, max, log = false, complement = false, integer = false, steps = 400 } = spec;
    const row = element("label", { class: "lr-live-slider" }, parent);
    element("span", { class: "lr-live-label", text: label }, row);
    const track = element("span", { class: "lr-live-track" }, row); // holds marks along the slider
    const input = element("input", { type: "range", name, min: "0", max: String(steps), step: "1" }, track);
    const out = element("output", { class: "lr-live-value" }, row);
    const forward = complement ? (x) => -Math.log10(1 - x) : log ? Math.log10 : (x) => x;
    const back = complement ? (v) => 1 - 10 ** -v : log ? (v) => 10 ** v : (v) => v;
    const lo = forward(min), hi = forward(max);
    const toValue = (k) => {
      if (k === toIndex(spec.value)) return spec.value; // back at the start: exactly the chapter's setting
      const x = back(lo + ((hi - lo) * k) / steps);
      return integer ? Math.round(x) : Number(x.toPrecision(complement ? 8 : 6));
    };
    const toIndex = (x) => Math.round(((forward(x) - lo) / (hi - lo)) * steps);
    const s = {
      row, track, input, spec,
      get value() { return s.current; },
      set(x) { s.current = x; input.value = String(toIndex(x)); out.value = (spec.format || format)(x); },
      position: (x) => (forward(x) - lo) / (hi - lo), // 0..1 along the track
      show(on) { row.style.display = on ? "" : "none"; },
    };
    input.addEventListener("input", () => {
      s.current = toValue(Number(input.value));
      out.value = (spec.format || format)(s.current);
      onInput(name, s.current);
    });
    s.set(spec.value);
    return s;
  }

  /* A menu of {value: label} choices. */
  function menu(parent, { name, label, choices, value }, onInput) {
    const row = element("label", { class: "lr-live-slider" }, parent);
    element("span", { class: "lr-live-label", text: label }, row);
    const select = element("select", { name }, row);
    for (const [v, text] of Object.entries(choices)) element("option", { value: v, text }, select);
    select.value = value;
    select.addEventListener("change", () => onInput(name, select.value));
    return { row, select, get value() { return select.value; }, show(on) { row.style.display = on ? "" : "none"; } };
  }

  /* Each live figure reports what it shows: a line of text for the reader, data-state for tests. */
  function report(container, line, state) {
    let p = container.querySelector(".lr-live-readout");
    if (!p) p = element("p", { class: "lr-live-readout", "aria-live": "polite" }, container);
    p.textContent = line;
    container.dataset.state = JSON.stringify(state);
  }

  live.controls = { element, slider, menu, report, format };
})(typeof globalThis !== "undefined" ? globalThis : this);
