// Progressive enhancement of the ballot; everything works without it.
// 1. A QR link carries the code in the URL fragment (never sent to the server): fill it in
//    and take it out of the address bar and history.
// 2. The running total and what is left update as projects are chosen.
(function () {
  "use strict";
  var code = document.getElementById("code");
  if (code && location.hash.length > 1) {
    var value = decodeURIComponent(location.hash.slice(1)).replace(/^(code|kod)=/, "");
    if (!code.value) { code.value = value; }
    history.replaceState(null, "", location.pathname + location.search);
  }
  var lang = document.documentElement.lang || "sv";
  function money(n) {
    var digits = new Intl.NumberFormat(lang === "en" ? "en-GB" : "sv-SE").format(n);
    return lang === "en" ? "SEK\u00a0" + digits : digits + "\u00a0kr";
  }
  function update(scope) {
    var out = scope.querySelector(".totals");
    if (!out) { return; }
    var limit = scope.dataset.limit ? Number(scope.dataset.limit) : null;
    var max = scope.dataset.max ? Number(scope.dataset.max) : null;
    var pointsTotal = scope.dataset.points ? Number(scope.dataset.points) : null;
    var text;
    var over = false;
    if (pointsTotal !== null) {
      var used = 0;
      scope.querySelectorAll("input.points").forEach(function (i) { used += Number(i.value) || 0; });
      over = used > pointsTotal;
      text = (lang === "en" ? "Points given: " + used + " of " + pointsTotal + "."
                            : "Utdelade poäng: " + used + " av " + pointsTotal + ".");
    } else {
      var total = 0, n = 0;
      scope.querySelectorAll("input[type=checkbox]:checked").forEach(function (i) {
        total += Number(i.dataset.cost); n += 1;
      });
      over = (limit !== null && total > limit) || (max !== null && n > max);
      // The same words as templates/voting/_totals.html says on the server.
      text = (lang === "en" ? "Chosen: " + n + (n === 1 ? " project, " : " projects, ") + money(total) + "."
                            : "Valda: " + n + " projekt, " + money(total) + ".");
      if (limit !== null && total > limit) {
        text += lang === "en" ? " " + money(total - limit) + " over the budget of " + money(limit) + "."
                              : " " + money(total - limit) + " över budgeten på " + money(limit) + ".";
      } else if (limit !== null) {
        text += lang === "en" ? " Left to spend: " + money(limit - total) + " of " + money(limit) + "."
                              : " Kvar att använda: " + money(limit - total) + " av " + money(limit) + ".";
      }
      if (max !== null) {
        text += lang === "en" ? " You may choose at most " + max + "." : " Du får välja högst " + max + ".";
      }
    }
    out.textContent = text;
    out.classList.toggle("over", over);
  }
  document.querySelectorAll("fieldset.scope").forEach(function (scope) {
    scope.addEventListener("change", function () { update(scope); });
    scope.addEventListener("input", function () { update(scope); });
  });
})();
