/* Import wizard: upload -> columns -> dry run -> import with progress -> result.
   Progress comes over the live socket (import.progress), with polling as the fallback. */
(function () {
  "use strict";
  const C = window.Callcard;
  const T = JSON.parse(document.getElementById("page-i18n").textContent);
  const $ = (id) => document.getElementById(id);
  const csrf = document.body.dataset.csrf || "";
  const lang = document.body.dataset.lang || "en";
  const fill = (text, params) => text.replace(/%\((\w+)\)s/g, (_, k) => String(params[k] ?? ""));
  let job = null;
  let timer = null;

  function step(n) {
    for (let i = 1; i <= 5; i++) $("step-" + i).hidden = i !== n;
    document.querySelectorAll("#import-steps li").forEach((li) => {
      if (Number(li.dataset.step) === n) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      li.classList.toggle("done", Number(li.dataset.step) < n);
    });
  }

  // a 422 names the field and, for a file, the row or line: shown as the server wrote it
  function problem(e) {
    const detail = e.payload && e.payload.detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg).join("; ");
    return (typeof detail === "string" && detail) || e.message;
  }
  function showError(title, text) {
    const box = $("import-error");
    box.replaceChildren(C.el("strong", { text: title }), text ? C.el("span", { text: " " + text }) : null);
    box.hidden = false;
  }
  const clearError = () => { $("import-error").hidden = true; };

  $("import-upload").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const input = $("import-file");
    if (!input.files.length) return;
    const body = new FormData();
    body.append("file", input.files[0]);
    const button = ev.target.querySelector("[type=submit]");
    button.disabled = true;
    try {
      const r = await fetch("/api/import/jobs", {
        method: "POST", body, credentials: "same-origin",
        headers: { Accept: "application/json", "Accept-Language": lang, "X-CSRF-Token": csrf },
      });
      const payload = await r.json().catch(() => ({ detail: r.statusText }));
      if (!r.ok) throw Object.assign(new Error(r.statusText), { payload });
      job = payload;
      showColumns();
    } catch (e) {
      showError(T.refused, problem(e));
    } finally {
      button.disabled = false;
    }
  });

  function showColumns() {
    const facts = [job.filename, job.kind.toUpperCase(), ...Object.values(job.details || {})];
    $("file-facts").textContent = facts.filter(Boolean).join(" · ");
    $("mapping-saved").hidden = !job.mapping_saved;
    $("mapping-preset").hidden = !job.preset;
    const options = $("target-options").content;
    $("mapping-heads").replaceChildren(...job.headers.map((h) => C.el("th", { scope: "col", text: h })));
    $("mapping-selects").replaceChildren(...job.headers.map((h, i) => {
      const select = C.el("select", { "aria-label": h, dataset: { column: h }, id: "map-" + i, disabled: job.preset });
      select.append(options.cloneNode(true));
      select.value = job.mapping[h] || "";
      if (select.value !== (job.mapping[h] || "")) select.value = "";
      return C.el("td", {}, select);
    }));
    $("mapping-rows").replaceChildren(...job.preview.map((row) =>
      C.el("tr", {}, job.headers.map((_, i) => C.el("td", { text: row[i] || "" })))));
    $("skip-invalid").checked = !!job.skip_invalid;
    step(2);
  }

  $("import-mapping").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const mapping = {};
    document.querySelectorAll("#mapping-selects select").forEach((s) => { mapping[s.dataset.column] = s.value; });
    const button = ev.target.querySelector("[type=submit]");
    button.disabled = true;
    try {
      if (!job.preset) {
        await C.api("PUT", `/api/import/jobs/${job.id}/mapping`, { mapping, skip_invalid: $("skip-invalid").checked, duplicates: "skip" });
      }
      showReport(await C.api("POST", `/api/import/jobs/${job.id}/dry-run`));
    } catch (e) {
      showError(T.refused, problem(e));
    } finally {
      button.disabled = false;
    }
  });

  function showReport(report) {
    $("count-rows").textContent = report.total_rows;
    $("count-import").textContent = report.rejected ? 0 : report.imported;
    $("count-errors").textContent = report.error_rows;
    $("count-duplicates").textContent = report.duplicates;
    $("report-verdict").textContent = report.error_count ? T.rejected : T.no_errors;
    $("report-verdict").className = report.error_count ? "alert" : "muted";
    $("errors-where").textContent = report.numbered_by === "line" ? T.line : T.row;
    $("errors-rows").replaceChildren(...report.errors.map((e) =>
      C.el("tr", {}, C.el("td", { text: e.row }), C.el("td", { text: e.column || e.field }), C.el("td", { text: e.message }))));
    $("errors-wrap").hidden = !report.errors.length;
    const likely = report.likely_duplicates || [];
    $("likely-list").replaceChildren(...likely.map((d) => C.el("li", {
      text: fill(T.similar, { name: d.name, row: fill(T.row_n, { row: d.row }), match: d.match_name + (d.city ? ", " + d.city : ""), score: d.score }),
    })));
    $("likely-wrap").hidden = !likely.length;
    $("start-import").disabled = report.rejected || report.imported === 0;
    step(3);
  }

  $("back-to-columns").addEventListener("click", () => step(2));

  $("start-import").addEventListener("click", async () => {
    clearError();
    $("start-import").disabled = true;
    try {
      showProgress(await C.api("POST", `/api/import/jobs/${job.id}/run`));
      timer = setInterval(poll, 1500);
    } catch (e) {
      showError(T.failed, problem(e));
      $("start-import").disabled = false;
    }
  });

  function showProgress(state) {
    step(4);
    const percent = state.state === "done" ? 100
      : state.percent !== undefined ? state.percent
      : state.total_rows ? Math.floor((state.done_rows * 100) / state.total_rows) : 0;
    $("import-bar").value = percent;
    $("import-bar").textContent = percent + "%";
    const words = (T.states || {})[state.state] || state.state;
    $("import-state").textContent = state.total_rows
      ? words + " · " + fill(T.progress, { done: state.done_rows, total: state.total_rows }) : words;
    if (state.state === "done" || state.state === "failed") finish();
  }

  let finishing = false;
  async function finish() {
    if (finishing) return;
    finishing = true;
    clearInterval(timer);
    const final = await C.api("GET", `/api/import/jobs/${job.id}`);
    $("import-bar").value = final.percent;
    if (final.state === "failed") {
      showError(T.failed, final.message);
      return;
    }
    $("result-added").textContent = final.imported;
    $("result-skipped").textContent = final.skipped;
    step(5);
  }

  async function poll() {
    try { showProgress(await C.api("GET", `/api/import/jobs/${job.id}`)); } catch (e) { /* next tick */ }
  }

  C.on("import.progress", (msg) => {
    if (job && msg.job_id === job.id) showProgress(msg);
  });
})();
