// Import page: follow a running import job. The bar is a <progress> element
// (no inline style: CSP); when the job is done, the page reloads to show the result.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-import-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-progress-text]");
  var label = document.getElementById("import-progress-label");
  var delay = 1000;
  var wasStalled = box.hasAttribute("data-import-stalled");

  function show(data) {
    if (data.total) { bar.max = data.total; }
    if (data.progress) { bar.value = data.progress; }
    if (text) { text.textContent = data.progress + " of " + data.total + " rows"; }
    if (label) { label.textContent = data.status_label + "…"; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (data) {
        show(data);
        // Done, or its worker stopped (or came back): reload to show the result or the Resume/Cancel buttons.
        if (!data.running || data.stalled !== wasStalled) { window.location.reload(); return; }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // A hiccup (server restart, network): back off, keep trying.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
