/* Invoices and contracts pages: the invoice lines editor (product picker filled from the
   client's quote, live totals for display only: the server's totals are the truth), the
   invoice form's submit, and the signed scan upload. Other forms are app.js "data-api" forms. */
(function () {
  "use strict";
  const C = window.Callcard;
  const block = document.getElementById("page-i18n");
  const T = block ? JSON.parse(block.textContent) : {};
  const t = (key) => T[key] || key;
  const csrf = document.body.dataset.csrf || "";

  // ------------------------------------------------------------ money (display only)
  // amounts as integer cents (BigInt): no float ever decides a displayed cent
  function toUnits(text, places) {
    const m = String(text || "").trim().replace(",", ".").match(/^(\d*)(?:\.(\d*))?$/);
    if (!m) return null;
    const frac = (m[2] || "").padEnd(places, "0");
    if (frac.length > places) return null;
    return BigInt((m[1] || "0") + frac);
  }
  // n / d rounded half up (n >= 0, d > 0)
  const divHalfUp = (n, d) => (n * 2n + d) / (2n * d);
  function fmtCents(c) {
    const neg = c < 0n, a = neg ? -c : c;
    return (neg ? "-" : "") + (a / 100n).toString() + "." + (a % 100n).toString().padStart(2, "0");
  }
  function lineCents(row) {
    const v = (f) => row.querySelector(`[data-field="${f}"]`).value;
    const qty = toUnits(v("quantity"), 3), price = toUnits(v("unit_price"), 2);
    const disc = toUnits(v("discount_percent") || "0", 2), rate = toUnits(v("vat_rate"), 2);
    if (qty === null || price === null || disc === null || rate === null) return null;
    // qty (1/1000) x price (1/100) x (100% - disc) (1/10000 of a unit) -> cents
    const net = divHalfUp(qty * price * (10000n - disc), 1000n * 10000n);
    const vat = divHalfUp(net * rate, 10000n);
    return { net, vat };
  }

  // ------------------------------------------------------------ invoice lines editor
  const form = document.getElementById("invoice-form");
  const lines = document.getElementById("lines");
  const template = document.getElementById("line-template");
  function recompute() {
    let net = 0n, vat = 0n;
    for (const row of lines.querySelectorAll(".line-row")) {
      const c = lineCents(row);
      row.querySelector("[data-amount]").textContent = c ? fmtCents(c.net + c.vat) : "—";
      if (c) { net += c.net; vat += c.vat; }
    }
    document.getElementById("sum-net").textContent = fmtCents(net);
    document.getElementById("sum-vat").textContent = fmtCents(vat);
    document.getElementById("sum-total").textContent = fmtCents(net + vat);
  }
  async function pickProduct(row, productId) {
    if (!productId) return;
    const option = row.querySelector(`[data-field="product_id"] option[value="${productId}"]`);
    const set = (f, value) => { if (value !== undefined && value !== null) row.querySelector(`[data-field="${f}"]`).value = value; };
    set("description", option ? option.textContent.replace(/\s*\([^)]*\)$/, "") : "");
    try {
      const q = await C.api("GET", `/api/products/${productId}/quote?client_id=${form.dataset.client}`);
      set("unit_price", q.unit_price);
      set("discount_percent", q.discount_percent);
      const rate = row.querySelector('[data-field="vat_rate"]');
      const match = [...rate.options].find((o) => Number(o.value) === Number(q.vat_rate));
      if (match) rate.value = match.value;
    } catch (e) { /* the price stays to be typed */ }
    recompute();
  }
  function addLine() {
    const row = template.content.firstElementChild.cloneNode(true);
    lines.append(row);
    row.querySelector('[data-field="product_id"]').addEventListener("change", (ev) => pickProduct(row, ev.target.value));
    row.querySelector("[data-remove-line]").addEventListener("click", () => { row.remove(); recompute(); });
    row.querySelector('[data-field="description"]').focus();
    recompute();
  }
  function payload(issue) {
    const data = { client_id: Number(form.dataset.client), issue, lines: [] };
    for (const name of ["currency", "series", "due_date", "notes"]) {
      const value = form.elements[name].value;
      if (value !== "") data[name] = value;
    }
    if (form.dataset.order) data.order_id = Number(form.dataset.order);
    if (form.dataset.contract) data.contract_id = Number(form.dataset.contract);
    for (const row of lines.querySelectorAll(".line-row")) {
      const v = (f) => row.querySelector(`[data-field="${f}"]`).value.trim().replace(",", ".");
      const line = { description: v("description"), quantity: v("quantity"), unit_price: v("unit_price"),
                     vat_rate: v("vat_rate"), discount_percent: v("discount_percent") || "0" };
      if (v("product_id")) line.product_id = Number(v("product_id"));
      data.lines.push(line);
    }
    return data;
  }
  function showErrors(detail) {
    const box = form.querySelector(".form-errors");
    const items = Array.isArray(detail) ? detail : [{ loc: [], msg: String(detail || t("error")) }];
    box.replaceChildren(...items.map((e) => C.el("p", { text: `${(e.loc || []).filter((p) => p !== "body").join(" › ")} ${e.msg}`.trim() })));
    box.hidden = false;
    lines.querySelectorAll(".line-row").forEach((r) => r.classList.remove("has-error"));
    for (const e of items) {
      const loc = (e.loc || []).filter((p) => p !== "body");
      if (loc[0] === "lines" && typeof loc[1] === "number") {
        const row = lines.querySelectorAll(".line-row")[loc[1]];
        const field = row && row.querySelector(`[data-field="${loc[2]}"]`);
        if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
      }
    }
  }
  if (form && lines && template) {
    document.getElementById("add-line").addEventListener("click", addLine);
    lines.addEventListener("input", recompute);
    lines.addEventListener("change", recompute);
    if (!form.dataset.order && !form.dataset.contract) addLine();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const issue = ev.submitter ? ev.submitter.value === "issue" : false;
      const buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const made = await C.api("POST", "/api/invoices", payload(issue));
        location.href = `/invoices/${made.id}`;
      } catch (e) {
        showErrors(e.payload ? e.payload.detail : e.message);
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  }

  // ------------------------------------------------------------ signed scan upload
  const scan = document.getElementById("scan-form");
  if (scan) {
    scan.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = new FormData(scan);
      const response = await fetch(`/api/contracts/${scan.dataset.contract}/scan`, {
        method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      });
      if (response.ok) { C.toast(t("uploaded"), "", "ok"); location.reload(); }
      else C.toast(t("error"), (await response.text()).slice(0, 200), "error");
    });
  }
})();
