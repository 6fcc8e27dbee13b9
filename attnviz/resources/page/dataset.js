// attnviz dataset page: every video with its class, score and how it counts; sortable (click a
// column heading) and filterable (class, right or wrong, text). Plain JavaScript, no network.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("attnviz-data").textContent);
  var root = document.getElementById("index");
  var rows = D.rows;

  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  var bar = el("div", { class: "filters" }, root);
  var cl = el("label", {}, bar, "class ");
  var classSel = el("select", { id: "filter-class" }, cl);
  el("option", { value: "" }, classSel, "all");
  var classes = {};
  rows.forEach(function (r) {
    if (r.label) classes[r.label] = 1;
    if (r.predicted) classes[r.predicted] = 1;
  });
  Object.keys(classes).sort().forEach(function (c) { el("option", { value: c }, classSel, c); });
  var ol = el("label", {}, bar, "result ");
  var okSel = el("select", { id: "filter-correct" }, ol);
  [["", "all"], ["right", "right"], ["wrong", "wrong"]].forEach(function (o) {
    el("option", { value: o[0] }, okSel, o[1]);
  });
  var outs = {};
  rows.forEach(function (r) { if (r.outcome) outs[r.outcome] = 1; });
  var oul = el("label", {}, bar, "counts as ");
  var outSel = el("select", { id: "filter-outcome" }, oul);
  el("option", { value: "" }, outSel, "all");
  Object.keys(outs).sort().forEach(function (o) { el("option", { value: o }, outSel, o); });
  var tl = el("label", {}, bar, "search ");
  var text = el("input", { id: "filter-text", type: "text", placeholder: "video name" }, tl);
  var count = el("span", { id: "count", class: "count" }, bar);

  var cols = [
    ["video", "video"], ["label", "ground truth"], ["predicted", "predicted"],
    ["score", "score"], ["outcome", "counts as"], ["correct", "right?"],
  ];
  var table = el("table", { id: "videos", class: "videos" }, root);
  var head = el("tr", {}, el("thead", {}, table));
  var body = el("tbody", {}, table);
  var sort = { key: "video", dir: 1 };
  cols.forEach(function (c) {
    var th = el("th", { "data-key": c[0], title: "sort" }, head, c[1]);
    th.addEventListener("click", function () {
      sort.dir = sort.key === c[0] ? -sort.dir : (c[0] === "score" ? -1 : 1);
      sort.key = c[0];
      render();
    });
  });

  function cmp(a, b) {
    var x = a[sort.key], y = b[sort.key];
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" || typeof x === "boolean") return (x - y) * sort.dir;
    return String(x).localeCompare(String(y)) * sort.dir;
  }

  function render() {
    var c = classSel.value, ok = okSel.value, o = outSel.value;
    var q = text.value.toLowerCase();
    var shown = rows.filter(function (r) {
      if (c && r.label !== c && r.predicted !== c) return false;
      if (ok === "right" && r.correct !== true) return false;
      if (ok === "wrong" && r.correct !== false) return false;
      if (o && r.outcome !== o) return false;
      if (q && r.video.toLowerCase().indexOf(q) < 0) return false;
      return true;
    }).sort(cmp);
    body.innerHTML = "";
    shown.forEach(function (r) {
      var tr = el("tr", { class: r.correct === false ? "wrong" : r.correct ? "right" : "" }, body);
      el("a", { href: r.href }, el("td", {}, tr), r.video);
      el("td", {}, tr, r.label || "\u2013");
      el("td", {}, tr, r.predicted);
      el("td", { class: "num" }, tr, r.score === null ? "\u2013" : r.score.toFixed(3));
      el("td", {}, tr, r.outcome || "\u2013");
      el("td", {}, tr, r.correct === null ? "\u2013" : r.correct ? "right" : "wrong");
    });
    Array.prototype.forEach.call(head.children, function (th) {
      var k = th.getAttribute("data-key");
      th.className = k === sort.key ? (sort.dir > 0 ? "asc" : "desc") : "";
    });
    count.textContent = shown.length + " of " + rows.length + " videos";
  }

  [classSel, okSel, outSel].forEach(function (s) { s.addEventListener("change", render); });
  text.addEventListener("input", render);
  window.attnviz = { render: render, rows: rows };
  render();
})();
