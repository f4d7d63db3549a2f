/* Callcard browser script: live socket, call popups, quick search, click-to-call, API forms.
   Self-hosted, no framework, no build step. */
(function () {
  "use strict";
  // the page's translations: a JSON block the server fills (no inline script: see the CSP)
  const i18nBlock = document.getElementById("callcard-i18n");
  const I18N = i18nBlock ? JSON.parse(i18nBlock.textContent) : {};
  const t = (key) => I18N[key] || key;
  // client fields as the admin renamed them (Administration > Field labels), else our words
  const labelsBlock = document.getElementById("callcard-labels");
  const LABELS = labelsBlock ? JSON.parse(labelsBlock.textContent) : {};
  const fieldLabel = (field, key) => LABELS[field] || t(key);
  const body = document.body;
  const csrf = body.dataset.csrf || "";
  const lang = body.dataset.lang || "en";
  const Callcard = (window.Callcard = window.Callcard || {});
  Callcard.t = t;
  // a translated message with its %(name)s placeholders filled, numbers written the page's way
  const numberFmt = new Intl.NumberFormat(lang);
  const tf = (key, params) => t(key).replace(/%\((\w+)\)s/g, (_, name) => {
    const value = params[name];
    return typeof value === "number" ? numberFmt.format(value) : String(value ?? "");
  });
  Callcard.tf = tf;
  // amounts come as decimal strings ("1234.50"): written the page's way, never through a float sum
  const moneyFmt = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  Callcard.fmtMoney = (value) => (value === null || value === undefined || value === "" ? "" : moneyFmt.format(Number(value)));

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  Callcard.el = el;

  async function api(method, url, data) {
    // the user's language, so that the server's error messages come back in it
    const opts = { method, headers: { Accept: "application/json", "Accept-Language": lang }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (data !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data);
    }
    const response = await fetch(url, opts);
    let payload = null;
    const text = await response.text();
    try { payload = text ? JSON.parse(text) : null; } catch (e) { payload = { detail: text }; }
    if (!response.ok) {
      const err = new Error((payload && typeof payload.detail === "string" && payload.detail) || response.statusText);
      err.status = response.status;
      err.payload = payload;
      throw err;
    }
    return payload;
  }
  Callcard.api = api;

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "—";
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  }
  Callcard.fmtDuration = fmtDuration;
  // times in the user's zone (body data-tz, from their settings), not the browser's
  const timeZone = ((tz) => {
    try { return tz ? new Intl.DateTimeFormat(lang, { timeZone: tz }).resolvedOptions().timeZone : undefined; } catch (e) { return undefined; }
  })(body.dataset.tz);
  Callcard.timeZone = timeZone;
  const timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone });
  const dateTimeFmt = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short", timeZone });
  Callcard.fmtTime = (iso) => (iso ? timeFmt.format(new Date(iso)) : "");
  Callcard.fmtDateTime = (iso) => (iso ? dateTimeFmt.format(new Date(iso)) : "");

  // ---------------------------------------------------------------- toasts
  function toast(title, text, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const node = el("div", { class: "toast " + (kind || ""), role: "status" },
      el("strong", { text: title }), text ? el("div", { text }) : null,
      el("button", { class: "toast-close", type: "button", "aria-label": t("close"), onclick: () => node.remove(), text: "×" }));
    box.append(node);
    setTimeout(() => node.remove(), kind === "sticky" ? 60000 : 8000);
  }
  Callcard.toast = toast;

  // ---------------------------------------------------------------- live socket
  const handlers = {};
  Callcard.on = (type, fn) => { (handlers[type] = handlers[type] || []).push(fn); };
  function emit(msg) {
    for (const fn of handlers[msg.type] || []) { try { fn(msg); } catch (e) { console.error(e); } }
    for (const fn of handlers["*"] || []) { try { fn(msg); } catch (e) { console.error(e); } }
  }

  function setLive(state) {
    const dot = document.getElementById("live-status");
    if (dot) {
      dot.dataset.state = state;
      dot.title = state === "open" ? t("connected") : t("reconnecting");
    }
    document.querySelectorAll("[data-live-banner]").forEach((b) => { b.hidden = state === "open"; });
  }

  Callcard.connect = function (query) {
    let delay = 500, pingTimer = null, socket = null;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + (query || "");
    function open() {
      setLive("connecting");
      socket = new WebSocket(url);
      Callcard.socket = socket;
      socket.onopen = () => {
        delay = 500;
        setLive("open");
        pingTimer = setInterval(() => { if (socket.readyState === 1) socket.send("ping"); }, 25000);
      };
      socket.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        emit(msg);
      };
      socket.onclose = (ev) => {
        clearInterval(pingTimer);
        setLive("closed");
        if (ev.code === 4401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
        const wait = delay + Math.random() * delay * 0.3;  // backoff with jitter
        delay = Math.min(delay * 2, 15000);
        setTimeout(open, wait);
      };
    }
    open();
  };

  // ---------------------------------------------------------------- click-to-call
  async function originate(payload, button) {
    if (button) { button.disabled = true; button.classList.add("busy"); }
    try {
      await api("POST", "/api/calls/originate", payload);
      toast(t("calling"), payload.number || "", "ok");
    } catch (e) {
      toast(t("call_failed"), e.message, "error");
    } finally {
      if (button) { setTimeout(() => { button.disabled = false; button.classList.remove("busy"); }, 1500); }
    }
  }
  Callcard.originate = originate;
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-call-number], [data-call-phone-id]");
    if (!btn) return;
    ev.preventDefault();
    const payload = btn.dataset.callPhoneId
      ? { client_id: Number(btn.dataset.clientId), phone_id: Number(btn.dataset.callPhoneId) }
      : { number: btn.dataset.callNumber };
    originate(payload, btn);
  });

  // ---------------------------------------------------------------- popups
  const popups = new Map();
  function cardField(card, ...names) {
    for (const n of names) {
      const v = n.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), card);
      if (v !== undefined && v !== null && v !== "") return v;
    }
    return null;
  }
  // a translated label for a code, or the code itself ("kind_call" -> "Call")
  function label(prefix, code) {
    if (!code) return "";
    const key = prefix + code;
    return I18N[key] || String(code).replace(/_/g, " ");
  }

  // the client categories as the admin named them (code -> label), read once per page
  const categoryLabels = {};
  if (document.getElementById("popups") && document.body.dataset.userId) {  // signed in only
    api("GET", "/api/choices/client_category")
      .then((items) => { for (const item of items || []) categoryLabels[item.code] = item.label; })
      .catch(() => {}); // the code stands in for its label
  }
  function categoryLabel(code) {
    if (categoryLabels[code]) return categoryLabels[code];
    return code.toLowerCase() === "vip" ? "VIP" : code.charAt(0).toUpperCase() + code.slice(1);
  }

  function stars(rating) {
    if (!rating) return "—";
    return "★".repeat(rating) + "☆".repeat(Math.max(0, 5 - rating));
  }

  function renderPopup(msg) {
    const card = msg.card;
    const number = msg.withheld ? t("withheld_number") : (msg.number || msg.e164 || "");
    const clientId = card ? cardField(card, "client_id", "id") : null;
    const name = card ? cardField(card, "display_name", "name") : (msg.name || t("unknown_number"));
    const org = card ? cardField(card, "organization.name", "organization_name", "org_name") : null;
    const category = card ? cardField(card, "category") : null;
    const isVip = card && (card.is_vip === true || String(category || "").toLowerCase() === "vip");
    const owner = card ? cardField(card, "owner.name", "owner_name") : null;
    const rating = card ? cardField(card, "last_rating") : null;
    const interactions = (card && (card.interactions || card.last_interactions)) || [];
    const tasks = (card && (card.open_tasks || card.tasks)) || [];

    // a labelled region, not a dialog: it never takes the focus from what the operator types
    const node = el("section", { class: "popup" + (isVip ? " vip" : "") + (card ? "" : " unknown"), "data-call-id": msg.call_id, "aria-label": `${t("incoming_call")}: ${name}` });
    const status = el("div", { class: "popup-status", text: t("incoming_call") + (msg.queue ? ` · ${t("queue")} ${msg.queue}` : "") });
    const head = el("div", { class: "popup-head" },
      el("div", { class: "popup-who" },
        el("div", { class: "popup-name", text: typeof name === "string" ? name : String(name) }),
        el("div", { class: "popup-number", text: number })),
      isVip ? el("span", { class: "badge vip", text: "VIP" }) : (category ? el("span", { class: "badge", text: categoryLabel(category) }) : null));
    const facts = el("dl", { class: "popup-facts" });
    const addFact = (label, value) => { if (value !== null && value !== undefined && value !== "") facts.append(el("dt", { text: label }), el("dd", { text: String(typeof value === "object" ? (value.display_name || value.name || value.full_name || "") : value) })); };
    if (card) {
      addFact(fieldLabel("org_name", "organization"), org);
      addFact(fieldLabel("category", "category"), category ? categoryLabel(category) : null);
      addFact(fieldLabel("owner", "owner"), owner);
      addFact(t("last_rating"), rating ? stars(Number(rating)) : null);
      if (rating) facts.lastElementChild.classList.add("stars");
      // what the caller owes (per currency) and their last order: said before "hello"
      (card.debts || []).forEach((d) => {
        addFact(t("debt"), `${Callcard.fmtMoney(d.amount)} ${d.currency}`);
        facts.lastElementChild.classList.add("debt");
      });
      if (card.last_order) {
        const o = card.last_order;
        addFact(t("last_order"), [o.number, o.total ? `${Callcard.fmtMoney(o.total)} ${o.currency || ""}` : ""].filter(Boolean).join(" · "));
      }
    }
    const lists = el("div", { class: "popup-lists" });
    if (interactions.length) {
      lists.append(el("h4", { text: t("last_interactions") }),
        el("ul", {}, interactions.slice(0, 3).map((i) => el("li", {},
          el("span", { class: "muted", text: Callcard.fmtDateTime(i.occurred_at || i.at) + " " }),
          [label("kind_", i.kind), label("result_", i.result || i.result_code), i.subject].filter(Boolean).join(" · ")))));
    }
    if (tasks.length) {
      lists.append(el("h4", { text: `${t("open_tasks")} (${tasks.length})` }),
        el("ul", {}, tasks.slice(0, 3).map((x) => el("li", { text: x.title || String(x) }))));
    }
    if (card && card.restricted) {
      // a known client the operator may not open: no card to open, and not a new client either
      lists.append(el("p", { class: "popup-restricted muted", text: t("restricted_client") }));
    }
    const actions = el("div", { class: "popup-actions" });
    if (clientId && !card.restricted) {
      actions.append(el("a", { class: "btn primary", href: `/clients/${clientId}`, target: "_blank", text: t("open_card") }));
    } else if (!card && !msg.withheld && (msg.e164 || msg.number)) {
      const q = new URLSearchParams({ phone: msg.e164 || msg.number, call_id: msg.call_id });
      if (msg.name) q.set("name", msg.name);
      actions.append(el("a", { class: "btn primary", href: `/clients/new?${q}`, target: "_blank", text: t("create_client") }));
    }
    const closeBtn = el("button", { class: "btn ghost", type: "button", text: t("close"), onclick: () => removePopup(msg.call_id) });
    actions.append(closeBtn);
    const note = el("textarea", { class: "popup-note", rows: 2, placeholder: t("call_note"), "aria-label": t("call_note") });
    const noteState = el("span", { class: "note-state muted" });
    let noteTimer = null;
    const saveNote = async () => {
      try {
        await api("PUT", `/api/calls/${encodeURIComponent(msg.call_id)}/note`, { body: note.value });
        noteState.textContent = t("note_saved");
      } catch (e) {
        noteState.textContent = t("note_failed");
      }
    };
    note.addEventListener("input", () => { clearTimeout(noteTimer); noteState.textContent = ""; noteTimer = setTimeout(saveNote, 700); });
    note.addEventListener("blur", () => { if (noteTimer) { clearTimeout(noteTimer); noteTimer = null; saveNote(); } });
    node.append(status, head, facts, lists, el("div", { class: "popup-notebox" }, note, noteState), actions);
    return node;
  }

  function removePopup(callId) {
    const p = popups.get(callId);
    if (!p) return;
    const hadFocus = p.node.contains(document.activeElement);
    p.node.classList.add("leaving");
    setTimeout(() => p.node.remove(), 200);
    popups.delete(callId);
    popupsChanged();
    if (hadFocus) document.getElementById("popups").focus();  // not lost to the page's top
  }
  // a popup drawn again (the hub replays a ringing call) keeps the note being typed, and its focus
  function keepNote(oldNode, newNode) {
    const before = oldNode.querySelector(".popup-note"), after = newNode.querySelector(".popup-note");
    if (!before || !after) return;
    after.value = before.value;
    if (document.activeElement === before) {
      const [start, end] = [before.selectionStart, before.selectionEnd];
      queueMicrotask(() => { after.focus(); after.setSelectionRange(start, end); });
    }
  }
  // the skip link to the popups is offered while there is one
  function popupsChanged() {
    document.querySelectorAll("[data-popup-skip]").forEach((a) => { a.hidden = popups.size === 0; });
  }
  // screen readers hear who is calling; the focus stays in the note being typed
  function announce(text) {
    const region = document.getElementById("call-announcer");
    if (!region) return;
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);  // a change, even for the same words
  }
  function announcement(msg) {
    const card = msg.card;
    const name = card ? cardField(card, "display_name", "name") : (msg.name || t("unknown_number"));
    const number = msg.withheld ? t("withheld_number") : (msg.number || msg.e164 || "");
    const vip = card && (card.is_vip === true || String(card.category || "").toLowerCase() === "vip");
    return [t("incoming_call"), [vip ? "VIP" : null, name, number].filter(Boolean).join(", ")].join(": ");
  }
  Callcard.popups = popups;

  Callcard.on("call.ringing", (msg) => {
    const box = document.getElementById("popups");
    if (!box) return;
    const existing = popups.get(msg.call_id);
    const node = renderPopup(msg);
    if (existing) keepNote(existing.node, node);
    if (existing) existing.node.replaceWith(node); else box.prepend(node);
    popups.set(msg.call_id, { node, msg });
    popupsChanged();
    if (!existing) announce(announcement(msg));
  });
  Callcard.on("call.answered", (msg) => {
    const p = popups.get(msg.call_id);
    if (!p) return;
    if (!msg.by_me) { removePopup(msg.call_id); return; }
    p.node.classList.add("incall");
    p.node.querySelector(".popup-status").textContent = t("in_call");
    announce(t("in_call"));
  });
  Callcard.on("call.dismissed", (msg) => removePopup(msg.call_id));
  Callcard.on("call.ended", (msg) => {
    const p = popups.get(msg.call_id);
    if (!p) return;
    if (!p.node.classList.contains("incall")) { removePopup(msg.call_id); return; }
    p.node.classList.remove("incall");
    p.node.classList.add("ended");
    p.node.querySelector(".popup-status").textContent = `${t("ended")} · ${fmtDuration(msg.talk_s)}`;
  });

  // ---------------------------------------------------------------- my state, reminders
  Callcard.on("operator.state", (msg) => {
    if (String(msg.extension) !== body.dataset.extension) return;
    document.querySelectorAll("[data-my-state]").forEach((node) => {
      node.dataset.state = msg.state;
      node.textContent = t("state_" + msg.state);
    });
    document.querySelectorAll("[data-my-since]").forEach((node) => { node.dataset.since = msg.since || ""; });
  });
  Callcard.on("task.due", (msg) => toast(t("reminder"), msg.title + (msg.due_at ? " · " + Callcard.fmtTime(msg.due_at) : ""), "sticky"));
  Callcard.on("sms.reply", (msg) => toast(t("sms_reply"), `${msg.number || ""}: ${msg.body || ""}`));
  Callcard.on("survey.low_rating", (msg) => toast(t("low_rating"), "★".repeat(msg.rating || 0), "error"));
  // admins hear about a failed backup wherever they are (the backups page shows the details)
  Callcard.on("backup.failed", (msg) => {
    if (location.pathname !== "/admin/backups") toast(t("backup_failed"), msg.error || "", "sticky");
  });

  // ---------------------------------------------------------------- quick search
  // results come with ``refresh`` while a custom field change is still being applied to the
  // clients' search text: say so, in the user's language, from its numbers
  function refreshNotice(r) {
    const key = r.state === "failed" ? "search_refresh_failed" : (r.field_label ? "search_refresh_field" : "search_refresh");
    return el("div", { class: "qr-notice", role: "status", dataset: { state: r.state },
      text: tf(key, { field: r.field_label, done: r.done, total: r.total, pending: r.pending }) });
  }

  function setupSearch() {
    const input = document.getElementById("quick-search");
    const box = document.getElementById("quick-results");
    if (!input || !box) return;
    let timer = null, seq = 0, active = -1;
    const close = () => { box.hidden = true; active = -1; };
    async function run() {
      const q = input.value.trim();
      if (q.length < 2) { close(); return; }
      const mine = ++seq;
      let data;
      try { data = await api("GET", "/api/search?limit=8&q=" + encodeURIComponent(q)); } catch (e) {
        if (mine !== seq) return;
        // say so instead of showing nothing: the operator would think the client is unknown
        box.replaceChildren(el("div", { class: "qr-empty", role: "status", text: t("search_failed") }));
        box.hidden = false;
        return;
      }
      if (mine !== seq) return;
      const items = Array.isArray(data) ? data : (data.items || data.results || []);
      box.replaceChildren();
      if (data.refresh) box.append(refreshNotice(data.refresh));
      if (!items.length) box.append(el("div", { class: "qr-empty", text: t("no_results") }));
      for (const item of items) {
        const id = item.id || item.client_id;
        const sub = [item.organization && item.organization.name, item.phone, item.email].filter(Boolean).join(" · ");
        box.append(el("a", { class: "qr-item", href: `/clients/${id}`, role: "option" },
          el("span", { class: "qr-name", text: item.display_name || item.name || `#${id}` }),
          item.is_vip ? el("span", { class: "badge vip", text: "VIP" }) : null,
          el("span", { class: "qr-sub", text: sub })));
      }
      box.hidden = false;
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 150); });
    input.addEventListener("keydown", (ev) => {
      const links = [...box.querySelectorAll("a")];
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        if (!links.length) return;
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : -1) + links.length) % links.length;
        links.forEach((a, i) => a.classList.toggle("active", i === active));
      } else if (ev.key === "Enter") {
        const target = links[active >= 0 ? active : 0];
        if (target) { ev.preventDefault(); location.href = target.href; }
      } else if (ev.key === "Escape") close();
    });
    document.addEventListener("click", (ev) => { if (!ev.target.closest(".quicksearch")) close(); });
  }

  // ---------------------------------------------------------------- API forms with inline errors
  function formValue(form) {
    const data = {};
    for (const field of form.querySelectorAll("[name]")) {
      if (field.disabled || field.dataset.skip !== undefined) continue;
      const path = field.name.split(".");
      let value = field.type === "checkbox" ? field.checked : field.value;
      if (field.dataset.type === "int") value = value === "" ? null : Number(value);
      if (field.dataset.type === "datetime") value = value ? new Date(value).toISOString() : null;
      if (field.dataset.emptyNull !== undefined && value === "") value = null;
      if (field.dataset.omitEmpty !== undefined && (value === "" || value === null)) continue;
      if (field.dataset.type === "list") value = value.split(",").map((s) => s.trim()).filter(Boolean);
      let node = data;
      path.forEach((key, i) => {
        const k = /^\d+$/.test(key) ? Number(key) : key;
        if (i === path.length - 1) node[k] = value;
        else {
          if (node[k] === undefined) node[k] = /^\d+$/.test(path[i + 1]) ? [] : {};
          node = node[k];
        }
      });
    }
    form.querySelectorAll("[data-rows]").forEach((g) => { if (!(g.dataset.rows in data)) data[g.dataset.rows] = []; });
    return data;
  }

  function renumber(group) {
    [...group.querySelectorAll("[data-row]")].forEach((r, i) => {
      r.querySelectorAll("[name]").forEach((f) => { f.name = f.name.replace(/^(\w+)\.\d+\./, `$1.${i}.`); });
    });
  }
  // rows of repeated groups left empty are not sent (and the rest renumbered to match errors)
  function compactRows(form) {
    form.querySelectorAll("[data-rows]").forEach((group) => {
      group.querySelectorAll("[data-row]").forEach((row) => {
        const texts = [...row.querySelectorAll("input")];
        if (texts.length && texts.every((i) => !i.value.trim())) row.remove();
      });
      renumber(group);
    });
  }

  function showErrors(form, detail) {
    let first = null;
    const general = [];
    for (const err of Array.isArray(detail) ? detail : []) {
      const loc = (err.loc || []).filter((p) => p !== "body");
      let name = loc.join(".");
      let field = form.querySelector(`[name="${CSS.escape(name)}"]`);
      while (!field && loc.length > 1) { loc.pop(); name = loc.join("."); field = form.querySelector(`[name="${CSS.escape(name)}"], [data-error-for="${CSS.escape(name)}"]`); }
      const msg = err.msg || err.message || "";
      if (!field) { general.push(`${(err.loc || []).filter((p) => p !== "body").join(".")}: ${msg}`); continue; }
      field.setAttribute("aria-invalid", "true");
      const holder = field.closest("label, .field") || field.parentElement;
      holder.classList.add("has-error");
      holder.append(el("span", { class: "field-error", role: "alert", text: msg }));
      first = first || field;
    }
    const box = form.querySelector(".form-errors");
    if (box) {
      box.replaceChildren(el("p", { text: t("fix_errors") }), ...general.map((g) => el("p", { text: g })));
      box.hidden = false;
    }
    if (first) first.focus();
  }
  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
    form.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    const box = form.querySelector(".form-errors");
    if (box) box.hidden = true;
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-api]");
    if (!form) return;
    ev.preventDefault();
    clearErrors(form);
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    try {
      compactRows(form);
      const data = formValue(form);
      const result = await api(form.dataset.method || "POST", form.dataset.api, data);
      const next = form.dataset.next;
      if (next) location.href = next.replace("{id}", result && (result.id || result.client_id));
      else if (form.dataset.reload !== undefined) location.reload();
      else toast(t("saved"), "", "ok");
    } catch (e) {
      if (e.status === 422 && e.payload) showErrors(form, e.payload.detail);
      else {
        const box = form.querySelector(".form-errors");
        const msg = (e.payload && typeof e.payload.detail === "string" && e.payload.detail) || t("error");
        if (box) { box.replaceChildren(el("p", { text: msg })); box.hidden = false; } else toast(t("error"), msg, "error");
      }
    } finally {
      if (button) button.disabled = false;
    }
  });

  // buttons that call an API and reload: <button data-action="/api/..." data-method="POST" data-body='{}'>
  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-action]");
    if (!btn) return;
    ev.preventDefault();
    if (btn.dataset.confirm && !confirm(btn.dataset.confirm)) return;
    btn.disabled = true;
    try {
      await api(btn.dataset.method || "POST", btn.dataset.action, btn.dataset.body ? JSON.parse(btn.dataset.body) : undefined);
      if (btn.dataset.next) location.href = btn.dataset.next; else location.reload();
    } catch (e) {
      toast(t("error"), e.message, "error");
      btn.disabled = false;
    }
  });

  // skip links: the focus goes to the target itself (a region, a popup), not only the view
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest(".skip-links a");
    const target = link && document.querySelector(link.getAttribute("href"));
    if (!target) return;
    ev.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  });

  // the user menu (a <details>) closes when the click lands elsewhere
  document.addEventListener("click", (ev) => {
    document.querySelectorAll("details.usermenu[open]").forEach((menu) => {
      if (!menu.contains(ev.target)) menu.open = false;
    });
  });

  // the top menu's button on narrow screens: opens and closes the menu, Escape closes it
  document.addEventListener("click", (ev) => {
    const toggle = ev.target.closest(".menu-toggle");
    if (!toggle) return;
    const nav = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
    if (open) nav.querySelector("a")?.focus();
  });
  document.addEventListener("keydown", (ev) => {
    const toggle = document.querySelector(".menu-toggle[aria-expanded=true]");
    if (ev.key !== "Escape" || !toggle) return;
    toggle.setAttribute("aria-expanded", "false");
    document.getElementById(toggle.getAttribute("aria-controls")).classList.remove("open");
    toggle.focus();
  });

  // pickers that apply at once (the language of the user menu): <select data-submit-on-change>
  document.addEventListener("change", (ev) => {
    const select = ev.target.closest("[data-submit-on-change]");
    if (select && select.form) select.form.submit();
  });

  // repeated groups (phones, e-mails, addresses): <template data-row-for="phones">
  document.addEventListener("click", (ev) => {
    const add = ev.target.closest("[data-add-row]");
    if (add) {
      ev.preventDefault();
      const group = document.querySelector(`[data-rows="${add.dataset.addRow}"]`);
      const tpl = document.querySelector(`template[data-row-for="${add.dataset.addRow}"]`);
      if (!group || !tpl) return;
      const index = group.querySelectorAll("[data-row]").length;
      const html = tpl.innerHTML.replaceAll("__i__", String(index));
      group.insertAdjacentHTML("beforeend", html);
      return;
    }
    const remove = ev.target.closest("[data-remove-row]");
    if (remove) {
      ev.preventDefault();
      const row = remove.closest("[data-row]");
      const group = row.parentElement;
      row.remove();
      renumber(group);
    }
  });

  // "time in state" and other live clocks: <span data-since="iso">
  Callcard.clockOffset = 0;
  function tickClocks() {
    const now = Date.now() + Callcard.clockOffset;
    document.querySelectorAll("[data-since]").forEach((node) => {
      const since = node.dataset.since;
      const target = node.dataset.clockTarget ? node.querySelector(node.dataset.clockTarget) : node;
      if (!since || !target || node.dataset.sinceStatic !== undefined) return;
      target.textContent = fmtDuration((now - Date.parse(since)) / 1000);
    });
  }
  Callcard.tickClocks = tickClocks;

  document.addEventListener("DOMContentLoaded", () => {
    setupSearch();
    if (body.dataset.userId && !document.getElementById("wall-config")) Callcard.connect("");
    setInterval(tickClocks, 1000);
  });
})();
