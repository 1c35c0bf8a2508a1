"use strict";
// One trading day of one combination (backtest/analysis/day.py): candles on the session
// clock, the IB window and box, the entry levels, each trade's fills, SL and TP, news blocks
// and (bid_ask) the ask band. Shapes carry names ("IB box", "buy stop L", "SL #1", ...).
const V = JSON.parse(document.getElementById("day-data").textContent);
const PLOT_CONFIG = {displaylogo: false, responsive: true, showLink: false, showSendToCloud: false, showEditInChartStudio: false};
window.dayDrawn = false;

function band(x0, x1, colour, name, opacity) {
  return {type: "rect", name, xref: "x", yref: "paper", x0, x1, y0: 0, y1: 1, fillcolor: colour,
          opacity, line: {width: 0}, layer: "below"};
}
function hline(y, x0, x1, colour, name, dash, width) {
  return {type: "line", name, xref: "x", yref: "y", x0, x1, y0: y, y1: y, line: {color: colour, dash, width}};
}

function draw() {
  const W = V.window, traces = [], shapes = [];
  if (V.ask_high) {
    traces.push({x: V.times, y: V.ask_low, type: "scatter", mode: "lines", line: {width: 0, shape: "hvh"},
                 hoverinfo: "skip", showlegend: false, name: "ask low"});
    traces.push({x: V.times, y: V.ask_high, type: "scatter", mode: "lines", fill: "tonexty",
                 fillcolor: "rgba(144,202,249,0.45)", line: {width: 0, shape: "hvh"}, name: "ask band"});
  }
  traces.push({x: V.times, open: V.open, high: V.high, low: V.low, close: V.close, type: "candlestick", name: "bid",
               increasing: {line: {color: "#2e7d32"}}, decreasing: {line: {color: "#c62828"}}});
  shapes.push(band(W.ib_start, W.ib_end, "#fff3c4", "IB window", 0.9));
  shapes.push(band(W.ib_end, W.trade_end, "#eef6ff", "entry window", 0.9));
  V.news.forEach((n) => shapes.push(band(n.start, n.end, "#ffcc80", "news block", 0.5)));
  if (V.ib) {
    shapes.push({type: "rect", name: "IB box", xref: "x", yref: "y", x0: V.ib.first, x1: W.ib_end,
                 y0: V.ib.low, y1: V.ib.high, line: {color: "#6d4c41", width: 2}});
    shapes.push(hline(V.ib.high, W.ib_end, W.close_time, "#6d4c41", "IBH", "solid", 1));
    shapes.push(hline(V.ib.low, W.ib_end, W.close_time, "#6d4c41", "IBL", "solid", 1));
  }
  if (V.levels.long !== null) shapes.push(hline(V.levels.long, W.ib_end, W.trade_end, "#1565c0", "buy stop L", "dash", 1.5));
  if (V.levels.short !== null) shapes.push(hline(V.levels.short, W.ib_end, W.trade_end, "#ad1457", "sell stop S", "dash", 1.5));
  V.trades.forEach((t) => {
    shapes.push(hline(t.sl, t.entry_local, t.exit_local, "#d32f2f", "SL #" + t.trade, "solid", 2));
    if (t.tp !== null) shapes.push(hline(t.tp, t.entry_local, t.exit_local, "#388e3c", "TP #" + t.trade, "solid", 2));
  });
  const label = (t) => "#" + t.trade + " " + t.direction;
  traces.push({x: V.trades.map((t) => t.entry_local), y: V.trades.map((t) => t.entry_price), type: "scatter", mode: "markers",
               name: "entries", text: V.trades.map(label), hovertemplate: "%{text} entry %{y}<extra></extra>",
               marker: {size: 13, color: "black", symbol: V.trades.map((t) => t.direction === "long" ? "triangle-up" : "triangle-down")}});
  traces.push({x: V.trades.map((t) => t.exit_local), y: V.trades.map((t) => t.exit_price), type: "scatter", mode: "markers",
               name: "exits", text: V.trades.map((t) => label(t) + " " + t.exit_reason + " " + t.r.toFixed(2) + " R"),
               hovertemplate: "%{text} exit %{y}<extra></extra>", marker: {size: 12, color: "#ff6f00", symbol: "x"}});
  const title = V.symbol + " " + V.date + " · " + V.group_id + " combo " + V.combo + " · " + V.trades.length + " trade(s)" + (V.note ? " · no trade: " + V.note : "");
  const layout = {title: {text: title, font: {size: 13}}, shapes, margin: {l: 70, r: 20, t: 40, b: 50}, hovermode: "closest",
                  xaxis: {type: "date", range: [V.frame[0], V.frame[1]], rangeslider: {visible: false}, title: {text: "time (" + V.timezone + ")"}},
                  yaxis: {range: [V.frame[2], V.frame[3]], title: {text: V.symbol + " bid"}}, legend: {orientation: "h"}};
  return Plotly.newPlot("day", traces, layout, PLOT_CONFIG).then(() => { window.dayDrawn = true; });
}

draw();
