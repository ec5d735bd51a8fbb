// The researcher and institution pages' chart: the DataRank of each corpus paper by its
// publication year. Python builds the points and hands them over in a <script
// type="application/json"> block (json_script); this file only draws them, once the chart nears
// the viewport (plotly.js is fetched by static/js/plotly-loader.js). A click on a dot opens its paper.
(function () {
  "use strict";

  var RANKED = "#0b5cad";
  var NOT_RANKED = "#9aa3b5";
  // Up to this many years, every year gets its tick; past it, plotly spaces them.
  var YEARLY_TICKS = 12;

  function draw() {
    var element = document.getElementById("roll-up-chart");
    var source = document.getElementById("roll-up-chart-data");
    if (!element || !source) return;
    var data = JSON.parse(source.textContent);
    var first = Math.min.apply(null, data.x);
    var last = Math.max.apply(null, data.x);
    var grid = "rgba(128,128,128,0.2)";
    // Papers not ranked sit at 0: a little room below keeps their dots clear of the axis.
    var top = Math.max.apply(null, data.y) || 1;
    var points = {
      type: "scatter", mode: "markers", x: data.x, y: data.y,
      text: data.text, customdata: data.url, hovertemplate: "%{text}<extra></extra>",
      marker: {
        size: 9, opacity: 0.8,
        color: data.ranked.map(function (ranked) { return ranked ? RANKED : NOT_RANKED; }),
        line: { width: 1, color: "rgba(255,255,255,0.8)" },
      },
    };
    var xaxis = { title: { text: "Publication year" }, tickformat: "d", fixedrange: true, gridcolor: grid, zeroline: false };
    if (last - first < YEARLY_TICKS) {
      // A year either side, so that a single year is a column in the middle, not the whole width.
      xaxis.range = [first - 1, last + 1];
      xaxis.dtick = 1;
    }
    var layout = {
      margin: { l: 50, r: 10, t: 10, b: 44 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, sans-serif", color: getComputedStyle(document.body).color },
      hoverlabel: { align: "left" },
      hovermode: "closest",
      showlegend: false,
      xaxis: xaxis,
      yaxis: { title: { text: "DataRank" }, range: [-0.06 * top, 1.08 * top], fixedrange: true, gridcolor: grid, zeroline: false },
    };
    var config = window.DataRankPlotly.config({ responsive: true, displayModeBar: false });
    Plotly.newPlot(element, [points], layout, config).then(function () {
      element.on("plotly_click", function (event) {
        var point = event.points[0];
        if (point && point.customdata) window.location.assign(point.customdata);
      });
      // Tells a test (and a curious reader) that the chart is drawn and answers clicks.
      element.dataset.drawn = "true";
    });
  }

  function start() {
    window.DataRankPlotly.whenNear([document.getElementById("roll-up-chart")], draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
