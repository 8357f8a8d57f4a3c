/* The quick-logging form: "Add a commitment" (rows on demand), the new-attendee
 * form offers the partners chosen, and attendees created inline (htmx) are
 * selected. (Attendee searches send the partners chosen: picker.js.)
 * Without JavaScript the form still works: ?commitments=N gives N blank rows,
 * and every type-ahead is a plain select when the lists are small.
 */
(function () {
  "use strict";

  function picker(id) {
    var el = document.getElementById(id);
    return el && el.crmPicker ? el.crmPicker : null;
  }

  function mirrorPartners() {
    // The "new attendee" form asks which of the chosen partners they work for.
    var mirror = document.querySelector("select[data-partner-mirror]");
    var partners = document.getElementById("id_partners");
    if (!mirror || !partners) return;
    var current = mirror.value;
    mirror.innerHTML = "";
    Array.prototype.forEach.call(partners.options, function (option) {
      if (!option.selected || !option.value) return;
      var copy = document.createElement("option");
      copy.value = option.value;
      copy.textContent = option.textContent;
      if (option.value === current) copy.selected = true;
      mirror.appendChild(copy);
    });
  }

  function addCommitmentRow() {
    var total = document.getElementById("id_commitments-TOTAL_FORMS");
    var max = document.getElementById("id_commitments-MAX_NUM_FORMS");
    var template = document.getElementById("commitment-row-template");
    var rows = document.querySelector("[data-commitment-rows]");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) return;
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__num__/g, String(index + 1));
    var wrapper = document.createElement("div");
    wrapper.innerHTML = html;
    var row = wrapper.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    window.crm.enhanceTypeahead(row);
    var first = row.querySelector("textarea, input, select");
    if (first) first.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var partners = document.getElementById("id_partners");
    if (partners) {
      partners.addEventListener("change", mirrorPartners);
      mirrorPartners();
    }
    var add = document.querySelector("[data-add-commitment]");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", addCommitmentRow);
    }
  });

  // Sent by the server (HX-Trigger) after an inline create of an attendee.
  document.body.addEventListener("crm:contact-created", function (event) {
    var select = picker("id_contacts");
    if (select) select.add(String(event.detail.id), event.detail.text);
  });
})();
