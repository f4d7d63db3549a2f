/* The wall: draws wall.counters snapshots pushed over the websocket. */
(function () {
  "use strict";
  const C = window.Callcard;
  const t = C.t;
  const cfg = JSON.parse(document.getElementById("wall-config").textContent);
  const lang = cfg.lang || "en";
  const num = new Intl.NumberFormat(lang);
  const pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  const one = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const dateFmt = new Intl.DateTimeFormat(lang, { weekday: "long", day: "numeric", month: "long" });
  const timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  let state = null;

  const get = (obj, path) => path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
  function fmt(value, kind) {
    if (value === null || value === undefined) return "—";
    if (kind === "percent") return pct.format(value);
    if (kind === "duration") return C.fmtDuration(value);
    if (kind === "rating") return one.format(value) + " ★";
    return num.format(value);
  }

  /** Shrink a figure that does not fit its tile ("100 %" in Romanian, big counts on a small TV). */
  function fit(node) {
    node.style.fontSize = "";
    if (node.scrollWidth <= node.clientWidth + 1) return;
    const size = parseFloat(getComputedStyle(node).fontSize);
    node.style.fontSize = Math.floor(size * (node.clientWidth / node.scrollWidth) * 0.97) + "px";
  }

  function fitAll() {
    document.querySelectorAll(".tile .value").forEach(fit);
  }

  function draw(snap) {
    state = snap;
    if (snap.at) C.clockOffset = Date.parse(snap.at) - Date.now();
    document.querySelectorAll("[data-k]").forEach((node) => {
      const text = fmt(get(snap, node.dataset.k), node.dataset.fmt);
      if (node.textContent !== text) node.textContent = text;
    });
    fitAll();
    const sl = get(snap, "today.service_level");
    const slTile = document.querySelector('[data-tile="sl"]');
    if (slTile) slTile.classList.toggle("alert", sl !== null && sl !== undefined && sl < 0.8);
    document.querySelector('[data-tile="ringing"]').classList.toggle("hot", snap.now.ringing > 0);
    document.querySelector('[data-tile="waiting"]').classList.toggle("hot", snap.now.waiting > 0);
    const queues = document.getElementById("wall-queues");
    queues.textContent = (snap.now.queues || []).map((q) => `${q.queue}: ${q.count}`).join(" · ");
    const ops = document.getElementById("wall-operators");
    ops.replaceChildren(...(snap.operators || []).map((op) => C.el("div", { class: "op", "data-state": op.state, "data-ext": op.extension },
      C.el("div", { class: "op-name", text: op.name, title: op.name }),
      C.el("div", { class: "op-state" },
        C.el("span", { text: t("state_" + op.state) }),
        C.el("span", { class: "since", "data-since": op.since || "" }, op.since ? C.fmtDuration((Date.now() + C.clockOffset - Date.parse(op.since)) / 1000) : "")),
      C.el("div", { class: "op-stats" },
        C.el("span", {}, "✆ ", C.el("b", { text: num.format(op.calls_today) })),
        C.el("span", {}, "⌀ ", C.el("b", { text: C.fmtDuration(op.avg_talk_s) })),
        C.el("span", {}, "★ ", C.el("b", { text: op.rating && op.rating.avg ? one.format(op.rating.avg) : "—" }))))));
    const overdue = document.getElementById("wall-overdue");
    overdue.replaceChildren(...(snap.overdue || []).slice(0, 8).map((row) => C.el("li", {}, C.el("span", { text: row.name }), C.el("b", { text: num.format(row.count) }))));
    document.getElementById("wall-overdue-none").hidden = (snap.overdue || []).length > 0;
    drawSales(snap.sales);
    tick();
  }

  /** Amounts per currency ({"RON": "12.50"}), largest first, as ["2.462 RON", "182 EUR"]. */
  function amounts(values) {
    const entries = Object.entries(values || {}).sort((a, b) => Number(b[1]) - Number(a[1]));
    if (!entries.length) return [num.format(0)];
    return entries.map(([cur, value]) => {
      try { return new Intl.NumberFormat(lang, { style: "currency", currency: cur, maximumFractionDigits: 0 }).format(Number(value)); }
      catch (e) { return num.format(Number(value)) + " " + cur; }
    });
  }
  const money = (values) => amounts(values).join(" · ");

  function drawSales(sales) {
    const row = document.getElementById("wall-sales");
    if (!row) return;
    row.hidden = !sales;
    if (!sales) return;
    row.querySelectorAll("[data-money]").forEach((node) => {
      const [first, ...rest] = amounts(sales[node.dataset.money]);
      if (node.textContent !== first) { node.textContent = first; fit(node); }
      const more = row.querySelector(`[data-money-rest="${node.dataset.money}"]`);
      if (more) more.textContent = rest.join(" · ");
    });
    // "N payments" in the language's plural form (CLDR category -> the catalog's form)
    const paid = document.getElementById("wall-payments-count");
    if (paid) {
      const forms = JSON.parse(paid.dataset.plural || "{}");
      const n = sales.payments_today_count || 0;
      const form = forms[new Intl.PluralRules(lang).select(n)] || forms.other || "{n}";
      paid.textContent = form.replace("{n}", num.format(n));
    }
    const due = row.querySelector('[data-tile="orders_due"]');
    due.classList.toggle("alert", sales.orders_overdue > 0);
    document.getElementById("wall-sales-ops").replaceChildren(...(sales.per_operator || []).slice(0, 6).map((op) =>
      C.el("li", {}, C.el("span", { text: op.name }), C.el("b", { text: money({ [op.currency]: op.total }) }))));
  }

  function tick() {
    const now = new Date(Date.now() + C.clockOffset);
    document.getElementById("wall-date").textContent = dateFmt.format(now);
    document.getElementById("wall-time").textContent = timeFmt.format(now);
    const longest = state && state.now.longest_since;
    const node = document.getElementById("wall-longest");
    const wait = longest ? (now - Date.parse(longest)) / 1000 : null;
    const text = longest ? C.fmtDuration(wait) : "—";
    if (node.textContent !== text) {
      node.textContent = text;
      if (node.classList.contains("value")) fit(node);
    }
    node.parentElement.classList.toggle("alert", wait !== null && wait > 60);
    C.tickClocks();
  }

  C.on("wall.counters", draw);
  draw(JSON.parse(document.getElementById("wall-initial").textContent));
  setInterval(tick, 1000);
  window.addEventListener("resize", fitAll);
  C.connect(cfg.token ? "?token=" + encodeURIComponent(cfg.token) : "");
})();
