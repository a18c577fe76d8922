// The dashboard (报表): draw each chart from the page's JSON (numbers and translated words), send a
// click on a bar, slice or cell to the list behind it, and resize with the screen. No words here:
// every label comes from the server in the page's language.
(function () {
  "use strict";
  var blob = document.getElementById("dashboard-data");
  if (!blob || !window.echarts) return;
  var data = JSON.parse(blob.textContent);
  var words = data.labels;
  var lang = document.documentElement.lang || "zh-hans";
  var narrow = window.matchMedia("(max-width: 700px)").matches;
  var compact = new Intl.NumberFormat(lang === "en" ? "en" : "zh-CN", { notation: "compact", maximumFractionDigits: 1 });
  var money = new Intl.NumberFormat(lang === "en" ? "en" : "zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var BRAND = "#0b5cad", SOFT = "#9fc3e7", WARN = "#b42318", OK = "#027a48", AMBER = "#d97706";
  var charts = [];

  function pct(value) { return value === null || value === undefined ? null : Math.round(parseFloat(value) * 10000) / 100; }
  function num(value) { return value === null || value === undefined ? null : parseFloat(value); }
  function pctText(value) { return value === null || value === undefined ? "—" : value.toFixed(2) + "%"; }
  function yuan(value) { return "¥" + money.format(value); }
  function go(url) { if (url) window.location.href = url; }
  function grid(extra) {
    var base = { left: 8, right: 12, top: 36, bottom: 8, containLabel: true };
    for (var key in extra) base[key] = extra[key];
    return base;
  }

  function mount(name, option, rows, height) {
    var box = document.querySelector('[data-chart="' + name + '"]');
    if (!box) return null;
    if (height) box.style.height = height + "px";
    var chart = echarts.init(box, null, { renderer: "canvas" });
    option.animation = false;
    option.textStyle = { fontFamily: getComputedStyle(document.body).fontFamily };
    chart.setOption(option);
    if (rows) {
      chart.on("click", function (params) {
        var row = rows[params.dataIndex];
        if (row) go(row.url);
      });
    }
    var loading = box.parentNode.querySelector(".chart-loading");
    if (loading) loading.hidden = true;
    box.classList.add("ready");
    charts.push(chart);
    return chart;
  }

  // 收缴率 and 欠费率 as lines (left axis, %), the month's recovery as bars (right axis, yuan).
  function trend() {
    var points = data.trend;
    mount("trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: grid({ top: 44 }),
      xAxis: { type: "category", data: points.map(function (p) { return p.month; }), axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", axisLabel: { formatter: "{value}%" } },
        { type: "value", splitLine: { show: false }, axisLabel: { formatter: function (v) { return compact.format(v); } } },
      ],
      series: [
        { name: words.recovered, type: "bar", yAxisIndex: 1, itemStyle: { color: SOFT }, data: points.map(function (p) { return num(p.recovered); }),
          tooltip: { valueFormatter: yuan } },
        { name: words.collection_rate, type: "line", color: OK, symbolSize: narrow ? 3 : 6, data: points.map(function (p) { return pct(p.period_collection_rate); }),
          tooltip: { valueFormatter: pctText } },
        { name: words.arrears_rate, type: "line", color: WARN, symbolSize: narrow ? 3 : 6, data: points.map(function (p) { return pct(p.arrears_rate_amount); }),
          tooltip: { valueFormatter: pctText } },
      ],
    }, points);
  }

  // 7/15-day recovery beside seed 003's benchmark (60% / 80%): green when met, red when not.
  function recovery() {
    var rows = data.recovery;
    mount("recovery", {
      tooltip: { trigger: "axis", valueFormatter: pctText },
      legend: { top: 0 },
      grid: grid({ top: 44 }),
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: words.actual, type: "bar", color: OK, barMaxWidth: 48, label: { show: true, position: "top", formatter: function (p) { return pctText(p.value); } },
          data: rows.map(function (r) { return { value: pct(r.rate), itemStyle: { color: r.met === false ? WARN : OK } }; }) },
        { name: words.benchmark, type: "bar", barMaxWidth: 48, itemStyle: { color: "#cbd2d9" },
          label: { show: true, position: "top", formatter: function (p) { return pctText(p.value); } },
          data: rows.map(function (r) { return pct(r.benchmark); }) },
      ],
    }, rows);
  }

  // Open cases by bucket: principal as bars (left), the number of cases as a line (right).
  function aging() {
    var rows = data.aging;
    mount("aging", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: grid({ top: 44 }),
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: narrow ? 45 : 30 } },
      yAxis: [
        { type: "value", axisLabel: { formatter: function (v) { return compact.format(v); } } },
        { type: "value", minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        { name: words.principal, type: "bar", color: BRAND, data: rows.map(function (r) { return num(r.principal); }), tooltip: { valueFormatter: yuan } },
        { name: words.cases, type: "line", yAxisIndex: 1, color: AMBER, data: rows.map(function (r) { return r.cases; }) },
      ],
    }, rows);
  }

  function tiers() {
    var rows = data.tiers;
    mount("tiers", {
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "<br>" + words.cases + ": " + p.value + " (" + p.percent + "%)"; } },
      legend: { bottom: 0 },
      color: [WARN, AMBER, SOFT],
      series: [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{c}" },
        data: rows.map(function (r) { return { name: r.label, value: r.cases }; }),
      }],
    }, rows);
  }

  function reasons() {
    var rows = data.reasons.slice().reverse();  // the largest at the top of a horizontal bar chart
    if (!rows.length) { hideChart("reasons"); return; }
    mount("reasons", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: yuan },
      grid: grid({ top: 8 }),
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return compact.format(v); } } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { width: narrow ? 110 : 200, overflow: "truncate" } },
      series: [{ name: words.principal, type: "bar", color: BRAND, data: rows.map(function (r) { return num(r.principal); }) }],
    }, rows, Math.max(160, rows.length * 34 + 50));
  }

  // Community (rows) × building (columns). On a phone a grid wider than the screen is not drawn:
  // the table below, coloured the same way, is the heat map there.
  function heatmap() {
    var heat = data.heatmap;
    if (!heat.cells.length) { hideChart("heatmap"); return; }
    var box = document.querySelector('[data-chart="heatmap"]');
    var width = box.clientWidth || 320;
    var fits = (width - 120) / heat.buildings.length >= 32;
    if (narrow && !fits) {
      hideChart("heatmap");
      document.querySelector("#heatmap .heat-note").hidden = false;
      return;
    }
    var steps = heat.steps.map(pct);
    var colours = ["#ecfdf3", "#d1fadf", "#fef0c7", "#fedf89", "#fda29b", "#d92d20"];
    var pieces = [{ lt: steps[0], color: colours[0] }];
    for (var i = 0; i < steps.length - 1; i++) pieces.push({ gte: steps[i], lt: steps[i + 1], color: colours[i + 1] });
    pieces.push({ gte: steps[steps.length - 1], color: colours[5] });
    pieces.forEach(function (piece) {
      piece.label = piece.lt === undefined ? "≥ " + piece.gte + "%" : (piece.gte === undefined ? "< " + piece.lt + "%" : piece.gte + "–" + piece.lt + "%");
    });
    var zoom = fits ? [] : [{ type: "slider", xAxisIndex: 0, startValue: 0, endValue: Math.max(0, Math.floor((width - 120) / 32) - 1), height: 16, bottom: 36 }];
    mount("heatmap", {
      tooltip: { formatter: function (p) {
        var cell = heat.cells[p.dataIndex];
        return cell.community + " " + cell.building + "<br>" + words.arrears_rate + ": " + pctText(pct(cell.rate)) +
          "<br>" + words.year_outstanding + ": " + yuan(num(cell.year_outstanding));
      } },
      grid: grid({ top: 8, bottom: fits ? 44 : 64 }),
      xAxis: { type: "category", data: heat.buildings, splitArea: { show: true }, axisLabel: { interval: 0, rotate: heat.buildings.length > 8 ? 45 : 0 } },
      yAxis: { type: "category", data: heat.communities, splitArea: { show: true }, inverse: true },
      visualMap: { type: "piecewise", dimension: 2, pieces: pieces, orient: "horizontal", left: "center", bottom: 0, itemWidth: 14, textStyle: { fontSize: 11 } },
      dataZoom: zoom,
      series: [{
        type: "heatmap", label: { show: true, fontSize: 11, formatter: function (p) { return p.value[2] === "-" ? "" : p.value[2].toFixed(1); } },
        data: heat.cells.map(function (c) { var v = pct(c.rate); return [c.x, c.y, v === null ? "-" : v]; }),
        emphasis: { itemStyle: { borderColor: "#1f2933", borderWidth: 1 } },
      }],
    }, heat.cells, heat.communities.length * 40 + (fits ? 80 : 110));
  }

  // Each collector's month: recovered (this month) and the principal of their open cases.
  function collectors() {
    var rows = data.collectors.slice().reverse();
    if (!rows.length) { hideChart("collectors"); return; }
    mount("collectors", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: yuan },
      legend: { top: 0 },
      grid: grid({ top: 36 }),
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return compact.format(v); } } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { width: narrow ? 80 : 140, overflow: "truncate" } },
      series: [
        { name: words.recovered, type: "bar", color: OK, data: rows.map(function (r) { return num(r.recovered); }) },
        { name: words.principal, type: "bar", color: WARN, data: rows.map(function (r) { return num(r.principal); }) },
      ],
    }, rows, Math.max(180, rows.length * 36 + 70));
  }

  function hideChart(name) {
    var box = document.querySelector('[data-chart="' + name + '"]');
    if (box) box.parentNode.hidden = true;
  }

  [trend, recovery, aging, tiers, reasons, heatmap, collectors].forEach(function (draw) {
    try { draw(); } catch (error) { if (window.console) console.error(error); }
  });
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { charts.forEach(function (chart) { chart.resize(); }); });
  });
})();
