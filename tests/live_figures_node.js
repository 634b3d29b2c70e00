// Runs the book's live-figure engine (book/_static/live) under Node for tests/test_live_figures.py:
// reads a JSON table of runs and schedules on stdin, writes their results as JSON on stdout.
// Non-finite numbers travel as the strings "inf", "-inf" and "nan" (JSON has none).
"use strict";
const path = require("path");
const live = path.join(__dirname, "..", "book", "_static", "live");
for (const file of ["problems.js", "optim.js", "schedules.js", "theory.js"]) require(path.join(live, file));
const { problems, optim, schedules, theory } = globalThis.LRLive;

const PROBLEMS = { quadratic: problems.quadratic, conditioned: problems.conditioned,
  rosenbrock: problems.rosenbrock, saddle: problems.saddle };

function finite(x) {
  if (Array.isArray(x)) return x.map(finite);
  if (x !== null && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, finite(v)]));
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

function runOne({ problem, optimizer, options, x0, steps }) {
  const f = PROBLEMS[problem.name](problem.args);
  const { path: iterates, loss } = optim.run(f, optimizer, options, x0, steps);
  return { path: finite(iterates), loss: finite(loss) };
}

function scheduleOne({ name, args, warmup_steps, steps }) {
  const s = schedules.make(name, args, warmup_steps || 0);
  const out = { lr: steps.map(s) };
  if (s.momentum) out.momentum = steps.map(s.momentum);
  out.python = schedules.python(name, args, warmup_steps || 0);
  return out;
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const table = JSON.parse(input);
  const out = {
    runs: (table.runs || []).map(runOne),
    schedules: (table.schedules || []).map(scheduleOne),
    theory: (table.theory || []).map(({ fn, args }) => finite(theory[fn](...args))),
  };
  process.stdout.write(JSON.stringify(out));
});
