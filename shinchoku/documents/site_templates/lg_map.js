/* shinchoku: a computed KPI's map of the municipalities, drawn by Plotly offline from the boundaries the site ships
   (SHINCHOKU_BOUNDARIES, above). A click on a municipality opens its page, lg/<code>.html under the site's root. */
function shinchokuMap(id, figure, root) {
  var element = document.getElementById(id);
  // the base map is hidden (geo.visible false), yet Plotly would fetch its world topojson from its CDN: give it an
  // empty one here instead, so that nothing leaves the site
  var empty = {type: "GeometryCollection", geometries: []};
  window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
  window.PlotlyGeoAssets.topojson.world_110m = {type: "Topology", arcs: [], objects: {
    land: empty, ocean: empty, lakes: empty, rivers: empty, coastlines: empty, countries: empty, subunits: empty}};
  figure.data.forEach(function (trace) { trace.geojson = SHINCHOKU_BOUNDARIES; });
  Plotly.newPlot(element, figure.data, figure.layout, {displayModeBar: false, responsive: true}).then(function () {
    element.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var code = point && point.customdata && String(point.customdata[0]);
      if (code && /^[0-9]{6}$/.test(code)) { window.location.href = root + "lg/" + code + ".html"; }
    });
  });
}
