/* The quick-logging form: attendees follow the partners chosen, "add another
 * commitment", and partners/attendees created inline (htmx) are selected.
 * Without JavaScript the form still works: three blank commitment rows, and
 * every type-ahead is a plain select when the lists are small.
 */
(function () {
  "use strict";

  function ts(id) {
    var el = document.getElementById(id);
    return el && el.tomselect ? el.tomselect : null;
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

  function reloadAttendees() {
    var contacts = ts("id_contacts");
    var source = document.getElementById("id_partners");
    if (!contacts || !source) return;
    var partnerIds = window.crm.selectedValues(source);
    // Drop attendees whose partner is no longer present, then offer the others.
    contacts.clearOptions(function (option) { return contacts.items.indexOf(String(option.id)) !== -1; });
    if (!partnerIds.length) return;
    window.crm.fetchResults(document.getElementById("id_contacts"), "", function (results) {
      (results || []).forEach(function (r) { contacts.addOption(r); });
      contacts.refreshOptions(false);
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
      partners.addEventListener("change", function () { mirrorPartners(); reloadAttendees(); });
      mirrorPartners();
    }
    var add = document.querySelector("[data-add-commitment]");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", addCommitmentRow);
    }
  });

  // Sent by the server (HX-Trigger) after an inline create.
  document.body.addEventListener("crm:partner-created", function (event) {
    var select = ts("id_partners");
    if (!select) return;
    select.addOption(event.detail);
    select.addItem(String(event.detail.id));
  });
  document.body.addEventListener("crm:contact-created", function (event) {
    var select = ts("id_contacts");
    if (!select) return;
    select.addOption(event.detail);
    select.addItem(String(event.detail.id));
  });
})();
