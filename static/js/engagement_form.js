/* The quick-logging form: "Add a commitment" (rows on demand), and people not in
 * the CRM yet: "Add another person", or "Add …" in the attendee picker (picker.js's
 * crm:quick-add), fill a row that travels with the meeting's POST and is created
 * only when the meeting is saved; each row offers the partners chosen (and the one
 * being added). (Attendee searches send the partners chosen: picker.js.)
 * Without JavaScript the form still works: ?commitments=N gives N blank rows,
 * and every type-ahead is a plain select when the lists are small.
 */
(function () {
  "use strict";

  function partnerOptions() {
    // Who a new person may work for: the partners chosen, and the partner being added with the meeting.
    var found = [];
    var partners = document.getElementById("id_partners");
    if (partners) {
      Array.prototype.forEach.call(partners.options, function (option) {
        if (option.selected && option.value) found.push([option.value, option.textContent]);
      });
    }
    var newName = document.getElementById("id_newpartner-name");
    if (newName && newName.value.trim()) found.push(["new", newName.value.trim() + " (new)"]);
    return found;
  }

  function mirrorPartners() {
    var options = partnerOptions();
    document.querySelectorAll("[data-new-contact-rows] select[data-partner-mirror]").forEach(function (mirror) {
      var current = mirror.value;
      mirror.innerHTML = "";
      var blank = document.createElement("option");
      blank.value = "";
      blank.textContent = options.length ? "Choose…" : "The meeting's only partner";
      mirror.appendChild(blank);
      options.forEach(function (pair) {
        var copy = document.createElement("option");
        copy.value = pair[0];
        copy.textContent = pair[1];
        mirror.appendChild(copy);
      });
      var keep = options.some(function (pair) { return pair[0] === current; });
      mirror.value = keep ? current : (options.length === 1 ? options[0][0] : "");
    });
  }

  function addNewContactRow() {
    var total = document.getElementById("id_newcontact-TOTAL_FORMS");
    var max = document.getElementById("id_newcontact-MAX_NUM_FORMS");
    var template = document.getElementById("new-contact-row-template");
    var rows = document.querySelector("[data-new-contact-rows]");
    if (!total || !template || !rows) return null;
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) return null;
    var wrapper = document.createElement("div");
    wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = wrapper.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    mirrorPartners();
    return row;
  }

  function addPerson(name) {
    // "Add …" picked in the attendee picker: the name goes in the first empty row (or a new one).
    var empty = Array.prototype.find.call(
      document.querySelectorAll("[data-new-contact-rows] input[name$='-full_name']"),
      function (input) { return !input.value.trim(); }
    );
    var row = empty ? null : addNewContactRow();
    var input = empty || (row && row.querySelector("input[name$='-full_name']"));
    if (!input) return;  // as many rows as the form takes
    input.value = name;
    var details = document.getElementById("new-contacts-details");
    if (details) details.open = true;
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
    if (partners) partners.addEventListener("change", mirrorPartners);
    // The new partner's name (its fragment is swapped by htmx, so listened for on the document).
    document.addEventListener("change", function (event) { if (event.target.id === "id_newpartner-name") mirrorPartners(); });
    mirrorPartners();
    var addRow = document.querySelector("[data-add-new-contact]");
    if (addRow) {
      addRow.hidden = false;
      addRow.addEventListener("click", function () {
        var row = addNewContactRow();
        var first = row && row.querySelector("input");
        if (first) first.focus();
      });
    }
    var contacts = document.getElementById("id_contacts");
    if (contacts) contacts.addEventListener("crm:quick-add", function (event) { addPerson(event.detail.text); });
    var add = document.querySelector("[data-add-commitment]");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", addCommitmentRow);
    }
  });
})();
