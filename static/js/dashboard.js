/* Draws the dashboard charts (Chart.js, vendored) from the JSON that the page
 * carries in <script type="application/json"> blocks (json_script): no inline
 * script, so CSP script-src 'self' holds. Each chart also has a data table. */
(function () {
  "use strict";

  var PRIMARY = "#1a4480";

  function readData(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      return null;
    }
  }

  function draw(canvas) {
    var data = readData(canvas.dataset.chart);
    if (!data || typeof window.Chart === "undefined") return;
    var horizontal = canvas.dataset.chartType === "bar-horizontal";
    var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Engagements", data: data.values, backgroundColor: PRIMARY, borderRadius: 2, maxBarThickness: 32 }],
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        responsive: true,
        animation: reduceMotion ? false : { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0, color: "#1b1b1b" }, grid: { display: !horizontal ? false : true } },
          y: { beginAtZero: true, ticks: { precision: 0, color: "#1b1b1b" }, grid: { display: horizontal ? false : true } },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
