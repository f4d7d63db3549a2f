/* Workspace: the list of calls to return, refreshed when calls end. */
(function () {
  "use strict";
  const C = window.Callcard;
  const t = C.t;
  const list = document.getElementById("calls-to-return");
  let timer = null;

  async function load() {
    let rows;
    try { rows = await C.api("GET", "/api/calls/to-return"); } catch (e) { list.replaceChildren(C.el("li", { class: "empty", text: t("error") })); return; }
    if (!rows.length) { list.replaceChildren(C.el("li", { class: "empty", text: t("nothing_to_return") })); return; }
    list.replaceChildren(...rows.map((row) => C.el("li", { "data-call-id": row.linkedid },
      C.el("span", {},
        row.client_id ? C.el("a", { href: `/clients/${row.client_id}`, text: row.client_name || row.number }) : C.el("strong", { text: row.number || "—" }),
        " ", C.el("span", { class: "badge " + (row.disposition === "abandoned" ? "warn" : "bad"), text: t("disposition_" + row.disposition) }),
        row.voicemail_left ? [" ", C.el("span", { class: "badge", text: t("left_voicemail") + (row.voicemail_s ? ` · ${Math.round(row.voicemail_s)} s` : "") })] : null,
        C.el("br"),
        C.el("small", { class: "muted", text: [C.fmtDateTime(row.at), row.client_id ? row.number : null, row.queue ? `${t("queue")} ${row.queue}` : null, row.attempts ? `× ${row.attempts}` : null].filter(Boolean).join(" · ") })),
      C.el("span", { class: "row" },
        row.number ? C.el("button", { class: "btn call small", type: "button", "data-call-number": row.e164 || row.number, text: t("call_back") }) : null,
        C.el("button", { class: "btn small ghost", type: "button", "data-action": `/api/calls/to-return/${row.task_id}/done`, text: t("done") })))));
  }
  const soon = () => { clearTimeout(timer); timer = setTimeout(load, 800); };
  C.on("call.ended", soon);
  C.on("hello", soon);
  document.getElementById("refresh-return").addEventListener("click", load);
  load();
  setInterval(load, 60000);
})();
