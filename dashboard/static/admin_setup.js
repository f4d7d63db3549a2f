/* Admin screens of the client base and the messages: custom fields (search refresh progress),
   field labels (one row, several languages), reminder offsets, and the message template editor
   (live GSM-7/UCS-2 segment counter, preview with a chosen client's data). */
(function () {
  "use strict";
  const C = window.Callcard || {};
  const api = (...args) => C.api(...args);
  const readJson = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };
  const pageI18n = readJson("page-i18n") || {};
  const fill = (text, params) => String(text || "").replace(/%\((\w+)\)s/g, (_, k) => String(params[k] ?? ""));

  // ------------------------------------------------------------ custom fields: search refresh
  const refreshBox = document.getElementById("search-refresh");
  if (refreshBox) {
    const text = refreshBox.querySelector(".refresh-text");
    const bar = refreshBox.querySelector(".refresh-bar");
    let shown = false;
    const poll = async () => {
      let status;
      try { status = await api("GET", "/api/search/refresh"); } catch (e) { return; }
      if (status.state === "idle") {
        if (shown) { text.textContent = pageI18n.refresh_idle; bar.max = 1; bar.value = 1; }
        return;
      }
      shown = true;
      refreshBox.hidden = false;
      refreshBox.dataset.state = status.state;
      text.textContent = fill(pageI18n["refresh_" + status.state], status);
      bar.max = Math.max(1, status.total);
      bar.value = status.done;
      setTimeout(poll, 1000);
    };
    poll();
  }
  // the choices box of a new field only for choice fields
  const kind = document.getElementById("new-field-kind");
  if (kind) {
    const sync = () => {
      const holder = kind.form.querySelector("[data-for-choice]");
      const on = kind.value === "choice";
      holder.hidden = !on;
      holder.querySelector("input").disabled = !on;
    };
    kind.addEventListener("change", sync);
    sync();
  }

  // ------------------------------------------------------------ field labels: one row, 4 labels
  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-save-labels]");
    if (!button) return;
    const row = button.closest("[data-label-row]");
    const field = row.dataset.labelRow;
    button.disabled = true;
    try {
      for (const input of row.querySelectorAll("input[data-language]")) {
        const label = input.value.trim();
        const id = input.dataset.labelId;
        if (label) {
          const saved = await api("PUT", "/api/labels", { entity: "client", field, language: input.dataset.language, label });
          input.dataset.labelId = saved.id;
        } else if (id) {
          await api("DELETE", `/api/labels/${id}`);
          input.dataset.labelId = "";
        }
      }
      location.reload();
    } catch (e) {
      button.disabled = false;
      alert(e.message);
    }
  });

  // ------------------------------------------------------------ reminder rules: amount x unit
  function syncOffset(box) {
    const amount = Number(box.querySelector("[data-offset-amount]").value || 0);
    const unit = Number(box.querySelector("[data-offset-unit]").value || 1);
    box.querySelector("input[name=offset_minutes]").value = String(Math.round(amount * unit));
  }
  document.addEventListener("input", (ev) => {
    const box = ev.target.closest("[data-offset]");
    if (box) syncOffset(box);
  });
  document.addEventListener("change", (ev) => {
    const box = ev.target.closest("[data-offset]");
    if (box) syncOffset(box);
  });

  // ------------------------------------------------------------ template editor
  const editor = readJson("template-editor");
  if (!editor) return;
  const t = editor.i18n;
  const body = document.getElementById("template-body");
  const subject = document.getElementById("template-subject");

  // GSM 03.38 as the server counts it (notifier/sms_segments): the tables come from the server
  const septets = new Map();
  for (const ch of Array.from(editor.gsm.chars)) septets.set(ch, 1);
  for (const ch of Array.from(editor.gsm.double)) septets.set(ch, 2);
  function pack(sizes, single, multi) {
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total <= single) return total ? 1 : 0;
    let parts = 1, used = 0;
    for (const size of sizes) {
      if (used + size > multi) { parts += 1; used = 0; }
      used += size;
    }
    return parts;
  }
  function measure(text) {
    const chars = Array.from(text);
    const sizes = [];
    let gsm = true;
    for (const ch of chars) {
      const n = septets.get(ch);
      if (!n) { gsm = false; break; }
      sizes.push(n);
    }
    if (gsm) {
      return { encoding: "GSM-7", characters: chars.length, segments: pack(sizes, editor.gsm.single, editor.gsm.multi),
        perSegment: sizes.reduce((a, b) => a + b, 0) <= editor.gsm.single ? editor.gsm.single : editor.gsm.multi };
    }
    const units = chars.map((ch) => (ch.codePointAt(0) > 0xffff ? 2 : 1));
    const total = units.reduce((a, b) => a + b, 0);
    return { encoding: "UCS-2", characters: chars.length, segments: total <= editor.ucs2.single ? 1 : pack(units, editor.ucs2.single, editor.ucs2.multi),
      perSegment: total <= editor.ucs2.single ? editor.ucs2.single : editor.ucs2.multi };
  }
  const counter = document.getElementById("sms-counter");
  function count() {
    if (!counter) return;
    const m = measure(body.value);
    counter.querySelector("[data-count=characters]").textContent = String(m.characters);
    counter.querySelector("[data-count=encoding]").textContent = m.encoding;
    counter.querySelector("[data-count=segments]").textContent = String(m.segments);
    counter.dataset.encoding = m.encoding;
    const hint = document.querySelector("[data-count=hint]");
    if (hint) hint.textContent = fill(t.per_segment, { num: m.perSegment }) + (m.encoding === "UCS-2" ? " " + t.ucs2_hint : "");
  }

  // the preview: the server renders through the sandbox with the chosen client's data
  let clientId = null;
  let timer = null;
  const errors = document.getElementById("preview-errors");
  const previewBody = document.getElementById("preview-body");
  const previewSubject = document.getElementById("preview-subject");
  const previewSegments = document.getElementById("preview-segments");
  const form = document.getElementById("template-form");
  function clearFieldErrors() {
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }
  function showFieldErrors(detail) {
    const lines = [];
    for (const err of Array.isArray(detail) ? detail : []) {
      const loc = err.loc || [];
      const name = loc[loc.length - 1];
      const field = form.querySelector(`[name="${CSS.escape(String(name))}"]`);
      if (field && field.type !== "hidden") {
        field.setAttribute("aria-invalid", "true");
        field.closest("label").append(C.el("span", { class: "field-error", role: "alert", text: err.msg }));
      }
      lines.push(`${name}: ${err.msg}`);
    }
    errors.replaceChildren(...lines.map((line) => C.el("p", { text: line })));
    errors.hidden = !lines.length;
  }
  async function preview() {
    clearFieldErrors();
    try {
      const out = await api("POST", "/api/notifier/templates/preview", {
        key: editor.key, language: editor.language, subject: subject ? subject.value : "",
        body: body.value, client_id: clientId,
      });
      errors.hidden = true;
      previewBody.textContent = out.body;
      if (previewSubject) previewSubject.textContent = out.subject;
      if (previewSegments && out.segments) {
        previewSegments.textContent = `${t.characters}: ${out.segments.characters} · ${t.encoding}: ${out.segments.encoding} · ${t.segments}: ${out.segments.segments}`;
      }
    } catch (e) {
      if (e.status === 422 && e.payload) showFieldErrors(e.payload.detail);
      else { errors.replaceChildren(C.el("p", { text: t.preview_failed + ": " + e.message })); errors.hidden = false; }
    }
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(preview, 300); };
  body.addEventListener("input", () => { count(); schedule(); });
  if (subject) subject.addEventListener("input", schedule);
  count();
  preview();

  // choosing the client of the preview
  const search = document.getElementById("preview-client");
  const results = document.getElementById("preview-results");
  const chosen = document.getElementById("preview-client-name");
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) { results.hidden = true; return; }
      let found;
      try { found = await api("GET", `/api/search?q=${encodeURIComponent(q)}&limit=8`); } catch (e) { return; }
      results.replaceChildren(...(found.items.length ? found.items.map((item) => C.el("li", {},
        C.el("button", { type: "button", class: "linkbtn", "data-client": item.id, text: item.display_name || `#${item.id}` })))
        : [C.el("li", { class: "muted", text: t.no_clients })]));
      results.hidden = false;
    }, 200);
  });
  results.addEventListener("click", (ev) => {
    const button = ev.target.closest("[data-client]");
    if (!button) return;
    clientId = Number(button.dataset.client);
    chosen.textContent = button.textContent;
    results.hidden = true;
    search.value = "";
    preview();
  });
})();
