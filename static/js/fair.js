// Draws a paper's four FAIR sub-scores as a bar chart; the data comes from the page's
// json_script element, and the table beside it says the same without JavaScript. plotly.js comes
// through static/js/plotly-loader.js (window.DataRankPlotly), which the page loads before this.
(function () {
  "use strict";
  var source = document.getElementById("fair-chart-data");
  var target = document.getElementById("fair-chart");
  if (!source || !target || !window.DataRankPlotly) {
    return;
  }

  function draw(Plotly) {
    var chart = JSON.parse(source.textContent);
    var ink = getComputedStyle(document.body).color;
    Plotly.newPlot(
      target,
      [
        {
          type: "bar",
          x: chart.principles,
          y: chart.scores,
          text: chart.scores.map(function (score) { return score.toFixed(0); }),
          textposition: "auto",
          hovertemplate: "%{x}: %{y:.0f}/100<extra></extra>",
          marker: { color: "#0b5cad" }
        }
      ],
      {
        height: 280,
        margin: { t: 10, r: 10, b: 40, l: 50 },
        yaxis: { range: [0, 100], title: { text: "Score (0 to 100)" }, fixedrange: true },
        xaxis: { fixedrange: true },
        font: { color: ink },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)"
      },
      window.DataRankPlotly.config({ displayModeBar: false, responsive: true })
    );
  }

  window.DataRankPlotly.whenNear([target], draw);
})();
