// The experience form's stops, without a round trip: "Add a stop" copies the last row,
// emptied and renumbered, and "Remove this stop" greys its row out. Without JavaScript the
// same button asks the server for the form with one more row, and the box removes the stop
// when the form is saved.
(function () {
  "use strict";
  var rows = document.getElementById("stop-rows");
  var add = document.querySelector("[data-add-stop]");
  if (!rows || !add) { return; }
  var NAME = /^stops-(\d+)-/;

  function nextIndex() {
    var highest = -1;
    rows.querySelectorAll("[name^='stops-']").forEach(function (field) {
      var found = NAME.exec(field.name);
      if (found) { highest = Math.max(highest, parseInt(found[1], 10)); }
    });
    return highest + 1;
  }

  function renumber(element, index) {
    ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
      var value = element.getAttribute(attribute);
      if (value) { element.setAttribute(attribute, value.replace(/stops-\d+-/g, "stops-" + index + "-")); }
    });
  }

  add.addEventListener("click", function (event) {
    var all = rows.querySelectorAll(".stop-row");
    if (!all.length || all.length >= parseInt(rows.dataset.max, 10)) { return; }  // the server says why
    event.preventDefault();
    var index = nextIndex();
    var row = all[all.length - 1].cloneNode(true);
    row.classList.remove("is-removed");
    row.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
    row.querySelectorAll(".field--invalid").forEach(function (field) { field.classList.remove("field--invalid"); });
    row.querySelectorAll("*").forEach(function (element) {
      renumber(element, index);
      element.removeAttribute("aria-invalid");
      if (element.matches("input[type=checkbox]")) { element.checked = false; }
      else if (element.matches("input, textarea")) { element.value = ""; }
      else if (element.matches("select")) { element.selectedIndex = 0; }
    });
    row.querySelector("legend").textContent = rows.dataset.legend.replace("__N__", all.length + 1);
    rows.appendChild(row);
    var first = row.querySelector("select, input:not([type=hidden]), textarea");
    if (first) { first.focus(); }
    if (all.length + 1 >= parseInt(rows.dataset.max, 10)) { add.hidden = true; }
  });

  rows.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches("input[type=checkbox][name$='-remove']")) {
      box.closest(".stop-row").classList.toggle("is-removed", box.checked);
    }
  });
}());
