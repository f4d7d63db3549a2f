/* Backups page: "Run now", the running backup's progress, failures as toasts. */
(function () {
  "use strict";
  const C = window.Callcard;
  const T = JSON.parse(document.getElementById("page-i18n").textContent);
  const button = document.getElementById("backup-run");
  const box = document.getElementById("backup-progress");
  const text = document.getElementById("backup-progress-text");
  const bar = document.getElementById("backup-progress-bar");
  let timer = null;

  function show(run) {
    box.hidden = false;
    text.textContent = (T.stage || {})[run.stage] || (T.status || {})[run.status] || run.stage;
    bar.value = run.progress || 0;
  }

  async function poll() {
    let data;
    try { data = await C.api("GET", "/api/backups"); } catch (e) { return; }
    if (data.running) { show(data.running); return; }
    clearInterval(timer);
    timer = null;
    window.location.reload();
  }

  function follow() {
    button.disabled = true;
    if (!timer) timer = setInterval(poll, 2000);
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await C.api("POST", "/api/backups/runs");
      C.toast(T.started, "", "ok");
      show({ stage: "database", progress: 0 });
      follow();
    } catch (e) {
      C.toast(T.failed_backup, e.message, "error");
      button.disabled = false;
    }
  });

  C.on("backup.status", (msg) => {
    if (msg.status === "running") { show(msg); follow(); }
  });
  C.on("backup.failed", (msg) => {
    C.toast(msg.stage === "verification" ? T.failed_verification : T.failed_backup, msg.error || "", "error");
  });

  if (!box.hidden) follow();
})();
