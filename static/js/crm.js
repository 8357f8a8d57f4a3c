/* Site-wide behaviour (no inline script: CSP script-src 'self').
 *
 * - Confirmation for destructive forms: <form data-confirm="Really?">.
 * - Type-ahead multi-selects: <select multiple data-typeahead> get tom-select.
 * - Auto-submit selects: <select data-autosubmit>.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  });

  function enhanceTypeahead(root) {
    if (typeof window.TomSelect === "undefined") return;
    root.querySelectorAll("select[data-typeahead]").forEach(function (select) {
      if (select.tomselect) return;
      var options = {
        plugins: select.multiple ? ["remove_button"] : [],
        maxOptions: 200,
        hideSelected: true,
        closeAfterSelect: !select.multiple,
      };
      new window.TomSelect(select, options);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceTypeahead(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) { enhanceTypeahead(event.target); });

  window.crm = { enhanceTypeahead: enhanceTypeahead };
})();
