/* Simulated handset: the conversation with one number, refreshed every few seconds. */
(function () {
  "use strict";
  const C = window.Callcard;
  const pick = document.getElementById("handset-pick");
  const input = document.getElementById("handset-number");
  const msgs = document.getElementById("handset-msgs");
  const reply = document.getElementById("handset-reply");
  const body = document.getElementById("handset-body");
  const error = document.getElementById("handset-error");
  let number = null, timer = null, lastCount = -1;

  async function load() {
    if (!number) return;
    let data;
    try { data = await C.api("GET", "/api/notifier/handset/" + encodeURIComponent(number)); error.hidden = true; }
    catch (e) {
      const d = e.payload && e.payload.detail;
      error.textContent = Array.isArray(d) ? d.map((x) => x.msg).join("; ") : e.message;
      error.hidden = false;
      return;
    }
    document.getElementById("handset-title").textContent = data.number;
    const items = data.messages || [];
    if (items.length === lastCount) return;
    lastCount = items.length;
    // the client's phone: what Callcard sent arrives ("in"), the client's replies go out ("out")
    msgs.replaceChildren(...items.map((m) => C.el("div", { class: "bubble " + (m.direction === "outbound" ? "in" : "out") },
      m.body, C.el("small", { text: `${C.fmtDateTime(m.at)} · ${m.status}` }))));
    msgs.scrollTop = msgs.scrollHeight;
  }
  pick.addEventListener("submit", (ev) => {
    ev.preventDefault();
    number = input.value.trim();
    lastCount = -1;
    history.replaceState(null, "", "/handset?number=" + encodeURIComponent(number));
    reply.querySelectorAll("input, button").forEach((n) => { n.disabled = !number; });
    clearInterval(timer);
    load();
    timer = setInterval(load, 3000);
  });
  reply.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = body.value.trim();
    if (!text || !number) return;
    try {
      await C.api("POST", "/api/notifier/handset/" + encodeURIComponent(number) + "/reply", { body: text });
      body.value = "";
      load();
    } catch (e) { C.toast(C.t("error"), e.message, "error"); }
  });
  // the numbers Callcard texted last: one click opens the conversation
  const recent = document.getElementById("handset-recent");
  async function loadRecent() {
    let items;
    try { items = await C.api("GET", "/api/notifier/handset"); } catch (e) { return; }
    if (!items.length) return;
    recent.replaceChildren(...items.map((c) => C.el("li", {},
      C.el("button", { type: "button", class: "link", "data-number": c.number, onclick: () => { input.value = c.number; pick.requestSubmit(); } },
        C.el("strong", { text: c.name || c.number }), c.name ? C.el("span", { class: "muted", text: " " + c.number }) : null),
      C.el("small", { class: "muted block", text: `${C.fmtDateTime(c.at)} · ${c.body}` }))));
  }
  loadRecent();
  setInterval(loadRecent, 10000);
  if (input.value) pick.requestSubmit();
})();
