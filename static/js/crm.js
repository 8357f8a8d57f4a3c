/* Site-wide behaviour. No inline script anywhere (CSP script-src 'self').
 *
 * - <form data-confirm="Really?">: asks before submitting.
 * - <select data-typeahead>: the type-ahead picker (static/js/picker.js, which documents it).
 * - <form data-ctrl-enter>: Ctrl+Enter (Cmd+Enter) in any of its fields submits it.
 * - <form data-dates-one-stop>: Tab leaves a date/time box at once (arrows move between its parts).
 * - "/" pressed outside a field focuses the site search.
 * - [data-error-summary] (includes/error_summary.html): focused on load; its links focus their field.
 * - <select data-autosubmit>: submits its form on change.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  function selectedValues(select) { return window.crmPicker.chosenValues(select); }

  function fetchResults(select, query, callback) { window.crmPicker.fetchResults(select, query, callback); }

  function enhanceTypeahead(root) { window.crmPicker.enhanceAll(root); }

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter (Cmd+Enter) in a form marked data-ctrl-enter saves it, from any field.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = event.target instanceof Element ? event.target.closest("form[data-ctrl-enter]") : null;
      if (form) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
      return;
    }
    // "/" outside a field goes to the site search.
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      var search = document.getElementById("site-search");
      if (search) {
        event.preventDefault();
        search.focus();
      }
    }
  });

  // In a form marked data-dates-one-stop, Tab leaves a date or time box at once instead of
  // visiting each of its parts (Chromium stops on month, day, year, hour…); the parts are still
  // reached with the arrow keys, and typing moves through them.
  var TABBABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), " +
    "textarea:not([disabled]), summary, [tabindex]";
  function tabbable(el) {
    if (el.tabIndex < 0 || el.hidden || el.closest("[hidden], [inert]")) return false;
    var details = el.parentElement && el.parentElement.closest("details:not([open])");
    if (details && !(el.tagName === "SUMMARY" && el.parentElement === details)) return false;
    var rect = el.getBoundingClientRect();
    return rect.width > 0 || rect.height > 0 || el.getClientRects().length > 0;
  }
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Tab" || event.ctrlKey || event.altKey || event.metaKey) return;
    if (!(field instanceof HTMLInputElement) || !/^(date|datetime-local|time)$/.test(field.type)) return;
    if (!field.closest("form[data-dates-one-stop]")) return;
    var all = Array.prototype.filter.call(document.querySelectorAll(TABBABLE), tabbable);
    var next = all[all.indexOf(field) + (event.shiftKey ? -1 : 1)];
    if (!next) return;
    event.preventDefault();
    next.focus();
  });

  // The USWDS error summary: takes the focus on load; its links focus their field.
  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    var details = field.closest("details");
    if (details) details.open = true;
    var target = field.hidden && field.crmPicker ? field.crmPicker.input : field;
    target.focus();
    target.scrollIntoView({ block: "center" });
    return true;
  }
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    if (link && focusField(link.getAttribute("href").slice(1))) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    enhanceTypeahead(document);
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
    // On a phone the filter panel starts folded unless a filter is in use or wrong.
    if (window.matchMedia("(max-width: 63.99em)").matches) {
      document.querySelectorAll("details[data-collapse-on-phone]:not([data-keep-open])").forEach(function (d) { d.open = false; });
    }
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) { enhanceTypeahead(event.target); });

  window.crm = { enhanceTypeahead: enhanceTypeahead, fetchResults: fetchResults, selectedValues: selectedValues };
})();
