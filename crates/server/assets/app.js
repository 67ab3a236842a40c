// healthplan pages: charts, the entry grid's keyboard and paste handling, and the import
// review's source highlighting. Progressive: every page works as plain HTML forms too.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "EN" : "ZH";

  function data(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function trendChart() {
    var el = document.getElementById("trend");
    var d = data("trend-data");
    if (!el || !d || !window.echarts) return;
    var L = lang === "EN"
      ? { obs: "Observed", base: "Baseline", target: "Target", line: "Straight path to target", fc: "Forecast", band: "Forecast interval" }
      : { obs: "实际值", base: "基线", target: "目标", line: "序时进度线", fc: "预测值", band: "预测区间" };
    var series = [
      { name: L.obs, type: "line", data: d.observations, symbolSize: 8, lineStyle: { width: 3 }, itemStyle: { color: "#0b5cab" }, z: 5 }
    ];
    if (d.trajectory) series.push({ name: L.line, type: "line", data: d.trajectory, symbol: "none", lineStyle: { type: "dashed", color: "#98a2b3" } });
    if (d.baseline) series.push({ name: L.base, type: "scatter", data: [[d.baseline.year, d.baseline.value]], symbol: "diamond", symbolSize: 14, itemStyle: { color: "#667085" } });
    if (d.targets && d.targets.length) series.push({ name: L.target, type: "scatter", data: d.targets.map(function (t) { return [t.year, t.goal]; }), symbol: "pin", symbolSize: 30, itemStyle: { color: "#1e7e34" } });
    if (d.forecast && d.forecast.from) {
      series.push({ name: L.fc, type: "line", data: [d.forecast.from, [d.forecast.year, d.forecast.value]], lineStyle: { type: "dotted", color: "#b54708" }, itemStyle: { color: "#b54708" } });
      if (d.forecast.lower != null && d.forecast.upper != null) {
        series.push({ name: L.band, type: "line", data: [[d.forecast.year, d.forecast.lower], [d.forecast.year, d.forecast.upper]], lineStyle: { width: 8, opacity: 0.25, color: "#b54708" }, symbol: "none" });
      }
    }
    var chart = echarts.init(el, null, { locale: lang });
    chart.setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 30, bottom: 55 },
      xAxis: { type: "value", minInterval: 1, scale: true, axisLabel: { formatter: function (v) { return String(v); } } },
      yAxis: { type: "value", scale: true, name: d.unit || "" },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function barChart() {
    var el = document.getElementById("bars");
    var d = data("bars-data");
    if (!el || !d || !window.echarts) return;
    var colors = { achieved: "#1e7e34", on_track: "#0f7b7b", moderate: "#d4a017", insufficient: "#e07020", moving_away: "#b42318" };
    var chart = echarts.init(el, null, { locale: lang });
    chart.setOption({
      tooltip: {},
      grid: { left: 80, right: 20, top: 10, bottom: 30 },
      // Bars start at 0: an axis starting near the smallest value makes small gaps look large.
      xAxis: { type: "value", min: function (v) { return Math.min(0, v.min); }, name: d.unit || "" },
      // Top to bottom in the table's order.
      yAxis: { type: "category", inverse: true, data: d.bars.map(function (b) { return b.name; }) },
      series: [{ type: "bar", data: d.bars.map(function (b) { return { value: b.value, itemStyle: { color: colors[b.status] || "#98a2b3" } }; }) }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // The entry grid: Enter moves down a column, pasting a block from Excel fills the cells it
  // covers, and a changed cell is checked on the server (the page only shows the messages).
  function entryGrid() {
    var form = document.getElementById("entry");
    if (!form) return;
    function cell(row, col) { return form.querySelector('input[data-row="' + row + '"][data-col="' + col + '"]'); }
    function check(input) {
      var row = input.getAttribute("data-row");
      var url = form.getAttribute("data-check");
      var target = document.getElementById("msg-" + row);
      if (!url || !target) return;
      var body = new URLSearchParams();
      ["v", "n", "d", "c"].forEach(function (k) {
        var el = form.elements[k + "." + row];
        if (el) body.append(k + "." + row, el.value);
      });
      var token = document.querySelector('meta[name="csrf-token"]');
      fetch(url, { method: "POST", headers: { "X-CSRF-Token": token ? token.content : "", "Content-Type": "application/x-www-form-urlencoded" }, body: body, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { target.innerHTML = html; });
    }
    form.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key !== "Enter" || !t.hasAttribute("data-row")) return;
      e.preventDefault();
      var row = +t.getAttribute("data-row") + (e.shiftKey ? -1 : 1);
      var next = cell(row, t.getAttribute("data-col")) || cell(row, 0);
      if (next) { next.focus(); next.select(); }
    });
    form.addEventListener("change", function (e) {
      if (e.target.hasAttribute("data-row")) check(e.target);
    });
    // A row's fillable cells left to right (value, or numerator and denominator, then the
    // comment), so a block copied from Excel lands column by column whatever the row's kind.
    function rowCells(row) {
      return Array.prototype.filter.call(form.querySelectorAll('input[data-row="' + row + '"]'), function (el) { return !el.hidden; });
    }
    form.addEventListener("paste", function (e) {
      var t = e.target;
      if (!t.hasAttribute("data-row")) return;
      var text = (e.clipboardData || window.clipboardData).getData("text");
      if (text.indexOf("\t") < 0 && text.indexOf("\n") < 0) return;
      e.preventDefault();
      var rows = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
      var r0 = +t.getAttribute("data-row");
      var c0 = rowCells(r0).indexOf(t);
      rows.forEach(function (line, i) {
        var cells = rowCells(r0 + i);
        var touched = null;
        line.split("\t").forEach(function (v, j) {
          var el = cells[c0 + j];
          if (el && !el.readOnly && !el.disabled) { el.value = v.trim(); touched = el; }
        });
        // One check per row, once all its cells are in.
        if (touched) check(touched);
      });
    });
  }

  // Import review: show the selected item's span in the source text.
  function review() {
    var pre = document.getElementById("source");
    if (!pre) return;
    var chars = Array.from(pre.textContent);
    document.addEventListener("click", function (e) {
      var b = e.target.closest(".locate");
      if (!b) return;
      var span = (b.getAttribute("data-span") || "").split(",").map(Number);
      if (span.length !== 2 || span[0] < 0) return;
      var mark = document.createElement("mark");
      mark.textContent = chars.slice(span[0], span[1]).join("");
      pre.replaceChildren(document.createTextNode(chars.slice(0, span[0]).join("")), mark, document.createTextNode(chars.slice(span[1]).join("")));
      mark.scrollIntoView({ block: "center" });
    });
  }

  // The round form shows only the chosen plan's areas.
  function roundForm() {
    var form = document.getElementById("open-round");
    if (!form) return;
    var select = form.querySelector("#plan_id");
    function sync() {
      form.querySelectorAll("fieldset.plan-choice").forEach(function (f) {
        var on = f.getAttribute("data-plan") === select.value;
        f.hidden = !on;
        f.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  function init() { trendChart(); barChart(); entryGrid(); review(); roundForm(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
  document.addEventListener("htmx:afterSettle", function () { trendChart(); barChart(); });
})();

// Plan review: every edit names the plan version the page shows. An htmx edit swaps in the
// new version (#plan-version); copy it into the form being sent, before htmx reads the form.
document.addEventListener("submit", function (e) {
  var current = document.getElementById("plan-version");
  var field = e.target.querySelector && e.target.querySelector('input[name="version"]');
  if (current && field) { field.value = current.value; }
}, true);
// --- daily: the home page's status chart, and "select all" of the bulk review form ---
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "EN" : "ZH";
  function data(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function homeChart() {
    var el = document.getElementById("home-status");
    var d = data("home-status-data");
    var labels = data("home-status-labels") || {};
    if (!el || !d || !window.echarts) return;
    var colors = { achieved: "#1e7e34", on_track: "#0f7b7b", moderate: "#d4a017", insufficient: "#e07020", moving_away: "#b42318", missed: "#7a271a", no_data: "#c0c6cf", not_assessable: "#e4e7ec" };
    var chart = echarts.init(el, null, { locale: lang });
    var narrow = el.clientWidth < 500;
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, type: "scroll" },
      grid: { left: narrow ? 8 : 16, right: 16, top: 10, bottom: 40, containLabel: true },
      xAxis: { type: "value", minInterval: 1, min: 0 },
      yAxis: { type: "category", inverse: true, data: d.plans, axisLabel: { width: narrow ? 90 : 220, overflow: "truncate" } },
      series: d.statuses.map(function (s) {
        return { name: labels[s.key] || s.key, type: "bar", stack: "n", data: s.counts, itemStyle: { color: colors[s.key] } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function selectAll() {
    var b = document.querySelector("[data-bulk-all]");
    if (!b) return;
    b.addEventListener("click", function () {
      var boxes = document.querySelectorAll('input[type=checkbox][form="bulk"]');
      var all = Array.prototype.every.call(boxes, function (x) { return x.checked; });
      Array.prototype.forEach.call(boxes, function (x) { x.checked = !all; });
    });
  }
  function start() { homeChart(); selectAll(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
