/* Site-wide behaviour. No inline script anywhere (CSP script-src 'self').
 *
 * - <form data-confirm="Really?">: asks before submitting.
 * - <select data-typeahead>: tom-select type-ahead (multi-selects get remove buttons).
 *   With data-lookup-url the options come from that JSON endpoint
 *   ({"results": [{"id", "text"}, ...]}) as the user types; with
 *   data-partner-source="ID" the request also carries the partner ids chosen
 *   in that other select (attendees of the partners present).
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

  function selectedValues(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; })
      .map(function (o) { return o.value; });
  }

  function lookupUrl(select, query) {
    var url = new URL(select.dataset.lookupUrl, window.location.origin);
    if (query) url.searchParams.set("q", query);
    var sourceId = select.dataset.partnerSource;
    if (sourceId) {
      var source = document.getElementById(sourceId);
      if (source) selectedValues(source).forEach(function (id) { url.searchParams.append("partner", id); });
    }
    return url;
  }

  function fetchResults(select, query, callback) {
    fetch(lookupUrl(select, query), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { callback(data.results || []); })
      .catch(function () { callback(); });
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect === "undefined") return;
    var options = {
      plugins: select.multiple ? ["remove_button"] : [],
      maxOptions: 200,
      hideSelected: true,
      closeAfterSelect: !select.multiple,
      allowEmptyOption: !select.multiple,
    };
    if (select.dataset.lookupUrl) {
      options.valueField = "id";
      options.labelField = "text";
      options.searchField = ["text"];
      // Dependent lists (attendees) load on focus; plain lookups once typing starts.
      options.shouldLoad = function (query) { return !!select.dataset.partnerSource || query.length > 0; };
      options.load = function (query, callback) { fetchResults(select, query, callback); };
      options.preload = select.dataset.partnerSource ? "focus" : false;
      options.loadThrottle = 250;
    }
    var ts = new window.TomSelect(select, options);
    // Keep the accessible name of the original field on the typing input.
    // tom-select moves the <label for> to its own input: name the typing input.
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label) {
      var name = label.textContent.replace("*", "").trim();
      if (ts.control_input) ts.control_input.setAttribute("aria-label", name);
    }
    // The original select only carries the value now: keep it out of the a11y tree.
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
  }

  function enhanceTypeahead(root) {
    root.querySelectorAll("select[data-typeahead]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceTypeahead(document);
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
