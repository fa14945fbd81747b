// The process form shows only the fields the chosen ballot (and tie-break) uses. Without
// this script every field shows, with a note saying which ballot each one is for.
(function () {
  "use strict";
  var groups = document.querySelectorAll("[data-shown-for]");
  if (!groups.length) return;
  function update() {
    groups.forEach(function (group) {
      var spec = group.getAttribute("data-shown-for").split(":");
      var select = document.getElementById(spec[0]);
      if (!select) return;
      var wanted = spec[1].split(" ");
      var hasError = group.querySelector(".has-error");
      group.hidden = wanted.indexOf(select.value) === -1 && !hasError;
    });
  }
  groups.forEach(function (group) {
    var select = document.getElementById(group.getAttribute("data-shown-for").split(":")[0]);
    if (select) select.addEventListener("change", update);
  });
  document.querySelectorAll("[data-no-js-note]").forEach(function (note) {
    note.hidden = true;
  });
  update();
})();
