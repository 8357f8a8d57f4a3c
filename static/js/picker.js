/* The type-ahead picker: one <select data-typeahead> (single or multiple) becomes
 * a text box with a list of matches (the ARIA 1.2 combobox pattern) and, for
 * what is chosen, chips. The <select> stays in the form, hidden, and carries
 * the value, so the server reads the same field with or without JavaScript.
 *
 * Markup it reads (diplomacy_crm.widgets.PickerSelect / partners.forms.LookupSelect render it):
 *   data-typeahead               turn this select into a picker
 *   data-lookup-url="URL"        search that JSON endpoint (?q=…, answers {"results": [{id, text}]});
 *                                without it the select's own options are searched (accents and case folded)
 *   data-partner-source="ID"     also send the ids chosen in select#ID as &partner=… (attendees of the
 *                                partners present); the list then also opens on an empty box
 *   data-quick-add               the list ends with "Add “<typed text>” …"; picking it chooses nothing but
 *                                fires a bubbling "crm:quick-add" event on the select, detail {text}
 *                                (the meeting form adds a new person to be created with the meeting)
 *
 * Its promises (tests/browser/test_meeting_form_browser.py):
 *   - Enter never picks from an answer to an older text: when the search for what is in the box has not
 *     answered yet, Enter looks that text up and picks its first result when the answer comes (or nothing
 *     when there is none, and the text comes back); meanwhile the box is free for the next name.
 *   - After a pick the box is empty again (the next word typed starts a new search).
 *   - It never moves the focus by itself (no focus() outside a click on its own parts).
 *   - Enter in the box never submits the form (Ctrl+Enter does, see crm.js).
 *
 * Script API: select.crmPicker = {add(id, text), remove(id), clear(), refresh()}; window.crmPicker.enhance(select),
 * window.crmPicker.enhanceAll(root). Changes fire a bubbling "change" event on the select.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 120;
  var MAX_LOCAL = 50;
  var counter = 0;

  function fold(text) {
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function chosenValues(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; })
      .map(function (o) { return o.value; });
  }

  function lookupUrl(select, query) {
    var url = new URL(select.dataset.lookupUrl, window.location.origin);
    if (query) url.searchParams.set("q", query);
    var sourceId = select.dataset.partnerSource;
    if (sourceId) {
      var source = document.getElementById(sourceId);
      if (source) chosenValues(source).forEach(function (id) { url.searchParams.append("partner", id); });
    }
    return url;
  }

  function fetchResults(select, query, callback) {
    fetch(lookupUrl(select, query), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { callback(data.results || []); })
      .catch(function () { callback([]); });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function enhance(select) {
    if (select.crmPicker) return;
    counter += 1;
    var id = (select.id || "picker-" + counter) + "-picker";
    var multiple = select.multiple;
    var remote = !!select.dataset.lookupUrl;
    var dependent = !!select.dataset.partnerSource;
    var quickAdd = select.hasAttribute("data-quick-add");

    var box = el("div", { class: "crm-picker" + (multiple ? " crm-picker--multiple" : "") });
    var chips = el("ul", { class: "crm-picker__chips", "aria-label": "Chosen" });
    var input = el("input", {
      type: "text", id: id, class: "usa-input crm-picker__input", role: "combobox", autocomplete: "off",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list",
    });
    var list = el("ul", { id: id + "-list", role: "listbox", class: "crm-picker__list" });
    list.hidden = true;
    var status = el("div", { class: "usa-sr-only", role: "status", "aria-live": "polite" });
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    if (select.classList.contains("usa-input--error")) input.classList.add("usa-input--error");
    box.appendChild(chips);
    box.appendChild(input);
    box.appendChild(list);
    box.appendChild(status);
    select.parentNode.insertBefore(box, select.nextSibling);
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label) {
      label.htmlFor = id;
      input.setAttribute("aria-label", label.textContent.replace("*", "").trim());
    }
    list.setAttribute("aria-label", (input.getAttribute("aria-label") || "Choices") + ": matches");

    var results = [];      // [{id, text}] shown in the list
    var answered = null;   // the text the shown results answer (null: none)
    var active = -1;
    var timer = null;
    var sequence = 0;

    function query() { return input.value.trim(); }

    function optionFor(value) {
      return Array.prototype.find.call(select.options, function (o) { return o.value === String(value); });
    }

    function renderChips() {
      Array.prototype.slice.call(chips.children).forEach(function (chip) {
        if (!chip.classList.contains("crm-picker__chip--pending")) chips.removeChild(chip);
      });
      var pendingChips = Array.prototype.slice.call(chips.children);
      Array.prototype.forEach.call(select.options, function (o) {
        if (!o.selected || !o.value) return;
        var chip = el("li", { class: "crm-picker__chip" });
        chip.appendChild(el("span", {}, o.textContent));
        var remove = el("button", { type: "button", class: "crm-picker__remove", tabindex: "-1",
          "aria-label": "Remove " + o.textContent }, "×");
        remove.addEventListener("click", function () { api.remove(o.value); input.focus(); });
        chip.appendChild(remove);
        chips.insertBefore(chip, pendingChips[0] || null);
      });
      chips.hidden = !chips.children.length;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) { active = -1; return; }
      active = (index + items.length) % items.length;
      Array.prototype.forEach.call(items, function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function show(found, forText) {
      var taken = chosenValues(select);
      results = found.filter(function (r) { return taken.indexOf(String(r.id)) === -1; });
      if (quickAdd && forText) results.push({ id: "", text: forText, add: true });
      answered = forText;
      list.innerHTML = "";
      results.forEach(function (r, i) {
        var item = el("li", { role: "option", id: id + "-opt-" + i, class: "crm-picker__option" + (r.add ? " crm-picker__add" : ""),
          "aria-selected": "false" }, r.add ? "Add “" + r.text + "” …" : r.text);
        item.addEventListener("mousedown", function (e) { e.preventDefault(); pick(r); });
        list.appendChild(item);
      });
      if (!results.length && forText) list.appendChild(el("li", { class: "crm-picker__empty" }, "No match"));
      var matches = results.length - (quickAdd && forText ? 1 : 0);
      status.textContent = forText || dependent ? matches + (matches === 1 ? " match" : " matches") : "";
      var open = document.activeElement === input && (results.length > 0 || !!forText);
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
      if (results.length) setActive(0);
    }

    function localResults(text) {
      var words = fold(text).split(/\s+/).filter(Boolean);
      var found = [];
      Array.prototype.some.call(select.options, function (o) {
        if (!o.value) return false;
        var hay = fold(o.textContent);
        if (words.every(function (w) { return hay.indexOf(w) !== -1; })) found.push({ id: o.value, text: o.textContent });
        return found.length >= MAX_LOCAL;
      });
      return found;
    }

    function search() {
      var text = query();
      clearTimeout(timer);
      if (!remote) { show(text || dependent ? localResults(text) : [], text); return; }
      if (!text && !dependent) { results = []; answered = ""; close(); return; }
      answered = null;  // what is shown no longer answers what is typed
      var mine = ++sequence;
      timer = setTimeout(function () {
        fetchResults(select, text, function (found) {
          // Only the answer to the newest search counts, and only while that is still the text.
          if (mine !== sequence || text !== query()) return;
          show(found, text);
        });
      }, text ? DEBOUNCE_MS : 0);
    }

    // Enter before the search for the typed text has answered: that text is looked up on its own and
    // its first result picked when the answer comes (nothing when there is none; the text comes back
    // if the box is still empty). The box is free at once for the next name.
    function pickFirstFor(text) {
      input.value = "";
      sequence += 1;
      clearTimeout(timer);
      close();
      var pending = el("li", { class: "crm-picker__chip crm-picker__chip--pending" }, text + "…");
      chips.appendChild(pending);
      chips.hidden = false;
      status.textContent = "Looking for " + text;
      fetchResults(select, text, function (found) {
        if (pending.parentNode) pending.parentNode.removeChild(pending);
        var taken = chosenValues(select);
        var first = found.filter(function (r) { return taken.indexOf(String(r.id)) === -1; })[0];
        if (first) {
          pick(first, true);
        } else {
          renderChips();
          status.textContent = "No match for " + text;
          if (!input.value) input.value = text;
        }
      });
    }

    function pick(result, keepTyping) {
      if (result.add) {
        input.value = "";
        results = [];
        answered = null;
        sequence += 1;
        clearTimeout(timer);
        close();
        status.textContent = "Adding " + result.text;
        select.dispatchEvent(new CustomEvent("crm:quick-add", { bubbles: true, detail: { text: result.text } }));
        return;
      }
      var value = String(result.id);
      var option = optionFor(value);
      if (!option) {
        option = new Option(result.text, value);
        select.appendChild(option);
      }
      if (!multiple) Array.prototype.forEach.call(select.options, function (o) { o.selected = false; });
      option.selected = true;
      if (!keepTyping) {
        input.value = "";
        results = [];
        answered = null;
        sequence += 1;  // answers still on their way are for a text that is gone
        clearTimeout(timer);
        close();
      }
      renderChips();
      status.textContent = "Chosen: " + result.text;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", search);
    input.addEventListener("focus", function () { if (dependent || query()) search(); });
    input.addEventListener("blur", function () { close(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        if (e.ctrlKey || e.metaKey) return;  // Ctrl+Enter saves the form (crm.js)
        e.preventDefault();
        if (!query() && list.hidden) return;
        if (answered !== null && answered === query()) {
          if (active >= 0 && results[active]) pick(results[active]);
        } else {
          pickFirstFor(query());
        }
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        setActive(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      } else if (e.key === "Backspace" && !input.value) {
        var values = chosenValues(select);
        if (values.length) api.remove(values[values.length - 1]);
      }
    });

    var api = {
      add: function (value, text) { pick({ id: value, text: text }); },
      remove: function (value) {
        var option = optionFor(value);
        if (!option || !option.selected) return;
        option.selected = false;
        if (!multiple) select.value = "";
        renderChips();
        status.textContent = "Removed: " + option.textContent;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      },
      clear: function () { chosenValues(select).forEach(api.remove); },
      refresh: renderChips,
      input: input,
    };
    select.crmPicker = api;
    renderChips();
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("select[data-typeahead]").forEach(enhance);
  }

  window.crmPicker = { enhance: enhance, enhanceAll: enhanceAll, fetchResults: fetchResults, chosenValues: chosenValues };
})();
