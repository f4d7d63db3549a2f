/* Client form: the fields of a person or of an organization, as the chosen type asks. */
(function () {
  "use strict";
  const form = document.getElementById("client-form");
  if (!form) return;
  const kind = document.getElementById("client-kind");
  function apply(value) {
    document.querySelectorAll("[data-for-kind]").forEach((node) => {
      const on = node.dataset.forKind === value;
      node.hidden = !on;
      node.querySelectorAll("input, select").forEach((field) => { field.disabled = !on; });
    });
  }
  apply(kind ? kind.value : form.dataset.kind || "person");
  if (kind) kind.addEventListener("change", () => apply(kind.value));
})();
