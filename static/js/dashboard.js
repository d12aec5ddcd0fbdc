// Dashboard charts (Chart.js, vendored). Data comes from json_script blocks in the dashboard fragment,
// so an htmx swap of the fragment redraws them. Numbers in Indonesian format.
(function () {
  var number = new Intl.NumberFormat("id-ID");
  var charts = [];
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }
  function draw() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    if (!window.Chart) return;
    var label = data("chart-labels");
    Chart.defaults.font.size = 13;
    var common = { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { tooltip: { callbacks: { label: function (ctx) {
        return ctx.dataset.label + ": " + number.format(ctx.parsed.y !== undefined && ctx.chart.options.indexAxis !== "y" ? ctx.parsed.y : ctx.parsed.x);
      } } } } };
    var canvas = document.querySelector("[data-chart=coverage]");
    if (canvas) {
      var rows = data("data-coverage");
      charts.push(new Chart(canvas, { data: {
        labels: rows.map(function (r) { return r.name; }),
        datasets: [
          { type: "bar", label: label.coverage, data: rows.map(function (r) { return r.coverage; }), backgroundColor: "#0b6b3a" },
          { type: "line", label: label.target, data: rows.map(function () { return 95; }), borderColor: "#b02a37",
            borderDash: [6, 4], pointRadius: 0, borderWidth: 2 }
        ] }, options: Object.assign({}, common, { scales: { y: { beginAtZero: true, suggestedMax: 100 } } }) }));
    }
    canvas = document.querySelector("[data-chart=monthly]");
    if (canvas) {
      var months = data("data-monthly");
      charts.push(new Chart(canvas, { data: {
        labels: months.map(function (m) { return m.month; }),
        datasets: [
          { type: "bar", label: label.births, data: months.map(function (m) { return m.births; }), backgroundColor: "#6c9a7f" },
          { type: "line", label: label.nik_in_time, data: months.map(function (m) { return m.nik_in_time; }),
            borderColor: "#0b3d6b", backgroundColor: "#0b3d6b", borderWidth: 2 }
        ] }, options: Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }) }));
    }
    canvas = document.querySelector("[data-chart=funnel]");
    if (canvas) {
      var steps = data("data-funnel");
      charts.push(new Chart(canvas, { type: "bar", data: {
        labels: steps.map(function (s) { return s.label; }),
        datasets: [{ label: label.babies, data: steps.map(function (s) { return s.n; }), backgroundColor: "#0b6b3a" }]
      }, options: Object.assign({}, common, { indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }) }));
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSwap", draw);
})();
