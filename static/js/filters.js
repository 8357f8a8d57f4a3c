/* List filters: applied as they change, type-ahead pickers. No inline script (CSP script-src 'self').
 *
 * - <form data-autofilter>: a GET form submitted when one of its fields changes
 *   (selects and pickers at once, dates once a full date is entered, the search
 *   text after a pause in typing). Empty fields (and a page size at its default)
 *   are left out of the URL, which stays short and shareable. Without JavaScript
 *   the form keeps its Apply button (in <noscript>).
 * - <select data-filter-picker>: a type-ahead over the select's options (tom-select);
 *   with data-lookup-url the options come from that endpoint
 *   ({"results": [{"id", "text"}]}) as the user types.
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
    if (field.tomselect) return; // a picker: leave its dropdown closed
    field.focus();
    if (field.type === "search" || field.type === "text") {
      var end = field.value.length;
      try { field.setSelectionRange(end, end); } catch (e) { /* not a text field */ }
    }
  }

  function lookup(select, query, callback) {
    var url = new URL(select.dataset.lookupUrl, window.location.origin);
    url.searchParams.set("q", query);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        callback((data.results || []).map(function (r) { return { value: String(r.id), text: r.text }; }));
      })
      .catch(function () { callback(); });
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect === "undefined") return;
    var options = {
      maxOptions: 100,
      allowEmptyOption: true,
      closeAfterSelect: true,
      selectOnTab: false,
      plugins: [],
    };
    if (select.dataset.lookupUrl) {
      options.shouldLoad = function (query) { return query.length > 0; };
      options.load = function (query, callback) { lookup(select, query, callback); };
      options.loadThrottle = 200;
    }
    var ts = new window.TomSelect(select, options);
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label && ts.control_input) ts.control_input.setAttribute("aria-label", label.textContent.replace("*", "").trim());
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-autofilter]").forEach(wire);
    document.querySelectorAll("select[data-filter-picker]").forEach(enhance);
    restoreFocus();
  });
})();
