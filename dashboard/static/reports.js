/* /reports: draws each [data-chart] from the page's JSON data with charts.js. */
(function () {
  "use strict";
  const block = document.getElementById("report-data");
  if (!block || !window.Charts) return;
  const data = JSON.parse(block.textContent);
  document.querySelectorAll("[data-chart]").forEach((node) => {
    const spec = data[node.dataset.chart];
    if (spec) window.Charts.draw(node, spec, node.dataset.kind || "bar", { empty: data.no_data });
  });
})();
