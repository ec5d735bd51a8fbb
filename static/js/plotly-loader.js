// Loads the vendored plotly.js basic bundle (static/vendor/plotly-basic/) once, when a chart
// needs it, and gives every chart the same modebar config. The bundle's URL comes from this
// script tag's data-plotly attribute ({% static %} names the hashed file); the tag it inserts is
// a plain <script src> from our own origin, which the site's CSP (script-src 'self') allows.
//
//   DataRankPlotly.whenNear([element, …], draw)  draw(Plotly) once any element nears the viewport
//   DataRankPlotly.load()                         a promise of window.Plotly, fetched at most once
//   DataRankPlotly.config({…})                    plotly config: no logo, no cloud/share buttons
(function () {
  "use strict";

  var script = document.currentScript;
  var source = script && script.dataset.plotly;
  // How far below (or above) the viewport a chart starts the download: about a screen on a
  // phone, so the bundle (1.2 MB, ~370 kB gzipped) is usually there before the chart is.
  var MARGIN = "800px 0px";
  var loading = null;

  function load() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = source;
        tag.async = true;
        tag.onload = function () {
          if (window.Plotly) resolve(window.Plotly);
          else reject(new Error("plotly.js loaded but did not define window.Plotly"));
        };
        tag.onerror = function () {
          loading = null;
          tag.remove();
          reject(new Error("could not load " + source));
        };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function whenNear(elements, draw) {
    elements = elements.filter(Boolean);
    if (!elements.length) return;
    function go() {
      load().then(draw, function (error) { console.error(error.message); });
    }
    if (!("IntersectionObserver" in window)) {
      go();
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      if (!entries.some(function (entry) { return entry.isIntersecting; })) return;
      observer.disconnect();
      go();
    }, { rootMargin: MARGIN });
    elements.forEach(function (element) { observer.observe(element); });
  }

  // Plotly's modebar would offer "Share chart…" (an upload to Plotly Cloud) and its logo.
  var REMOVED = ["sendChartToCloud", "sendDataToCloud"];

  function config(extra) {
    var result = Object.assign({ displaylogo: false, showSendToCloud: false }, extra);
    result.modeBarButtonsToRemove = REMOVED.concat((extra && extra.modeBarButtonsToRemove) || []);
    return result;
  }

  window.DataRankPlotly = { load: load, whenNear: whenNear, config: config };
})();
