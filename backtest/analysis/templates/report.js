"use strict";
const D = JSON.parse(document.getElementById("report-data").textContent);
const C = D.columns, N = D.group_index.length, $ = (id) => document.getElementById(id);
const PLOT_CONFIG = {displaylogo: false, responsive: true, showLink: false, showSendToCloud: false, showEditInChartStudio: false};
const state = {sort: D.rank_by, desc: D.style[D.rank_by][0] === "high", filters: {}, filterErrors: [], limit: D.limits.rows, selected: null, order: []};
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const label = (v) => (v === null || v === undefined) ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
const metricNames = [...D.lead, ...C.metrics.filter((m) => !D.lead.includes(m))];
const columns = ["#", "group_id", "combo", ...metricNames, ...C.params];
window.reportState = state;
window.heatmapDraws = 0;

// What draws when (docs/ANALYSIS.md, "What draws at once"): the header is HTML; the table's
// first rows at once, the rest of its --rows while the page is idle; plotly.js is run (it is
// held in the page, not run by the parser) once those are on screen, then the heatmap, the
// first chart; every other chart when it comes near the view, the 3D surface on a click.
// window.reportTimes: when each step ended (ms since the navigation began); reportOpened: the
// first screen is drawn and nothing of the opening is left to run; reportDrawn: how often
// each deferred element was drawn; reportPending(): those still waiting to come into view.
window.reportTimes = {};
window.reportOpened = false;
window.reportDrawn = {};
window.tableDone = false;
const mark = (step) => { window.reportTimes[step] = Math.round(performance.now()); };
const FIRST_ROWS = 100, MORE_ROWS = 100;  // the table's rows drawn at once, then per idle moment
function plotly() {
  if (!window.Plotly) {  // inline, the very text the page's policy allows by its hash
    const script = document.createElement("script");
    script.textContent = $("plotly-js").textContent;
    document.head.appendChild(script);
    mark("plotly");
  }
  return window.Plotly;
}
// fn after the browser has painted what is there (a frame, then a task); a hidden tab paints
// no frame: then after a short while anyway.
function afterPaint(fn) {
  let done = false;
  const once = () => { if (!done) { done = true; fn(); } };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, 500);
}
const idle = (fn) => (window.requestIdleCallback ? requestIdleCallback(fn, {timeout: 1000}) : setTimeout(fn, 0));
let opened = null;  // resolved when the first screen is drawn
const whenOpened = new Promise((resolve) => { opened = resolve; });
const pending = new Map(), near = new Set();
// An element's drawing, done now if it is near the view, else when it comes near (never
// before the first screen is drawn).
function whenSeen(id, draw) { pending.set(id, draw); if (near.has(id)) whenOpened.then(() => flush(id)); }
function flush(id) {
  const draw = pending.get(id);
  if (!draw) return;
  pending.delete(id);
  draw();
  window.reportDrawn[id] = (window.reportDrawn[id] || 0) + 1;
}
window.reportPending = () => [...pending.keys()];
const watcher = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) { near.add(e.target.id); whenOpened.then(() => flush(e.target.id)); } else near.delete(e.target.id);
  }
}, {rootMargin: "200px 0px"});

function value(col, i) {
  if (col === "group_id") return D.group_index[i];
  if (col === "combo") return D.combo_index[i];
  if (col in C.metric) return C.metric[col][i];
  if (col in C.param) return C.values[col][C.param[col][i]];
  if (col in C.fixed) return C.fixed[col];
  return null;
}
function num(v) { return typeof v === "boolean" ? (v ? 1 : 0) : (typeof v === "number" ? v : NaN); }
function fmt(col, v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isInteger(v) && !(col in C.metric && ["total_r", "avg_r", "sharpe", "profit_factor", "winrate", "max_dd_r", "worst_day_r", "total_pnl", "max_daily_loss_pct", "max_drawdown_pct", "recovery_factor", "expected_payoff"].includes(col))) return String(v);
    if (col === "winrate") return (100 * v).toFixed(1) + " %";
    if (col === "total_pnl" || col === "expected_payoff") return v.toFixed(2);
    return Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(3);
  }
  return label(v);
}
// A filter box: a number compared (>=100, <0, =1, !=0), a range (0.5..1.5), or text (a
// substring; =text and !=text: the whole value). {test} or, when it cannot be read, {error}.
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
function number(text) { const t = text.trim(); return NUMBER.test(t) ? Number(t) : NaN; }
function matcher(text) {
  const t = text.trim();
  if (!t) return null;
  let m = t.match(/^(.*?)\s*\.\.\s*(.*)$/);
  if (m) {
    const a = number(m[1]), b = number(m[2]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return {error: `"${t}" is not a range of numbers (like 0.5..1.5)`};
    return {test: (v) => num(v) >= a && num(v) <= b};
  }
  m = t.match(/^(>=|<=|!=|>|<|=)\s*(.*)$/);
  if (m) {
    const op = m[1], x = number(m[2]);
    if (!Number.isFinite(x)) {
      if (op === "=") return {test: (v) => label(v) === m[2]};
      if (op === "!=") return {test: (v) => label(v) !== m[2]};
      return {error: `"${m[2]}" is not a number (${op} compares numbers)`};
    }
    return {test: {">=": (v) => num(v) >= x, "<=": (v) => num(v) <= x, ">": (v) => num(v) > x, "<": (v) => num(v) < x, "=": (v) => num(v) === x, "!=": (v) => num(v) !== x}[op]};
  }
  const low = t.toLowerCase();
  return {test: (v) => label(v).toLowerCase().includes(low)};
}
function ordering() {
  const read = Object.entries(state.filters).map(([c, t]) => [c, matcher(t)]).filter(([, f]) => f);
  state.filterErrors = read.filter(([, f]) => f.error).map(([c, f]) => [c, f.error]);
  const tests = read.filter(([, f]) => f.test).map(([c, f]) => [c, f.test]);
  const rows = [];
  for (let i = 0; i < N; i++) if (tests.every(([c, f]) => f(value(c, i)))) rows.push(i);
  const col = state.sort, sign = state.desc ? -1 : 1;
  if (col !== "#") {
    const keyed = rows.map((i) => [i, value(col, i)]);
    keyed.sort((a, b) => {
      const x = a[1], y = b[1], xn = x === null || x === undefined, yn = y === null || y === undefined;
      if (xn || yn) return xn && yn ? a[0] - b[0] : (xn ? 1 : -1);
      const c = (typeof x === "number" || typeof x === "boolean") ? num(x) - num(y) : label(x).localeCompare(label(y));
      return c !== 0 ? sign * c : a[0] - b[0];
    });
    return keyed.map((k) => k[0]);
  }
  return state.desc ? rows.reverse() : rows;
}
function buildHead() {
  const head = columns.map((c) => `<th data-col="${esc(c)}" class="${["group_id"].includes(c) ? "text" : ""}"${c in D.definitions ? ` title="${esc(D.definitions[c])}"` : ""}>${esc(c)}</th>`).join("");
  const filters = columns.map((c) => c === "#" ? "<th></th>" : `<th><input data-filter="${esc(c)}" placeholder="filter"></th>`).join("");
  $("combos").tHead.innerHTML = `<tr class="names">${head}</tr><tr class="filters">${filters}</tr>`;
  for (const th of $("combos").tHead.querySelectorAll("tr.names th")) th.addEventListener("click", () => {
    const c = th.dataset.col;
    if (state.sort === c) state.desc = !state.desc;
    else { state.sort = c; state.desc = c in C.metric ? D.style[c][0] === "high" : false; }
    renderTable();
  });
  for (const input of $("combos").tHead.querySelectorAll("input")) input.addEventListener("input", () => { state.filters[input.dataset.filter] = input.value; renderTable(); });
}
function tableRows(shown, from, to) {
  const html = [];
  for (let n = from; n < Math.min(to, shown.length); n++) {
    const i = shown[n];
    const cells = columns.map((c) => {
      if (c === "#") return `<td>${n + 1}</td>`;
      const v = value(c, i), cls = c === "group_id" ? "text" : (c in C.metric && typeof v === "number" && D.style[c][1] !== null ? (v > D.style[c][1] ? "pos" : (v < D.style[c][1] ? "neg" : "")) : "");
      return `<td class="${cls}">${esc(fmt(c, v))}</td>`;
    }).join("");
    html.push(`<tr data-i="${i}" class="${i === state.selected ? "selected" : ""}">${cells}</tr>`);
  }
  return html.join("");
}
// The table's first rows now, the rest of those shown when the page is idle; what is left to
// add is dropped when the table is drawn again (by a later call, or by invoke explore's script).
let tableJob = 0;
function renderTable() {
  state.order = ordering();
  const shown = state.order.slice(0, Math.max(1, state.limit | 0)), job = ++tableJob, body = $("combos").tBodies[0];
  body.innerHTML = tableRows(shown, 0, FIRST_ROWS);
  window.tableDone = shown.length <= FIRST_ROWS;
  let at = FIRST_ROWS;
  const more = () => {
    if (job !== tableJob || body.rows.length !== at || +body.lastElementChild.dataset.i !== shown[at - 1]) return;
    body.insertAdjacentHTML("beforeend", tableRows(shown, at, at + MORE_ROWS));
    at += MORE_ROWS;
    if (at < shown.length) idle(more); else window.tableDone = true;
  };
  if (!window.tableDone) whenOpened.then(() => idle(more));
  for (const th of $("combos").tHead.querySelectorAll("tr.names th")) th.className = (th.dataset.col === "group_id" ? "text " : "") + (th.dataset.col === state.sort ? (state.desc ? "sorted-desc" : "sorted-asc") : "");
  $("table-count").textContent = `${Math.min(shown.length, state.order.length)} of ${state.order.length} matching (${N} in this page, ${D.meta.combinations} in the run)`;
  const errors = Object.fromEntries(state.filterErrors);
  for (const input of $("combos").tHead.querySelectorAll("input")) {
    const error = errors[input.dataset.filter];
    input.classList.toggle("bad", !!error);
    input.title = error ? `${error}: this filter is not applied` : "";
  }
  $("filter-note").textContent = state.filterErrors.map(([c, e]) => `filter on ${c}: ${e}, not applied`).join("; ");
  $("rank-by").value = state.sort in C.metric ? state.sort : "";
}
function options(id, names, chosen) { $(id).innerHTML = names.map((n) => `<option value="${esc(n)}"${n === chosen ? " selected" : ""}>${esc(n)}</option>`).join(""); }

// ColorBrewer RdYlGn (plotly.js has no such named scale): red bad, yellow neutral, green good.
const RD_YL_GN = [[0, "#a50026"], [0.1, "#d73027"], [0.2, "#f46d43"], [0.3, "#fdae61"], [0.4, "#fee08b"], [0.5, "#ffffbf"],
  [0.6, "#d9ef8b"], [0.7, "#a6d96a"], [0.8, "#66bd63"], [0.9, "#1a9850"], [1, "#006837"]];
function better(metric, a, b) { return D.style[metric][0] === "high" ? a > b : a < b; }
function colourScale(metric, z) {
  const flat = z.flat().filter((v) => v !== null && Number.isFinite(v));
  const [dir, centre] = D.style[metric];
  if (centre !== null) {
    const half = flat.reduce((top, v) => Math.max(top, Math.abs(v - centre)), 1e-9);
    return {colorscale: RD_YL_GN, reversescale: dir === "low", zmin: centre - half, zmax: centre + half, zmid: centre};
  }
  return {colorscale: "Viridis", reversescale: dir === "low"};
}
function webgl() { try { const c = document.createElement("canvas"); return !!(c.getContext("webgl") || c.getContext("experimental-webgl")); } catch (e) { return false; } }
// How the heatmap's cells are drawn for its size on the page: a 1-pixel gap between cells
// only while cells are large (a 300 x 300 map of 2-pixel cells would be mostly gap), and
// each cell's value written in it when the widest value fits.
function cellLayout(z, nx, ny) {
  const box = $("heatmap").getBoundingClientRect();
  const width = Math.max(1, box.width - 190) / nx, height = Math.max(1, box.height - 110) / ny;
  let low = Infinity, high = -Infinity;
  for (const row of z) for (const v of row) if (v !== null) { low = Math.min(low, v); high = Math.max(high, v); }
  const top = Math.max(Math.abs(low), Math.abs(high)), digits = top >= 1000 ? 0 : (top >= 10 ? 1 : 2);
  const widest = Number.isFinite(top) ? Math.max(low.toFixed(digits).length, high.toFixed(digits).length) : 0;
  const fits = widest > 0 && width >= 7 * widest + 6 && height >= 16;
  return {gap: Math.min(width, height) >= 12 ? 1 : 0, texttemplate: fits ? `%{z:.${digits}f}` : ""};
}
// At most about 8 labelled ticks on an axis of n categories (the 3D scene cannot thin them).
function fewTicks(n) { const step = Math.max(1, Math.ceil(n / 8)); return [...Array(n).keys()].filter((i) => i % step === 0); }
// The heatmap's two scopes: the whole run (each cell's best over every combination, the
// other parameters free: DuckDB computed them, D.run) or this page's rows (the other
// parameters fixed at the selected row's values).
const R = D.run, wholeRun = () => $("hm-scope").value === "run";
function heatmapOptions() {
  const run = wholeRun(), params = run ? R.params : C.params, metrics = run ? R.metrics : metricNames;
  const values = run ? R.values : C.values, chosen = $("hm-metric").value || D.rank_by;
  const counts = params.map((q) => [q, values[q].length]).sort((a, b) => b[1] - a[1]).map((a) => a[0]);
  options("hm-metric", metrics, metrics.includes(chosen) ? chosen : metrics[0]);
  options("hm-x", params, counts[0]);
  options("hm-y", params, counts[1]);
}
function runCells(metric, x, y) {
  const xs = R.values[x], ys = R.values[y], direct = R.pairs[`${x}|${y}`], flipped = R.pairs[`${y}|${x}`];
  const z = ys.map((_, iy) => xs.map((_, ix) => direct ? direct[metric][iy][ix] : (flipped ? flipped[metric][ix][iy] : null)));
  return {xs: xs, ys: ys, z: z, who: null, known: !!(direct || flipped)};
}
function pageCells(metric, x, y, ref) {
  const xs = C.values[x], ys = C.values[y], others = C.params.filter((q) => q !== x && q !== y);
  const z = ys.map(() => xs.map(() => null)), who = ys.map(() => xs.map(() => null));
  for (let i = 0; i < N; i++) {
    if (!others.every((q) => C.param[q][i] === C.param[q][ref])) continue;
    const v = num(C.metric[metric][i]); if (!Number.isFinite(v)) continue;
    const ix = C.param[x][i], iy = C.param[y][i];
    if (z[iy][ix] === null || better(metric, v, z[iy][ix])) { z[iy][ix] = v; who[iy][ix] = i; }
  }
  return {xs: xs, ys: ys, z: z, who: who, known: true};
}
function drawHeatmap() {
  const metric = $("hm-metric").value, x = $("hm-x").value, y = $("hm-y").value, run = wholeRun();
  const params = run ? R.params : C.params;
  if (!x || !y) { $("heatmap").textContent = "fewer than two parameters vary in this run"; window.heatmapDraws += 1; return; }
  if (x === y) { $("hm-y").value = params.find((q) => q !== x); return drawHeatmap(); }
  const ref = state.selected !== null ? state.selected : state.order[0];
  const cells = run ? runCells(metric, x, y) : pageCells(metric, x, y, ref);
  const xs = cells.xs, ys = cells.ys, z = cells.z, who = cells.who, others = params.filter((q) => q !== x && q !== y);
  let best = null;
  z.forEach((row, iy) => row.forEach((v, ix) => { if (v !== null && (best === null || better(metric, v, z[best[1]][best[0]]))) best = [ix, iy]; }));
  const xl = xs.map(label), yl = ys.map(label), scale = colourScale(metric, z);
  const text = who ? who.map((row) => row.map((i) => i === null ? "" : `${D.group_index[i]} combo ${D.combo_index[i]}`)) : z.map((row) => row.map(() => "best of the whole run"));
  const layout = cellLayout(z, xs.length, ys.length);
  const traces = [Object.assign({type: "heatmap", x: xl, y: yl, z: z, text: text, hoverongaps: false, colorbar: {title: {text: metric}},
    hovertemplate: `${x}=%{x}<br>${y}=%{y}<br>${metric}=%{z}<br>%{text}<extra></extra>`, xgap: layout.gap, ygap: layout.gap,
    texttemplate: layout.texttemplate, textfont: {size: 11}}, scale)];
  if (best) traces.push({type: "scatter", mode: "markers+text", x: [xl[best[0]]], y: [yl[best[1]]], text: ["best"], textposition: "top center",
    marker: {symbol: "square-open", size: 26, color: "black", line: {width: 3}}, hoverinfo: "skip", showlegend: false});
  const rx = run ? R.values[x].findIndex((v) => label(v) === label(value(x, ref))) : C.param[x][ref];
  const ry = run ? R.values[y].findIndex((v) => label(v) === label(value(y, ref))) : C.param[y][ref];
  if (rx >= 0 && ry >= 0) traces.push({type: "scatter", mode: "markers", x: [xl[rx]], y: [yl[ry]], marker: {symbol: "circle-open", size: 14, color: "#1565c0", line: {width: 2}}, name: "selected", hoverinfo: "skip", showlegend: false});
  const held = others.map((q) => `${q}=${label(value(q, ref))}`).join(", ");
  const title = `${metric} by ${x} × ${y}; best outlined, selected circled` + (run ? ` (whole run: ${D.meta.combinations} combinations)` : "");
  plotly().react("heatmap", traces, {title: {text: title, font: {size: 13}}, margin: {l: 70, r: 20, t: 40, b: 60},
    xaxis: {title: {text: x}, type: "category"}, yaxis: {title: {text: y}, type: "category"}}, PLOT_CONFIG);
  $("hm-note").textContent = run
    ? `each cell: the best ${metric} over every combination of the run with these two values, the other parameters free` + (cells.known ? "" : "; this pair is not in the page (its size bound): choose others") + (R.left_out ? ` (${R.left_out} pairs left out)` : "")
    : (others.length ? `others fixed at the selected row's: ${held}` : "");
  state.cells = {metric: metric, x: x, y: y, xs: xs, ys: ys, xl: xl, yl: yl, z: z, scale: scale};
  if (state.surface) drawSurface();
  window.heatmapDraws += 1;
}
// The heatmap's cells as a 3D surface: drawn on request (the button in its place), then with
// every heatmap.
function drawSurface() {
  if (!state.cells) { $("surface").textContent = "fewer than two parameters vary in this run"; return; }
  if (!webgl()) { $("surface").textContent = "the 3D surface needs WebGL, which this browser does not offer"; return; }
  const {metric, x, y, xs, ys, xl, yl, z, scale} = state.cells;
  const zs = z.map((row) => row.map((v) => v === null ? NaN : v));
  const surfaceScale = {colorscale: scale.colorscale, reversescale: scale.reversescale, cmin: scale.zmin, cmax: scale.zmax, cmid: scale.zmid};
  const xt = fewTicks(xs.length), yt = fewTicks(ys.length);
  plotly().react("surface", [{type: "surface", z: zs, x: xs.map((_, i) => i), y: ys.map((_, i) => i), showscale: false, ...surfaceScale}],
    {title: {text: `${metric}: 3D surface`, font: {size: 13}}, margin: {l: 0, r: 0, t: 40, b: 0},
     scene: {xaxis: {title: {text: x}, tickvals: xt, ticktext: xt.map((i) => xl[i])}, yaxis: {title: {text: y}, tickvals: yt, ticktext: yt.map((i) => yl[i])}, zaxis: {title: {text: metric}}}}, PLOT_CONFIG);
  window.reportDrawn.surface = (window.reportDrawn.surface || 0) + 1;
}

function cumsum(a) { let s = 0; return a.map((v) => (s += v)); }
function drawdown(curve, start) { let peak = start; return curve.map((v) => { peak = Math.max(peak, v); return v - peak; }); }
function renderDetail() {
  const i = state.selected !== null ? state.selected : state.order[0];
  if (i === undefined) return;
  const g = D.group_index[i], k = D.combo_index[i], d = D.details[String(i)];
  $("detail-title").textContent = `Selected: ${g} combo ${k}`;
  const params = C.params.map((q) => `${q}=${label(value(q, i))}`).join(", ");
  const metrics = metricNames.map((m) => `${m} ${fmt(m, value(m, i))}`).join(" · ");
  $("detail-params").innerHTML = `${esc(params)}<br>${esc(metrics)}`;
  const command = `${D.invoke} trades --from ${D.out_dir} --group ${g} --combo ${k}`;
  if (!d) {
    const why = D.detail_source === "none"
      ? "No trades are in this page: the run saved none (--save-trades, --save-daily) and its data file could not be re-read unchanged."
      : `Trades of this combination are not in the page (only those of the best ${esc(D.limits.detail)} by ${esc(D.rank_by)} are).`;
    $("detail-note").innerHTML = `<div class="warn">${why} <code>${esc(command)}</code> writes its trades, equity chart and monthly table.</div>`;
    for (const id of ["equity", "prop"]) plotly().purge(id);
    for (const id of ["monthly", "trades", "prop-facts"]) $(id).innerHTML = "";
    return;
  }
  const diffs = d.differences && Object.keys(d.differences).length ? `<div class="warn">the re-run differs from the recorded metrics in ${esc(Object.keys(d.differences).join(", "))}</div>` : "";
  $("detail-note").innerHTML = `<div class="muted">trades from ${esc(d.source)}; all files: <code>${esc(command)}</code></div>${diffs}`;
  const t = d.trades, r = t.r.map(num), pnl = t.pnl_money.map(num), x = t.exit_time || t.day;
  const account = D.meta.account_size, cumR = cumsum(r), balance = cumsum(pnl).map((v) => account + v);
  const x0 = [t.entry_time ? t.entry_time[0] : t.day[0], ...x];
  const curveR = [0, ...cumR], curveM = [account, ...balance];
  const floor = account * (1 - D.meta.max_loss_limit_pct / 100);
  plotly().react("equity", [
    {x: x0, y: curveR, type: "scatter", mode: "lines", line: {shape: "hv", color: "#1565c0"}, name: "cumulative R", yaxis: "y"},
    {x: x0, y: curveM, type: "scatter", mode: "lines", line: {shape: "hv", color: "#2e7d32"}, name: "balance", yaxis: "y2"},
    {x: x0, y: drawdown(curveR, 0), type: "scatter", mode: "lines", fill: "tozeroy", line: {shape: "hv", color: "#c62828"}, name: "drawdown R", yaxis: "y3"},
    {x: [x0[0], x0[x0.length - 1]], y: [floor, floor], type: "scatter", mode: "lines", line: {dash: "dot", color: "#b71c1c"}, name: `max loss limit (${D.meta.max_loss_limit_pct} %)`, yaxis: "y2"},
  ], {title: {text: `${g} combo ${k}: equity in R and money, drawdown`, font: {size: 13}}, margin: {l: 70, r: 20, t: 40, b: 40}, legend: {orientation: "h"},
      xaxis: {anchor: "y3"}, yaxis: {domain: [0.55, 1], title: {text: "R"}}, yaxis2: {domain: [0.27, 0.52], title: {text: "balance"}}, yaxis3: {domain: [0, 0.24], title: {text: "drawdown R"}}}, PLOT_CONFIG);
  renderMonthly(t.day, r);
  renderProp(i, t.day, pnl);
  renderTrades(t, D.day_pages[String(i)]);
}
function renderMonthly(days, r) {
  // Months of the run's period (and any month with a trade): a month without a trade shows
  // 0.00 uncoloured; a month outside the period is empty.
  const names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "total"];
  const first = String(D.meta.start_date || days[0] || "").slice(0, 7), last = String(D.meta.end_date || days[days.length - 1] || "").slice(0, 7);
  const sums = {}, year = (y) => (sums[y] = sums[y] || Array(13).fill(null));
  if (/^\d{4}-\d{2}$/.test(first) && /^\d{4}-\d{2}$/.test(last)) {
    for (let y = +first.slice(0, 4); y <= +last.slice(0, 4); y++) {
      const row = year(String(y));
      for (let m = 1; m <= 12; m++) { const key = `${y}-${String(m).padStart(2, "0")}`; if (key >= first && key <= last) row[m - 1] = 0; }
      row[12] = 0;
    }
  }
  days.forEach((day, n) => { const row = year(day.slice(0, 4)), m = +day.slice(5, 7) - 1; row[m] = (row[m] || 0) + r[n]; row[12] = (row[12] || 0) + r[n]; });
  const years = Object.keys(sums).sort();
  const top = years.reduce((t, y) => sums[y].slice(0, 12).reduce((u, v) => Math.max(u, Math.abs(v || 0)), t), 1e-9);
  const cell = (v) => v === null ? "<td></td>" : `<td class="${v < 0 ? "neg" : (v > 0 ? "pos" : "")}">${esc(v.toFixed(2))}</td>`;
  $("monthly").innerHTML = `<thead><tr><th class="text">year</th>${names.map((n) => `<th>${n}</th>`).join("")}</tr></thead><tbody>` +
    years.map((y) => `<tr><td class="text">${esc(y)}</td>${sums[y].map(cell).join("")}</tr>`).join("") + "</tbody>";
  // Cell colours through the CSSOM: the page's policy refuses inline style attributes.
  [...$("monthly").tBodies[0].rows].forEach((tr, row) => sums[years[row]].slice(0, 12).forEach((v, n) => {
    if (!v) return;
    const a = Math.min(1, Math.abs(v) / top) * 0.6;
    tr.cells[n + 1].style.background = v > 0 ? `rgba(46,125,50,${a})` : `rgba(198,40,40,${a})`;
  }));
}
function renderProp(i, days, pnl) {
  const account = D.meta.account_size, daily = D.meta.daily_loss_limit_pct, max = D.meta.max_loss_limit_pct;
  const loss = [], ddPct = [], labels = [];
  let balance = account, peak = account, n = 0;
  while (n < days.length) {
    const day = days[n], start = balance; let low = start;
    for (; n < days.length && days[n] === day; n++) { balance += pnl[n]; low = Math.min(low, balance); peak = Math.max(peak, balance); ddPct.push(100 * (peak - balance) / peak); }
    labels.push(day); loss.push(100 * (start - low) / account);
  }
  const m = (name) => value(name, i), ok = m("prop_ok");
  $("prop-facts").innerHTML = `<div class="facts"><div><b>worst day</b> ${esc(fmt("x", num(m("max_daily_loss_pct"))))} % (limit ${esc(label(daily))} %)</div>` +
    `<div><b>max drawdown</b> ${esc(fmt("x", num(m("max_drawdown_pct"))))} % (limit ${esc(label(max))} %)</div>` +
    `<div><b>verdict</b> <span class="${ok ? "ok" : "broken"}">${ok ? "inside both limits" : "breaks a limit"}</span></div></div>`;
  plotly().react("prop", [
    {x: labels, y: loss, type: "bar", name: "day's loss % of account", marker: {color: "#ef6c00"}},
    {x: [labels[0], labels[labels.length - 1]], y: [daily, daily], type: "scatter", mode: "lines", line: {dash: "dot", color: "#b71c1c"}, name: `daily limit ${daily} %`},
    {x: days, y: ddPct, type: "scatter", mode: "lines", line: {color: "#6a1b9a"}, name: "drawdown % from peak", yaxis: "y2"},
    {x: [labels[0], labels[labels.length - 1]], y: [max, max], type: "scatter", mode: "lines", line: {dash: "dash", color: "#6a1b9a"}, name: `max loss limit ${max} %`, yaxis: "y2"},
  ], {margin: {l: 50, r: 10, t: 10, b: 40}, legend: {orientation: "h"}, yaxis: {title: {text: "day's loss %"}, domain: [0, 0.45]},
      yaxis2: {title: {text: "drawdown %"}, domain: [0.55, 1]}}, PLOT_CONFIG);
}
function dayPage(page, day) {
  const link = (page.link[0] + day + page.link[1]).split("/").map(encodeURIComponent).join("/");
  return {href: link, command: page.command[0] + day + page.command[1]};
}
function renderTrades(t, page) {
  const cols = Object.keys(t), n = t.r.length, limit = Math.min(n, 2000);
  const shown = (c, j) => t[c][j] === null ? "" : (c === "r" ? num(t[c][j]).toFixed(4) : (c === "pnl_money" ? num(t[c][j]).toFixed(2) : t[c][j]));
  const cell = (c, j) => {
    const text = esc(shown(c, j)), cls = ["day", "entry_time", "exit_time", "direction", "exit_reason"].includes(c) ? "text" : "";
    if (c !== "day" || !page || !t.day[j]) return `<td class="${cls}">${text}</td>`;
    const to = dayPage(page, t.day[j]);
    return `<td class="${cls}"><a class="day-link" href="${esc(to.href)}" title="${esc(`this day drawn; written by: ${to.command}`)}">${text}</a></td>`;
  };
  const rows = [];
  for (let j = 0; j < limit; j++) rows.push(`<tr><td>${j + 1}</td>${cols.map((c) => cell(c, j)).join("")}</tr>`);
  $("trades").innerHTML = `<thead><tr><th>#</th>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody>` +
    (limit < n ? `<tfoot><tr><td colspan="${cols.length + 1}" class="text">first ${esc(limit)} of ${esc(n)} trades</td></tr></tfoot>` : "");
}
function select(i) {
  state.selected = i;
  for (const tr of $("combos").tBodies[0].rows) tr.classList.toggle("selected", +tr.dataset.i === i);
  drawHeatmap();
  whenSeen("detail-section", renderDetail);
}

// The whole run's distribution of a metric (DuckDB's bins over every combination).
function drawDistribution() {
  const metric = $("dist-metric").value, d = R.distributions[metric];
  if (!d) return;
  const width = d.lo === null ? 0 : (d.hi - d.lo) / d.counts.length;
  const x = d.counts.map((_, k) => d.lo + (k + 0.5) * width);
  plotly().react("distribution", [{type: "bar", x: x, y: d.counts, width: width || 1, marker: {color: "#1565c0"}, name: metric,
    hovertemplate: `${metric} %{x}<br>%{y} combinations<extra></extra>`}],
    {margin: {l: 60, r: 10, t: 10, b: 40}, xaxis: {title: {text: metric}}, yaxis: {title: {text: "combinations"}}, bargap: 0}, PLOT_CONFIG);
  $("dist-note").textContent = `${D.meta.combinations} combinations` + (d.missing ? `; ${d.missing} without a finite ${metric} (not drawn)` : "");
}

function drawWalkForward() {
  const wf = D.walk_forward, dated = Array.isArray(wf.dates) && wf.dates.length === wf.equity_r.length;
  const starts = dated ? wf.windows.map((w) => w.test_start).filter((d) => d) : [];
  plotly().react("wf-equity", [{x: dated ? wf.dates : wf.equity_r.map((_, i) => i + 1), y: wf.equity_r, type: "scatter", mode: "lines", line: {color: "#1565c0"}, name: "out-of-sample R"}],
    {margin: {l: 50, r: 10, t: 10, b: 40}, xaxis: dated ? {type: "date", title: {text: "out-of-sample trading day (grey lines: test windows start)"}} : {title: {text: "out-of-sample trading day (count: the run's days are not at hand)"}},
     yaxis: {title: {text: "cumulative R"}},
     shapes: starts.map((d) => ({type: "line", xref: "x", yref: "paper", x0: d, x1: d, y0: 0, y1: 1, line: {color: "#bbb", width: 1}}))}, PLOT_CONFIG);
}

options("rank-by", metricNames, D.rank_by);
$("hm-scope").value = D.meta.embedded < D.meta.combinations ? "run" : "page";
heatmapOptions();
options("dist-metric", Object.keys(R.distributions), D.rank_by);
$("dist-metric").addEventListener("change", () => whenSeen("distribution", drawDistribution));
$("hm-scope").addEventListener("change", () => { heatmapOptions(); drawHeatmap(); });
$("rank-by").addEventListener("change", () => { state.sort = $("rank-by").value; state.desc = D.style[state.sort][0] === "high"; renderTable(); });
$("row-limit").addEventListener("change", () => { state.limit = +$("row-limit").value || D.limits.rows; renderTable(); });
$("clear-filters").addEventListener("click", () => { state.filters = {}; for (const inp of $("combos").tHead.querySelectorAll("input")) inp.value = ""; renderTable(); });
for (const id of ["hm-metric", "hm-x", "hm-y"]) $(id).addEventListener("change", drawHeatmap);
$("combos").tBodies[0].addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) select(+tr.dataset.i); });
$("draw-surface").addEventListener("click", () => { state.surface = true; $("surface").textContent = ""; drawSurface(); });
buildHead();
renderTable();
mark("table");
whenSeen("distribution", drawDistribution);
whenSeen("detail-section", renderDetail);
if (D.walk_forward) whenSeen("wf-equity", drawWalkForward);
for (const id of pending.keys()) watcher.observe($(id));
afterPaint(() => {  // the header and the table's first rows are on screen
  drawHeatmap();
  mark("heatmap");
  afterPaint(() => { mark("opened"); window.reportOpened = true; opened(); });
});
