"use strict";
// invoke explore: the combinations table pages through the server's API over every row of
// the run, not only the rows embedded in the page. Added by the server after report.js,
// whose globals it uses (state, columns, C, D, N, fmt, esc, $) and whose renderTable it
// replaces: sorting, filters and the row limit (the page size) keep working as they did.
// An answer whose count is still being made (total null: a float metric's first part of
// digits alone) shows "counting…" and is asked again until the count is there; one whose
// page is not whole yet (whole false: a rare part, its first rows found so far, maybe none)
// shows "searching…" the same way.
(() => {
  const X = {page: 0, key: null, seq: 0, last: null, timer: null, error: ""};
  window.exploreState = X;
  window.exploreDraws = 0;
  window.exploreCounting = 0;  // answers drawn before their count
  window.exploreSearching = 0;  // answers drawn before their page was whole
  const embedded = new Map();
  for (let i = 0; i < N; i++) embedded.set(`${D.group_index[i]} ${D.combo_index[i]}`, i);

  const pager = document.createElement("span");
  pager.id = "explore-pager";
  pager.innerHTML = '<button id="explore-prev" type="button">&lsaquo; previous</button> ' +
    '<span id="explore-page"></span> <button id="explore-next" type="button">next &rsaquo;</button>';
  $("table-count").before(pager);

  const size = () => Math.min(10000, Math.max(1, state.limit | 0));
  const key = () => JSON.stringify([state.sort, state.desc, state.filters, size()]);
  function url() {
    const q = new URLSearchParams({sort: state.sort === "#" ? "row" : state.sort, desc: state.desc ? "1" : "0",
      offset: String(X.page * size()), limit: String(size())});
    for (const [c, t] of Object.entries(state.filters)) if (t.trim()) q.append("filter", `${c}:${t}`);
    return `/api/combos?${q}`;
  }
  async function load() {
    const seq = ++X.seq;
    let answer, error = "";
    try {
      const response = await fetch(url(), {cache: "no-store"});
      answer = await response.json();
      if (!response.ok) error = answer.error || `${response.status} ${response.statusText}`;
    } catch (e) {
      error = `the explore server did not answer (${e.message}): is invoke explore still running?`;
    }
    if (seq !== X.seq) return;  // a newer request is on its way
    X.error = error;
    if (!error) X.last = answer;
    draw();
    if (!error && answer.total === null) X.timer = setTimeout(load, 250);  // the count, again
  }
  function cell(c, v, n) {
    if (c === "#") return `<td>${n}</td>`;
    const style = D.style[c], cls = c === "group_id" ? "text" : (c in C.metric && typeof v === "number" && style && style[1] !== null ? (v > style[1] ? "pos" : (v < style[1] ? "neg" : "")) : "");
    return `<td class="${cls}">${esc(fmt(c, v))}</td>`;
  }
  function draw() {
    const a = X.last;
    if (a) {
      $("combos").tBodies[0].innerHTML = a.rows.map((row, n) => {
        const i = embedded.get(`${row.group_id} ${row.combo}`);
        const attrs = i === undefined ? `data-group="${esc(row.group_id)}" data-combo="${esc(row.combo)}"` : `data-i="${i}"`;
        return `<tr ${attrs} class="${i !== undefined && i === state.selected ? "selected" : ""}">${columns.map((c) => cell(c, row[c], a.offset + n + 1)).join("")}</tr>`;
      }).join("");
      const counting = a.total === null, page = Math.floor(a.offset / a.limit);
      const pages = counting ? "…" : Math.max(1, Math.ceil(a.total / a.limit));
      if (counting) window.exploreCounting += 1;
      if (a.whole === false) window.exploreSearching += 1;
      $("explore-page").textContent = `page ${page + 1} of ${pages}`;
      $("explore-prev").disabled = page === 0;
      $("explore-next").disabled = counting ? a.rows.length < a.limit : page + 1 >= pages;
      const of = a.whole === false ? "(searching…)" : (counting ? "(counting…)" : a.total);
      $("table-count").textContent = `rows ${a.rows.length ? a.offset + 1 : 0}..${a.offset + a.rows.length} of ${of} matching (${a.count} in the run; every row served by invoke explore, query ${a.query_ms} ms)`;
    }
    for (const th of $("combos").tHead.querySelectorAll("tr.names th")) th.className = (th.dataset.col === "group_id" ? "text " : "") + (th.dataset.col === state.sort ? (state.desc ? "sorted-desc" : "sorted-asc") : "");
    const bad = X.error.match(/^filter on (\w+):/);
    for (const input of $("combos").tHead.querySelectorAll("input")) {
      const mine = bad && bad[1] === input.dataset.filter;
      input.classList.toggle("bad", !!mine);
      input.title = mine ? X.error : "";
    }
    $("filter-note").textContent = X.error;
    $("rank-by").value = state.sort in C.metric ? state.sort : "";
    window.exploreDraws += 1;
  }
  // The page's renderTable, as the server's: a changed query goes back to its first page.
  renderTable = () => {
    const now = key();
    if (now === X.key && X.last) { draw(); return; }  // a row selected: same rows
    if (now !== X.key) { X.key = now; X.page = 0; }
    clearTimeout(X.timer);
    X.timer = setTimeout(load, 100);  // once typing in a filter box pauses
  };
  function turn(by) { clearTimeout(X.timer); X.page = Math.max(0, X.page + by); load(); }
  $("explore-prev").addEventListener("click", () => turn(-1));
  $("explore-next").addEventListener("click", () => turn(1));
  // A row that is not in the page has no trades or heatmap here: say how to get them.
  $("combos").tBodies[0].addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (!tr || tr.dataset.i !== undefined) return;
    e.stopImmediatePropagation();
    const command = `${D.invoke} trades --from ${D.out_dir} --group ${tr.dataset.group} --combo ${tr.dataset.combo}`;
    $("detail-title").textContent = `Selected: ${tr.dataset.group} combo ${tr.dataset.combo}`;
    $("detail-note").innerHTML = `<div class="warn">This combination is not embedded in the page (the table shows it from the server). <code>${esc(command)}</code> writes its trades, equity chart and monthly table.</div>`;
  }, true);
  X.key = key();
  load();
})();
