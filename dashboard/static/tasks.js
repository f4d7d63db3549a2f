/* Tasks page: reassigning a task from its row. */
(function () {
  "use strict";
  const C = window.Callcard;
  document.addEventListener("change", async (ev) => {
    const select = ev.target.closest("[data-assign]");
    if (!select) return;
    try {
      await C.api("POST", "/api/tasks/" + select.dataset.assign + "/assign", { assignee_id: select.value ? Number(select.value) : null });
      C.toast(C.t("saved"), "", "ok");
    } catch (e) { C.toast(C.t("error"), e.message, "error"); }
  });
})();
