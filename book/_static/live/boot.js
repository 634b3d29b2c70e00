/* Starts every live figure of the page: each <div class="lr-live" data-widget="..."> gets its
 * widget, built from its data-config; the static figure inside it (the no-JavaScript and print
 * version) is hidden once the live one is drawn.
 */
(function (root) {
  "use strict";
  function start() {
    for (const el of document.querySelectorAll(".lr-live[data-widget]")) {
      const make = root.LRLive.widgets[el.dataset.widget];
      if (!make || el.dataset.started) continue;
      el.dataset.started = "1";
      try {
        make(el, JSON.parse(el.dataset.config || "{}"));
        el.classList.add("lr-live-on");
      } catch (error) {
        el.dataset.error = String(error);
        console.error("live figure " + el.dataset.widget + ": " + error);
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(typeof globalThis !== "undefined" ? globalThis : this);
