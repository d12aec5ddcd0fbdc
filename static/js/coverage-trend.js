// Coverage trend chart (Chart.js, vendored). Data from the json_script block "data-tren"; translated
// labels and the locale from the canvas's data attributes, so the page needs no inline script.
(function () {
  var canvas = document.getElementById("grafik-tren");
  var source = document.getElementById("data-tren");
  if (!canvas || !source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var label = canvas.dataset;
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        {label: label.labelCoverage, data: data.coverage, borderColor: "#0b6b3a", spanGaps: true},
        {label: label.labelActive, data: data.active, borderColor: "#1f6feb", spanGaps: true},
        {label: label.labelTarget, data: data.target, borderColor: "#b42318", borderDash: [6, 4], pointRadius: 0, stepped: true}
      ]
    },
    options: {locale: label.locale, scales: {y: {suggestedMin: 50, suggestedMax: 100}}}
  });
})();
