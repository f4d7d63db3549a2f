/* Callcard charts: small self-written SVG line and bar charts (no library, no CDN).
   Charts.draw(container, {labels, series: [{name, values}], max, unit}, "line" | "bar")
   The page keeps a data table beside each chart for screen readers; the SVG is an image with a
   label, every bar and point carries a <title> tooltip. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2563eb", "#dc2626", "#d97706", "#059669", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
  const W = 640, H = 260, PAD = { left: 44, right: 12, top: 12, bottom: 34 };

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // a round step (1, 2, 2.5 or 5 times a power of ten) giving about 4 gridlines
  function niceStep(value) {
    if (!(value > 0)) return 1;
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= value) return m * magnitude;
    return 10 * magnitude;
  }

  function scale(max, fixed) {
    const step = niceStep(fixed ? fixed / 5 : max / 4);
    const integer = Number.isInteger(max) && !fixed ? Math.max(1, Math.ceil(step)) : step;
    const top = fixed || integer * Math.max(1, Math.ceil(max / integer));
    return { top, step: integer, ticks: Math.round(top / integer) };
  }

  function format(value, lang) {
    return value === null || value === undefined ? "—" : new Intl.NumberFormat(lang).format(value);
  }

  function axes(svg, sc, labels, lang) {
    const plotH = H - PAD.top - PAD.bottom;
    for (let i = 0; i <= sc.ticks; i++) {
      const y = PAD.top + plotH - (plotH * i) / sc.ticks;
      svg.append(svgEl("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
      svg.append(svgEl("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", class: "tick" },
        format(Math.round(sc.step * i * 100) / 100, lang)));
    }
    const plotW = W - PAD.left - PAD.right;
    const every = Math.max(1, Math.ceil(labels.length / 12));
    labels.forEach((label, i) => {
      if (i % every) return;
      const x = PAD.left + (plotW * (i + 0.5)) / labels.length;
      svg.append(svgEl("text", { x, y: H - PAD.bottom + 16, "text-anchor": "middle", class: "tick" }, label));
    });
  }

  function bars(svg, spec, top, lang) {
    const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const slot = plotW / Math.max(1, spec.labels.length);
    const width = Math.max(1, (slot * 0.8) / spec.series.length);
    spec.series.forEach((s, si) => {
      s.values.forEach((value, i) => {
        const h = value ? (plotH * value) / top : 0;
        const x = PAD.left + slot * i + slot * 0.1 + width * si;
        const rect = svgEl("rect", { x, y: PAD.top + plotH - h, width, height: h, fill: COLORS[si % COLORS.length], class: "bar" });
        rect.append(svgEl("title", {}, `${spec.labels[i]} · ${s.name}: ${format(value, lang)}`));
        svg.append(rect);
      });
    });
  }

  function lines(svg, spec, top, lang) {
    const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const n = Math.max(1, spec.labels.length);
    spec.series.forEach((s, si) => {
      const color = COLORS[si % COLORS.length];
      let d = "", pen = "M";
      s.values.forEach((value, i) => {
        if (value === null || value === undefined) { pen = "M"; return; }
        const x = PAD.left + (plotW * (i + 0.5)) / n, y = PAD.top + plotH - (plotH * value) / top;
        d += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
        pen = "L";
        const dot = svgEl("circle", { cx: x, cy: y, r: 3.5, fill: color, class: "dot" });
        dot.append(svgEl("title", {}, `${spec.labels[i]} · ${s.name}: ${format(value, lang)}`));
        svg.append(dot);
      });
      if (d) svg.prepend(svgEl("path", { d: d.trim(), fill: "none", stroke: color, "stroke-width": 2.5, class: "line" }));
    });
  }

  function legend(spec) {
    const list = document.createElement("ul");
    list.className = "chart-legend";
    spec.series.forEach((s, si) => {
      const item = document.createElement("li");
      const swatch = svgEl("svg", { width: 12, height: 12, "aria-hidden": "true" });
      swatch.append(svgEl("rect", { width: 12, height: 12, rx: 2, fill: COLORS[si % COLORS.length] }));
      item.append(swatch, document.createTextNode(" " + s.name));
      list.append(item);
    });
    return list;
  }

  function draw(container, spec, kind, options) {
    const lang = (options && options.lang) || document.documentElement.lang || "en";
    container.replaceChildren();
    const values = spec.series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    if (!spec.labels.length || !values.some((v) => v > 0)) {
      const p = document.createElement("p");
      p.className = "muted chart-empty";
      p.textContent = (options && options.empty) || "—";
      container.append(p);
      return null;
    }
    const sc = scale(Math.max(...values), spec.max);
    const top = sc.top;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: `chart-svg chart-${kind}`, preserveAspectRatio: "xMidYMid meet" });
    const label = container.getAttribute("aria-labelledby");
    if (label) svg.setAttribute("aria-labelledby", label);
    axes(svg, sc, spec.labels, lang);
    (kind === "line" ? lines : bars)(svg, spec, top, lang);
    container.append(svg, legend(spec));
    return svg;
  }

  window.Charts = { draw, scale };
})();
