// On a phone, a menu too long for one row folds behind its "Menu" button, so the header keeps
// to two rows. Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  var menu = document.getElementById("menu");
  if (!menu || !window.matchMedia("(max-width: 47.99rem)").matches) return;
  var list = menu.querySelector(".nav");
  var line = parseFloat(window.getComputedStyle(list).lineHeight) || 24;
  if (list.offsetHeight > line * 1.6) {
    menu.classList.add("collapsible");
    menu.open = false;
  }
})();
