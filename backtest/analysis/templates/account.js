"use strict";
// Draws the account page's charts from its JSON block; writes no HTML (the tables are the
// template's, autoescaped). window.accountDraws counts the charts drawn (tests wait on it).
const D = JSON.parse(document.getElementById("account-data").textContent);
const PLOT_CONFIG = {displaylogo: false, responsive: true, showLink: false, showSendToCloud: false, showEditInChartStudio: false};
const H = D.history;
window.accountDraws = 0;

function hline(y, name, colour, dash) {
  return {x: [H.date[0], H.date[H.date.length - 1]], y: [y, y], type: "scatter", mode: "lines", name: name, line: {color: colour, dash: dash, width: 1.5}, hoverinfo: "name+y"};
}
function draw(id, traces, layout) {
  Plotly.newPlot(id, traces, Object.assign({margin: {l: 70, r: 20, t: 20, b: 50}, legend: {orientation: "h", y: -0.2}, hovermode: "x unified"}, layout), PLOT_CONFIG);
  window.accountDraws += 1;
}

function balance() {
  const a = D.account_size;
  const traces = [
    {x: H.date, y: H.end, type: "scatter", mode: "lines", name: "account, end of day", line: {color: "#1565c0", width: 2}},
    {x: H.date, y: H.lowest_closed, type: "scatter", mode: "lines", name: "lowest closed balance of the day", line: {color: "#90a4ae", width: 1}},
  ];
  if (H.lowest_equity) traces.push({x: H.date, y: H.lowest_equity, type: "scatter", mode: "lines", name: "lowest equity of the day", line: {color: "#ef6c00", width: 1}});
  for (const [symbol, net] of Object.entries(H.net_by_symbol)) {
    let run = a;
    traces.push({x: H.date, y: net.map((v) => (run += v)), type: "scatter", mode: "lines", name: symbol + " alone", line: {width: 1}, opacity: 0.7});
  }
  traces.push(hline(a * (1 - D.overall_loss_pct / 100), "overall loss floor", "#c62828", "dash"));
  if (D.targets_pct.length) traces.push(hline(a * (1 + D.targets_pct[0] / 100), "first phase target", "#2e7d32", "dot"));
  draw("balance", traces, {yaxis: {title: {text: "balance"}}});
}

function dailyLoss() {
  const traces = [{x: H.date, y: H.daily_loss_closed_pct, type: "bar", name: "daily loss, closed (%)", marker: {color: "#b71c1c"}}];
  if (H.daily_loss_equity_pct) traces.push({x: H.date, y: H.daily_loss_equity_pct, type: "scatter", mode: "markers", name: "daily loss, equity (%)", marker: {color: "#ef6c00", size: 4}});
  if (D.daily_loss_pct !== null) traces.push(hline(D.daily_loss_pct, "daily loss limit", "#c62828", "dash"));
  draw("daily-loss", traces, {yaxis: {title: {text: "% of the base"}, rangemode: "tozero"}});
}

function riskChart() {
  const x = D.levels.map((l) => l.risk_pct);
  const traces = [
    {x: x, y: D.levels.map((l) => l.p_pass), type: "scatter", mode: "lines+markers", name: "P(pass), simulated", line: {color: "#2e7d32", width: 2}},
    {x: x, y: D.levels.map((l) => l.p_breach), type: "scatter", mode: "lines+markers", name: "P(breach), simulated", line: {color: "#c62828", width: 2}},
    {x: x, y: D.levels.map((l) => l.replay_p_pass), type: "scatter", mode: "lines", name: "passed, replay", line: {color: "#2e7d32", dash: "dot", width: 1}},
    {x: x, y: D.levels.map((l) => l.replay_p_breach), type: "scatter", mode: "lines", name: "breached, replay", line: {color: "#c62828", dash: "dot", width: 1}},
    {x: [x[0], x[x.length - 1]], y: [D.max_breach, D.max_breach], type: "scatter", mode: "lines", name: "P(breach) bound", line: {color: "#555", dash: "dash", width: 1}},
    {x: [D.chosen_risk_pct, D.chosen_risk_pct], y: [D.chosen.p_pass, D.chosen.p_breach], type: "scatter", mode: "markers", name: "your risk", marker: {color: "#1565c0", size: 11, symbol: "diamond"}},
  ];
  const layout = {xaxis: {title: {text: "risk per trade, % of the account"}}, yaxis: {title: {text: "probability"}, range: [0, 1]}, hovermode: "x"};
  if (D.best !== null) layout.shapes = [{type: "line", x0: D.best, x1: D.best, y0: 0, y1: 1, line: {color: "#2e7d32", width: 1, dash: "dash"}}];
  draw("risk-chart", traces, layout);
}

function passCurve() {
  const d = D.pass_curve.map((_, i) => i + 1);
  draw("pass-curve", [{x: d, y: D.pass_curve, type: "scatter", mode: "lines", name: "passed within d days", line: {color: "#2e7d32"}}],
    {xaxis: {title: {text: "trading days"}}, yaxis: {title: {text: "share of all paths"}, range: [0, 1]}, hovermode: "x"});
}

function replayDays() {
  const d = D.replay_histogram.map((_, i) => i);
  draw("replay-days", [{x: d, y: D.replay_histogram, type: "bar", name: "starts that passed in d days", marker: {color: "#1565c0"}}],
    {xaxis: {title: {text: "trading days to pass"}}, yaxis: {title: {text: "starts"}}, hovermode: "x"});
}

for (const f of [balance, dailyLoss, riskChart, passCurve, replayDays]) f();
