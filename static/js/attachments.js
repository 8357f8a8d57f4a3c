// Attachments panel (templates/attachments/): files dropped on the upload form are put in its
// <input type=file multiple> and the form is sent, as if chosen and "Upload" pressed. The
// input and button work without this script. Delegated from the document: the panel is
// loaded by htmx after the page.
(function () {
  "use strict";
  if (window.crmAttachmentsBound) { return; }
  window.crmAttachmentsBound = true;

  function zone(event) {
    return event.target && event.target.closest ? event.target.closest("[data-attachments-drop]") : null;
  }

  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = zone(event);
      if (!form || !carriesFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("crm-dropzone--over");
    });
  });

  document.addEventListener("dragleave", function (event) {
    var form = zone(event);
    if (form && !form.contains(event.relatedTarget)) { form.classList.remove("crm-dropzone--over"); }
  });

  document.addEventListener("drop", function (event) {
    var form = zone(event);
    if (!form || !carriesFiles(event)) { return; }
    event.preventDefault();
    form.classList.remove("crm-dropzone--over");
    var input = form.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });
})();
