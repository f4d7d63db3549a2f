/* Company logo, print-form templates (upload, reset, HTML edit with PDF preview).
   The company details form itself is a data-api form of app.js. */
(function () {
  "use strict";
  const C = window.Callcard || {};
  const block = document.getElementById("page-i18n");
  const T = block ? JSON.parse(block.textContent) : {};
  const t = (key) => T[key] || key;
  const csrf = document.body.dataset.csrf || "";
  const lang = document.body.dataset.lang || "en";

  // the 422 message(s) of an answer, or its plain detail
  async function failure(response) {
    let payload = null;
    try { payload = await response.json(); } catch (e) { payload = null; }
    const detail = payload && payload.detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg || "").filter(Boolean).join(" ");
    return (typeof detail === "string" && detail) || t("error");
  }

  async function send(method, url, body, isJson) {
    const headers = { "X-CSRF-Token": csrf, "Accept-Language": lang, Accept: "application/json" };
    if (isJson) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
    if (!response.ok) throw new Error(await failure(response));
    return response;
  }

  function showError(box, message) {
    if (!box) { if (C.toast) C.toast(t("error"), message, "error"); return; }
    box.textContent = message;
    box.hidden = !message;
  }
  const ok = (text) => { if (C.toast) C.toast(text, "", "ok"); };

  // ------------------------------------------------------------------ logo
  const logoForm = document.getElementById("logo-form");
  if (logoForm) {
    const errors = logoForm.querySelector(".form-errors");
    const preview = document.getElementById("logo-preview");
    const none = document.getElementById("logo-none");
    const del = document.getElementById("logo-delete");
    const shown = (has) => {
      preview.hidden = !has; none.hidden = has; del.hidden = !has;
      if (has) preview.src = "/api/company/logo?v=" + Date.now(); else preview.removeAttribute("src");
    };
    logoForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(errors, "");
      const file = logoForm.querySelector("input[type=file]").files[0];
      if (!file) return;
      const data = new FormData();
      data.append("file", file);
      try { await send("PUT", "/api/company/logo", data, false); shown(true); ok(t("uploaded")); logoForm.reset(); }
      catch (e) { showError(errors, e.message); }
    });
    del.addEventListener("click", async () => {
      if (!confirm(t("confirm_logo"))) return;
      try { await send("DELETE", "/api/company/logo", undefined, false); shown(false); ok(t("logo_deleted")); }
      catch (e) { showError(errors, e.message); }
    });
  }

  // ------------------------------------------------------------------ templates list
  const listErrors = document.getElementById("list-errors");
  document.querySelectorAll("input[data-upload]").forEach((input) => {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      showError(listErrors, "");
      const data = new FormData();
      data.append("file", file);
      try { await send("PUT", input.dataset.upload, data, false); ok(t("uploaded")); location.reload(); }
      catch (e) { showError(listErrors, e.message); input.value = ""; }
    });
  });
  document.querySelectorAll("[data-reset]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (!confirm(t("confirm_reset"))) return;
      try { await send("DELETE", button.dataset.reset, undefined, false); ok(t("reset_done")); location.reload(); }
      catch (e) { showError(listErrors, e.message); }
    });
  });

  // ------------------------------------------------------------------ HTML editor
  const htmlForm = document.getElementById("html-form");
  if (htmlForm) {
    const errors = htmlForm.querySelector(".form-errors");
    const base = `/api/document-templates/${htmlForm.dataset.kind}/${htmlForm.dataset.language}`;
    const body = () => JSON.stringify({ html: htmlForm.querySelector("textarea").value });
    htmlForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(errors, "");
      try { await send("PUT", base + "/html", body(), true); ok(t("saved")); }
      catch (e) { showError(errors, e.message); }
    });
    document.getElementById("html-preview").addEventListener("click", async () => {
      showError(errors, "");
      const win = window.open("", "_blank");
      try {
        const response = await send("POST", base + "/preview", body(), true);
        const url = URL.createObjectURL(await response.blob());
        if (win) win.location.href = url; else location.href = url;
      } catch (e) {
        if (win) win.close();
        showError(errors, e.message);
      }
    });
  }
})();
