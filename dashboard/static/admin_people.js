/* Administration screens: forms whose answer is shown once (a generated password, a wall
   link) and adding a member to a team. The other forms use app.js's data-api forms. */
(function () {
  "use strict";
  const C = window.Callcard;

  function showFormError(form, e) {
    const box = form.querySelector(".form-errors");
    const detail = e.payload && e.payload.detail;
    const text = Array.isArray(detail) ? detail.map((d) => d.msg).join(" ") : (typeof detail === "string" ? detail : C.t("error"));
    if (box) { box.textContent = text; box.hidden = false; } else C.toast(C.t("error"), text, "error");
  }

  // <form data-once-api="/admin/..."> posts its fields; the answer's password or url is shown
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-once-api]");
    if (!form) return;
    ev.preventDefault();
    const box = form.querySelector(".form-errors");
    if (box) box.hidden = true;
    const data = {};
    form.querySelectorAll("input[name]").forEach((input) => { if (input.value) data[input.name] = input.value; });
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    try {
      const result = await C.api("POST", form.dataset.onceApi, data);
      form.querySelectorAll("input[name]").forEach((input) => { input.value = ""; });
      const secret = result && (result.url || result.password);
      const out = form.querySelector("[data-once-output]");
      if (secret && out) {
        out.querySelector("[data-once-value]").textContent = secret;
        out.hidden = false;
      } else {
        C.toast(C.t("saved"), "", "ok");
      }
    } catch (e) {
      showFormError(form, e);
    } finally {
      if (button) button.disabled = false;
    }
  });

  // teams: "Add a member" moves the chosen user into the team
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-member-form]");
    if (!form) return;
    ev.preventDefault();
    const userId = form.querySelector("select[name=user_id]").value;
    if (!userId) return;
    try {
      await C.api("POST", `/admin/users/${userId}`, { team_id: Number(form.dataset.memberForm) });
      location.reload();
    } catch (e) {
      showFormError(form, e);
    }
  });
})();
