/* List filters: applied as they change, type-ahead pickers. No inline script (CSP script-src 'self').
 *
 * - <form data-autofilter>: a GET form submitted when one of its fields changes
 *   (selects and pickers at once, dates once a full date is entered, the search
 *   text after a pause in typing). Empty fields (and a page size at its default)
 *   are left out of the URL, which stays short and shareable. Without JavaScript
 *   the form keeps its Apply button (in <noscript>).
 * - Its <select data-typeahead> fields are the forms' type-ahead picker (static/js/picker.js,
 *   which documents data-lookup-url); a pick or a removed chip fires a bubbling change
 *   event on the select, which applies the filter like any other select.
 */
(function () {
  "use strict";

  var FOCUS_KEY = "crm-filter-focus";
  var TYPING_PAUSE_MS = 700;
  var DATE_PAUSE_MS = 600;

  function submitFilters(form, field) {
    if (form.dataset.submitting) return;
    form.dataset.submitting = "1";
    var owned = Array.prototype.slice.call(form.elements);
    owned.forEach(function (el) {
      if (!el.name || el.disabled) return;
      var empty = el.value === "" || (el.dataset.default && el.value === el.dataset.default);
      if (empty || el.name === "page") el.disabled = true;
    });
    if (field && field.name) {
      try { window.sessionStorage.setItem(FOCUS_KEY, field.name); } catch (e) { /* private mode */ }
    }
    form.submit();
  }

  function validDate(input) {
    var year = parseInt((input.value || "").slice(0, 4), 10);
    return input.value === "" || (year >= 1800 && year <= 2199);
  }

  function wire(form) {
    var timer = null;
    function later(field, ms) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { submitFilters(form, field); }, ms);
    }
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (!field.name) return;
      if (field.type === "date") {
        if (validDate(field)) later(field, DATE_PAUSE_MS);
        return;
      }
      if (field.type === "search" || field.type === "text") {
        later(field, 0);
        return;
      }
      submitFilters(form, field);
    });
    form.addEventListener("input", function (event) {
      var field = event.target;
      if (field.name && (field.type === "search" || field.type === "text")) later(field, TYPING_PAUSE_MS);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitFilters(form, document.activeElement);
    });
    // The page size lives outside the form (form="…"): its change events do not bubble to it.
    document.querySelectorAll('[form="' + form.id + '"]').forEach(function (el) {
      if (el.tagName === "SELECT") el.addEventListener("change", function () { submitFilters(form, el); });
    });
  }

  function restoreFocus() {
    var name = null;
    try {
      name = window.sessionStorage.getItem(FOCUS_KEY);
      window.sessionStorage.removeItem(FOCUS_KEY);
    } catch (e) { return; }
    if (!name) return;
    var field = document.querySelector('form[data-autofilter] [name="' + name.replace(/"/g, "") + '"]') ||
      document.querySelector('[form][name="' + name.replace(/"/g, "") + '"]');
    if (!field) return;
    if (field.crmPicker) field = field.crmPicker.input; // a picker: its text box (the list stays closed)
    field.focus();
    if (field.type === "search" || field.type === "text") {
      var end = field.value.length;
      try { field.setSelectionRange(end, end); } catch (e) { /* not a text field */ }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-autofilter]").forEach(wire);
    // The pickers (static/js/picker.js, also run by crm.js): enhanced before the focus comes back.
    if (window.crmPicker) document.querySelectorAll("form[data-autofilter]").forEach(window.crmPicker.enhanceAll);
    restoreFocus();
  });
})();
