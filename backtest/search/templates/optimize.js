"use strict";
// The optimisation history and parameter importances of an optimize run
// (backtest/search/page.py): drawn from the page's JSON block, nothing fetched.
const D = JSON.parse(document.getElementById("optimize-data").textContent);
const PLOT_CONFIG = {displaylogo: false, responsive: true, showLink: false, showSendToCloud: false, showEditInChartStudio: false};
const OUTCOME_NAMES = ["evaluated", "duplicate", "infeasible", "interrupted"];
window.optimizeDraws = 0;

function bestSoFar(trials, values, maximise) {
  const xs = [], ys = [];
  let best = null;
  trials.forEach((t, i) => {
    const v = values[i];
    if (v === null) return;
    if (best === null || (maximise ? v > best : v < best)) {
      best = v;
      xs.push(t);
      ys.push(v);
    }
  });
  if (xs.length) { xs.push(trials[trials.length - 1]); ys.push(best); }
  return {x: xs, y: ys};
}

function history(k) {
  const name = D.objectives[k], maximise = D.directions[k] === "maximize";
  const values = D.values[k];
  const traces = [];
  [0, 1].forEach((code) => {
    const idx = D.trial.map((_, i) => i).filter((i) => D.outcome[i] === code && D.qualifies[i] && values[i] !== null);
    traces.push({x: idx.map((i) => D.trial[i]), y: idx.map((i) => values[i]), type: "scatter", mode: "markers",
                 name: OUTCOME_NAMES[code], marker: {size: code === 0 ? 5 : 4, opacity: 0.6, color: code === 0 ? "#1565c0" : "#9e9e9e"}});
  });
  const q = D.trial.map((_, i) => i).filter((i) => D.qualifies[i] && values[i] !== null);
  const line = bestSoFar(q.map((i) => D.trial[i]), q.map((i) => values[i]), maximise);
  traces.push({x: line.x, y: line.y, type: "scatter", mode: "lines", line: {shape: "hv", color: "#c62828", width: 2}, name: "best so far"});
  const layout = {title: {text: name + " by trial (" + (maximise ? "higher" : "lower") + " is better)", font: {size: 13}},
                  margin: {l: 60, r: 20, t: 40, b: 45}, xaxis: {title: {text: "trial number"}}, yaxis: {title: {text: name}},
                  legend: {orientation: "h"}};
  const div = document.createElement("div");
  div.className = "plot";
  div.id = "history-" + k;
  document.getElementById("histories").appendChild(div);
  return Plotly.newPlot(div, traces, layout, PLOT_CONFIG).then(() => { window.optimizeDraws += 1; });
}

function importances(k) {
  const name = D.objectives[k], found = D.importances[name] || {};
  const holder = document.createElement("div");
  document.getElementById("importances").appendChild(holder);
  if (found.error !== undefined) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = name + ": no importances (" + found.error + ")";
    holder.appendChild(p);
    window.optimizeDraws += 1;
    return Promise.resolve();
  }
  const params = Object.keys(found).reverse();
  const div = document.createElement("div");
  div.className = "plot";
  div.id = "importance-" + k;
  holder.appendChild(div);
  const trace = {x: params.map((p) => found[p]), y: params, type: "bar", orientation: "h", marker: {color: "#2e7d32"}};
  const layout = {title: {text: "parameter importance for " + name + " (PED-ANOVA, sums to 1)", font: {size: 13}},
                  margin: {l: 160, r: 20, t: 40, b: 40}, xaxis: {title: {text: "importance"}}};
  return Plotly.newPlot(div, [trace], layout, PLOT_CONFIG).then(() => { window.optimizeDraws += 1; });
}

function pareto() {
  if (D.objectives.length < 2) return Promise.resolve();
  const q = D.trial.map((_, i) => i).filter((i) => D.outcome[i] === 0 && D.qualifies[i] && D.values[0][i] !== null && D.values[1][i] !== null);
  const front = new Set(D.best.map((b) => b.trial));
  const on = q.filter((i) => front.has(D.trial[i])), off = q.filter((i) => !front.has(D.trial[i]));
  const trace = (rows, name, color) => ({x: rows.map((i) => D.values[0][i]), y: rows.map((i) => D.values[1][i]),
    text: rows.map((i) => "trial " + D.trial[i]), type: "scatter", mode: "markers", name, marker: {size: 6, color}});
  const layout = {title: {text: "Pareto front: " + D.objectives[0] + " vs " + D.objectives[1], font: {size: 13}},
                  margin: {l: 60, r: 20, t: 40, b: 45}, xaxis: {title: {text: D.objectives[0]}}, yaxis: {title: {text: D.objectives[1]}}};
  return Plotly.newPlot("pareto", [trace(off, "evaluated", "#90a4ae"), trace(on, "Pareto front", "#c62828")], layout, PLOT_CONFIG)
    .then(() => { window.optimizeDraws += 1; });
}

Promise.all([...D.objectives.map((_, k) => history(k)), ...D.objectives.map((_, k) => importances(k)), pareto()])
  .then(() => { window.optimizeDrawn = true; });
