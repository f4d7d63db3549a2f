/* Settings: make (or remake) the calendar address, show it once, copy it. */
(function () {
  "use strict";
  const C = window.Callcard;
  const make = document.getElementById("feed-make");
  const copy = document.getElementById("feed-copy");
  const input = document.getElementById("feed-url");
  if (!make) return;
  make.addEventListener("click", async () => {
    make.disabled = true;
    try {
      const feed = await C.api("POST", "/api/calendar-feed");
      input.value = feed.url;
      document.getElementById("feed-url-box").hidden = false;
      document.getElementById("feed-once").hidden = false;
      input.focus();
      input.select();
    } catch (e) {
      C.toast(make.dataset.error, e.message, "error");
    } finally {
      make.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
    C.toast(copy.dataset.copied, "", "ok");
  });
})();
