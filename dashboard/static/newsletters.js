/* /newsletters: live recipient count while composing, save the draft; /newsletters/{id}: test
   send, send, delivery figures polled every few seconds while messages are waiting. */
(function () {
  "use strict";
  const block = document.getElementById("page-data");
  const C = window.Callcard;
  if (!block || !C) return;
  const data = JSON.parse(block.textContent);
  const S = data.strings;
  const fmt = (text, params) => text.replace(/%\((\w+)\)s/g, (_, k) =>
    typeof params[k] === "number" ? new Intl.NumberFormat(document.documentElement.lang).format(params[k]) : String(params[k]));
  const countBox = document.getElementById("recipient-count");

  function showCount(promise) {
    if (!countBox) return;
    countBox.textContent = S.counting;
    promise.then((r) => { countBox.textContent = fmt(S.count, { num: r.count }); })
      .catch(() => { countBox.textContent = S.count_failed; });
  }

  function filtersOf(select) {
    const saved = (data.saved || []).find((f) => String(f.id) === select.value);
    return saved ? saved.filters : {};
  }

  function showErrors(box, err) {
    const detail = err.payload && err.payload.detail;
    const text = Array.isArray(detail) ? detail.map((d) => d.msg).join(" ") : (typeof detail === "string" ? detail : S.error);
    box.textContent = text;
    box.hidden = false;
  }

  // compose
  const compose = document.getElementById("compose");
  if (compose) {
    const select = document.getElementById("saved-filter");
    const recount = () => showCount(C.api("POST", "/api/notifier/newsletters/count", { filters: filtersOf(select) }));
    select.addEventListener("change", recount);
    recount();
    compose.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const box = compose.querySelector(".form-errors");
      box.hidden = true;
      const form = new FormData(compose);
      try {
        const row = await C.api("POST", "/api/notifier/newsletters", {
          name: form.get("name"), subject: form.get("subject"), body: form.get("body"),
          filters: filtersOf(select),
        });
        location.href = `/newsletters/${row.id}`;
      } catch (err) { showErrors(box, err); }
    });
  }

  // one newsletter
  if (data.id) {
    showCount(C.api("GET", `/api/notifier/newsletters/${data.id}/recipients`));
    const testForm = document.getElementById("test-form");
    const sendButton = document.getElementById("send");
    const sendErrors = document.getElementById("send-errors");
    if (testForm) {
      testForm.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        sendErrors.hidden = true;
        try {
          const r = await C.api("POST", `/api/notifier/newsletters/${data.id}/test`, { email: new FormData(testForm).get("email") });
          document.getElementById("test-state").textContent = fmt(S.test_sent, { to: r.to });
          sendButton.disabled = false;
        } catch (err) { showErrors(sendErrors, err); }
      });
    }
    if (sendButton) {
      sendButton.addEventListener("click", async () => {
        if (!confirm(S.confirm_send)) return;
        sendButton.disabled = true;
        try {
          await C.api("POST", `/api/notifier/newsletters/${data.id}/send`);
          location.reload();
        } catch (err) { showErrors(sendErrors, err); sendButton.disabled = false; }
      });
    }
    const progress = document.getElementById("progress");
    async function poll() {
      try {
        const s = await C.api("GET", `/api/notifier/newsletters/${data.id}/stats`);
        document.querySelectorAll("[data-stat]").forEach((dd) => {
          dd.textContent = new Intl.NumberFormat(document.documentElement.lang).format(s[dd.dataset.stat] || 0);
        });
        progress.max = s.queued || 1;
        progress.value = s.queued - s.waiting;
        if (s.status === "sent" && s.waiting > 0) setTimeout(poll, 3000);
      } catch (err) { setTimeout(poll, 10000); }
    }
    poll();
  }
})();
