// The paper page's plotly charts: the citation graph and the DataRank distribution. Python
// builds the data and hands it over in <script type="application/json"> blocks (json_script);
// this file only draws it. SVG traces (scatter, bar), never WebGL. Both charts sit low on the
// page: plotly.js is fetched (static/js/plotly-loader.js) when either nears the viewport.
(function () {
  "use strict";

  var COLOURS = { paper: "#d6336c", corpus: "#0b5cad", citer: "#5fa8d3", self: "#e8590c" };
  var DIM = 0.12;

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function ink() {
    return getComputedStyle(document.body).color;
  }

  function baseLayout() {
    return {
      margin: { l: 10, r: 10, t: 10, b: 10 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, sans-serif", color: ink() },
      hoverlabel: { align: "left" },
      showlegend: false,
    };
  }

  function drawGraph() {
    var element = document.getElementById("citation-graph");
    var data = readJSON("citation-graph-data");
    if (!element || !data) return;
    var nodes = data.nodes;
    var count = nodes.id.length;

    // Each node's neighbours, from the edge list, for highlighting.
    var neighbours = nodes.id.map(function () { return []; });
    data.links.forEach(function (link) {
      neighbours[link[0]].push(link[1]);
      neighbours[link[1]].push(link[0]);
    });

    var edges = {
      type: "scatter", mode: "lines", x: data.edges.x, y: data.edges.y,
      line: { width: 0.6, color: "rgba(120,130,150,0.45)" }, hoverinfo: "skip",
    };
    // The clicked node's own edges, drawn over the dimmed rest; empty until a click.
    var highlight = {
      type: "scatter", mode: "lines", x: [], y: [],
      line: { width: 1.6, color: "rgba(214,51,108,0.85)" }, hoverinfo: "skip",
    };
    var points = {
      type: "scatter", mode: "markers", x: nodes.x, y: nodes.y,
      text: nodes.text, hovertemplate: "%{text}<extra></extra>",
      customdata: nodes.id,
      marker: {
        size: nodes.size,
        color: nodes.role.map(function (role) { return COLOURS[role]; }),
        symbol: nodes.role.map(function (role) { return role === "self" ? "diamond" : "circle"; }),
        opacity: nodes.id.map(function () { return 1; }),
        line: { width: 1, color: "rgba(255,255,255,0.8)" },
      },
    };
    var axis = { visible: false, scaleanchor: undefined, zeroline: false, showgrid: false };
    var layout = Object.assign(baseLayout(), {
      xaxis: Object.assign({}, axis),
      yaxis: Object.assign({}, axis, { scaleanchor: "x" }),
      dragmode: "pan",
      hovermode: "closest",
    });
    var config = window.DataRankPlotly.config({ responsive: true, scrollZoom: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] });

    Plotly.newPlot(element, [edges, highlight, points], layout, config).then(function () {
      var home = { x: element.layout.xaxis.range.slice(), y: element.layout.yaxis.range.slice() };
      var pointClicked = false;

      function show(selected) {
        var opacity = [];
        var hx = [];
        var hy = [];
        if (selected === null) {
          for (var i = 0; i < count; i++) opacity.push(1);
        } else {
          var lit = {};
          lit[selected] = true;
          neighbours[selected].forEach(function (other) {
            lit[other] = true;
            hx.push(nodes.x[selected], nodes.x[other], null);
            hy.push(nodes.y[selected], nodes.y[other], null);
          });
          for (var j = 0; j < count; j++) opacity.push(lit[j] ? 1 : DIM);
        }
        var edgeColour = selected === null ? "rgba(120,130,150,0.45)" : "rgba(120,130,150,0.12)";
        Plotly.restyle(element, { "line.color": [edgeColour] }, [0]);
        Plotly.restyle(element, { x: [hx], y: [hy] }, [1]);
        Plotly.restyle(element, { "marker.opacity": [opacity] }, [2]);
        element.dataset.selected = selected === null ? "" : nodes.id[selected];
      }

      element.on("plotly_click", function (event) {
        var point = event.points.filter(function (p) { return p.curveNumber === 2; })[0];
        if (!point) return;
        pointClicked = true;
        show(point.pointIndex);
      });
      // plotly reports clicks on points only; a click that hit none clears the highlight.
      element.addEventListener("click", function () {
        if (!pointClicked) show(null);
        pointClicked = false;
      });
      // Nothing is selected yet; the attribute also tells that the graph now answers clicks.
      element.dataset.selected = "";
      var reset = document.getElementById("graph-reset");
      if (reset) {
        reset.addEventListener("click", function () {
          show(null);
          Plotly.relayout(element, { "xaxis.range": home.x.slice(), "yaxis.range": home.y.slice() });
        });
      }
    });
  }

  function drawDistribution() {
    var element = document.getElementById("distribution-chart");
    var data = readJSON("distribution-data");
    if (!element || !data) return;
    var value = parseFloat(element.dataset.value);
    var bars = {
      type: "bar", x: data.x, y: data.y, width: data.width,
      marker: { color: data.x.map(function (centre) {
        return Math.abs(centre - value) <= data.width / 2 ? COLOURS.paper : "rgba(11,92,173,0.55)";
      }) },
      hovertemplate: "DataRank %{x:.2f}: %{y} papers<extra></extra>",
    };
    var layout = Object.assign(baseLayout(), {
      margin: { l: 50, r: 10, t: 28, b: 40 },
      bargap: 0.05,
      xaxis: { title: { text: "DataRank" }, zeroline: false, fixedrange: true },
      yaxis: { title: { text: "Papers" }, rangemode: "tozero", fixedrange: true, gridcolor: "rgba(128,128,128,0.2)" },
      shapes: [{ type: "line", x0: value, x1: value, yref: "paper", y0: 0, y1: 1, line: { color: COLOURS.paper, width: 2 } }],
      annotations: [{ x: value, yref: "paper", y: 1, yanchor: "bottom", text: "This paper", showarrow: false, font: { color: COLOURS.paper } }],
    });
    Plotly.newPlot(element, [bars], layout, window.DataRankPlotly.config({ responsive: true, displayModeBar: false }));
  }

  function start() {
    var charts = [document.getElementById("citation-graph"), document.getElementById("distribution-chart")];
    window.DataRankPlotly.whenNear(charts, function () {
      drawGraph();
      drawDistribution();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
