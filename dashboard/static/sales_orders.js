/* Orders pages: client picker, price auto-fill from the client's quote, public link copy.
   Forms themselves are app.js "data-api" forms. */
(function () {
  "use strict";
  const C = window.Callcard;
  const block = document.getElementById("page-i18n");
  const T = block ? JSON.parse(block.textContent) : {};
  const t = (key) => T[key] || key;

  // ------------------------------------------------------------ client picker (new order)
  const search = document.getElementById("client-search");
  const hidden = document.getElementById("client-id");
  const results = document.getElementById("client-results");
  if (search && hidden && results) {
    let timer = null, seq = 0;
    const choose = (id, name) => {
      hidden.value = String(id);
      search.value = name;
      results.hidden = true;
      refreshQuotes();
    };
    async function run() {
      const q = search.value.trim();
      if (q.length < 2) { results.hidden = true; return; }
      const mine = ++seq;
      let data;
      try { data = await C.api("GET", "/api/search?limit=8&q=" + encodeURIComponent(q)); } catch (e) { return; }
      if (mine !== seq) return;
      const items = Array.isArray(data) ? data : (data.items || data.results || []);
      results.replaceChildren();
      if (!items.length) results.append(C.el("p", { class: "muted", text: t("no_clients") }));
      for (const item of items) {
        const id = item.id || item.client_id;
        const name = item.display_name || item.name || `#${id}`;
        const sub = [item.phone, item.email].filter(Boolean).join(" · ");
        results.append(C.el("button", {
          type: "button", class: "btn small", role: "option", dataset: { clientId: String(id) },
          onclick: () => choose(id, name),
        }, name, sub ? C.el("small", { class: "muted", text: " " + sub }) : null));
      }
      results.hidden = false;
    }
    search.addEventListener("input", () => { hidden.value = ""; clearTimeout(timer); timer = setTimeout(run, 200); });
  }

  // ------------------------------------------------------------ price auto-fill per line
  function clientId() {
    const form = document.getElementById("order-form");
    if (hidden) return hidden.value;
    return form ? form.dataset.clientId || "" : "";
  }
  async function fillLine(select) {
    const row = select.closest("[data-row]");
    if (!row || !select.value) return;
    const field = (name) => row.querySelector(`[name$=".${name}"]`);
    const cid = clientId();
    let quote;
    try {
      quote = await C.api("GET", `/api/products/${select.value}/quote` + (cid ? `?client_id=${cid}` : ""));
    } catch (e) { C.toast(C.t("error"), e.message, "error"); return; }
    field("description").value = quote.description;
    field("unit").value = quote.unit;
    field("unit_price").value = quote.unit_price;
    field("discount_percent").value = quote.discount_percent;
    field("vat_rate").value = quote.vat_rate;
  }
  function refreshQuotes() {
    document.querySelectorAll("[data-product-select]").forEach((s) => { if (s.value && !s.disabled) fillLine(s); });
  }
  document.addEventListener("change", (ev) => {
    const select = ev.target.closest("[data-product-select]");
    if (select) fillLine(select);
  });

  // a new order starts with one empty line
  const lines = document.querySelector('[data-rows="lines"]');
  const add = document.querySelector('[data-add-row="lines"]');
  if (lines && add && !lines.querySelector("[data-row]")) add.click();

  // ------------------------------------------------------------ copy the public link
  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    const input = document.querySelector(btn.dataset.copy);
    if (!input) return;
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
    C.toast(t("copied"), "", "ok");
  });
})();
