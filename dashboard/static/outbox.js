/* Outbox page: messages with their status, live as statuses change. */
(function () {
  "use strict";
  const C = window.Callcard;
  const L = JSON.parse(document.getElementById("outbox-labels").textContent);
  const form = document.getElementById("outbox-filters");
  const rows = document.getElementById("outbox-rows");
  const more = document.getElementById("outbox-more");
  const statusClass = { delivered: "ok", sent: "ok", failed: "bad", unknown: "warn", cancelled: "", pending: "warn", sending: "warn" };
  let before = null, timer = null;

  function query(extra) {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    if (extra) q.set("before_id", extra);
    return q.toString();
  }
  async function counts() {
    try {
      const data = await C.api("GET", "/api/notifier/outbox/counts");
      document.getElementById("outbox-counts").replaceChildren(...Object.entries(data.by_status || {}).map(([s, n]) => C.el("span", { class: "chip" }, `${(L.statuses || {})[s] || s}: ${n}`)));
    } catch (e) { /* the counts are a nicety */ }
  }
  function row(m) {
    return C.el("tr", { "data-id": m.id },
      C.el("td", { text: m.id }),
      C.el("td", {}, C.el("span", { class: "badge " + (statusClass[m.status] || ""), text: (L.statuses || {})[m.status] || m.status }), m.error_message ? C.el("div", { class: "muted", text: m.error_message }) : null),
      C.el("td", { text: (L.channels || {})[m.channel] || m.channel }),
      C.el("td", {}, m.client_id ? C.el("a", { href: `/clients/${m.client_id}`, text: m.recipient }) : m.recipient),
      C.el("td", {}, m.subject ? C.el("strong", { text: m.subject + " " }) : null, String(m.body || "").slice(0, 160)),
      C.el("td", { class: "hide-sm", text: C.fmtDateTime(m.due_at) }),
      C.el("td", { class: "hide-sm num", text: m.attempts }),
      C.el("td", {},
        ["failed", "cancelled", "unknown"].includes(m.status) ? C.el("button", { class: "btn small", "data-action": `/api/notifier/outbox/${m.id}/retry`, text: L.retry }) : null,
        ["pending"].includes(m.status) ? C.el("button", { class: "btn small danger", "data-action": `/api/notifier/outbox/${m.id}/cancel`, text: L.cancel }) : null));
  }
  async function load(append) {
    let data;
    try { data = await C.api("GET", "/api/notifier/outbox?" + query(append ? before : null)); }
    catch (e) { rows.replaceChildren(C.el("tr", {}, C.el("td", { colspan: 8, class: "empty", text: e.message }))); return; }
    const items = data.items || [];
    if (!append) rows.replaceChildren();
    if (!append && !items.length) rows.append(C.el("tr", {}, C.el("td", { colspan: 8, class: "empty", text: L.empty })));
    items.forEach((m) => rows.append(row(m)));
    before = data.next_before_id;
    more.hidden = !before;
    counts();
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  C.on("outbox.status", () => { clearTimeout(timer); timer = setTimeout(() => load(false), 500); });
  load(false);
})();
