// Search and sorting for the report's index, the comparison picker of a kommun's board. Plain DOM, no library, no request: the page works
// offline from file:// and without this script (the list and the table are already complete).
(function () {
  "use strict";
  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  var input = document.getElementById("search");
  var list = document.getElementById("municipalities");
  var status = document.getElementById("search-status");
  if (input && list) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      var shown = 0;
      items.forEach(function (li) {
        var hit = !q || fold(li.getAttribute("data-name")).indexOf(q) !== -1 ||
          li.getAttribute("data-id").indexOf(q) === 0;
        li.classList.toggle("hidden", !hit);
        if (hit) { shown += 1; }
      });
      status.textContent = shown === 1 ? "1 kommun" : shown + " kommuner";
    });
  }
  // The table's comparison: all columns (as without the script), or one of them (a kommun's
  // board: kommungrupp, liknande kommuner or a configured network; a network's table: its
  // mean or Riket); the others are hidden, not removed. data-table names the table.
  var compare = document.getElementById("compare");
  if (compare) {
    var table = compare.getAttribute("data-table") || "board";
    compare.addEventListener("change", function () {
      var v = compare.value;
      Array.prototype.forEach.call(document.querySelectorAll("#" + table + " [data-cmp]"), function (el) {
        var cmp = el.getAttribute("data-cmp");
        el.classList.toggle("hidden", v !== "alla" && cmp !== v);
        el.classList.toggle("pick", cmp === v);  // printed too (report.css)
      });
    });
  }
  function cellValue(row, index, numeric) {
    var text = row.children[index].textContent.trim();
    if (!numeric) { return text; }
    var n = parseFloat(text.replace(/[\u202f\s]/g, "").replace("\u2212", "-").replace(",", "."));
    return isNaN(n) ? -Infinity : n;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
    heads.forEach(function (th) {
      th.setAttribute("tabindex", "0");
      th.setAttribute("aria-sort", "none");
      function sort() {
        var numeric = th.getAttribute("data-sort") === "number";
        var desc = th.getAttribute("aria-sort") !== "descending" && numeric;
        if (!numeric) { desc = th.getAttribute("aria-sort") === "ascending"; }
        var col = parseInt(th.getAttribute("data-col"), 10);
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
          var c = numeric ? x - y : x.localeCompare(y, "sv");
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
  });
}());
