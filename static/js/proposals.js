/* Progressive enhancement for the proposal form. Everything works without this file:
   the title check runs on the server when the form is sent, and the address field (plus
   optional coordinates) is the fallback for the map. No inline code, no external scripts. */
(function () {
  "use strict";

  // -- similar proposals while typing a title ------------------------------------------
  var host = document.querySelector("[data-similar-url]");
  if (host && window.fetch) {
    var input = host.querySelector("input[name=title]");
    var box = host.querySelector("#similar");
    var timer = null;
    var last = "";
    var heading = box.getAttribute("data-heading") || "";
    var show = function (items) {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      if (!items.length) { return; }
      var p = document.createElement("p");
      p.textContent = heading;
      var ul = document.createElement("ul");
      items.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.url;
        a.target = "_blank";
        a.textContent = item.title;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" (" + item.status_name + ")"));
        ul.appendChild(li);
      });
      box.appendChild(p);
      box.appendChild(ul);
    };
    var ask = function () {
      var title = input.value.trim();
      if (title === last) { return; }
      last = title;
      if (title.length < 4) { show([]); return; }
      var url = host.getAttribute("data-similar-url") + "?title=" + encodeURIComponent(title) +
        "&exclude=" + encodeURIComponent(host.getAttribute("data-similar-exclude") || "");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { proposals: [] }; })
        .then(function (data) { if (input.value.trim() === title) { show(data.proposals || []); } })
        .catch(function () { /* the server-side check still runs on submit */ });
    };
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 350);
    });
  }

  // -- a small map for choosing a point (only when tiles are configured) ---------------
  var picker = document.querySelector(".map-picker[data-tiles]");
  if (!picker || !picker.getAttribute("data-tiles")) { return; }
  var latInput = document.querySelector("input[name=latitude]");
  var lonInput = document.querySelector("input[name=longitude]");
  if (!latInput || !lonInput) { return; }
  var tiles = picker.getAttribute("data-tiles");
  var center = (picker.getAttribute("data-center") || "55.7047,13.1910").split(",").map(Number);
  var zoom = 15;
  var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
  var cx, cy; // centre in world pixels at this zoom

  var project = function (la, lo, z) {
    var s = 256 * Math.pow(2, z), r = Math.sin(la * Math.PI / 180);
    return [(lo + 180) / 360 * s, (0.5 - Math.log((1 + r) / (1 - r)) / (4 * Math.PI)) * s];
  };
  var unproject = function (x, y, z) {
    var s = 256 * Math.pow(2, z), n = Math.PI - 2 * Math.PI * y / s;
    return [180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))), x / s * 360 - 180];
  };
  var start = project(isNaN(lat) ? center[0] : lat, isNaN(lon) ? center[1] : lon, zoom);
  cx = start[0]; cy = start[1];

  var view = document.createElement("div");
  view.className = "map-view";
  view.setAttribute("role", "application");
  view.setAttribute("aria-label", picker.getAttribute("data-label") || "");
  var marker = document.createElement("div");
  marker.className = "map-marker";
  var controls = document.createElement("div");
  controls.className = "map-controls";
  var help = document.createElement("p");
  help.className = "hint";
  help.textContent = picker.getAttribute("data-label") || "";
  var attribution = document.createElement("p");
  attribution.className = "map-attribution";
  attribution.textContent = "© OpenStreetMap";

  var draw = function () {
    while (view.firstChild) { view.removeChild(view.firstChild); }
    var w = view.clientWidth || 480, h = view.clientHeight || 288;
    var left = cx - w / 2, top = cy - h / 2, max = Math.pow(2, zoom);
    for (var tx = Math.floor(left / 256); tx <= Math.floor((left + w) / 256); tx++) {
      for (var ty = Math.floor(top / 256); ty <= Math.floor((top + h) / 256); ty++) {
        if (ty < 0 || ty >= max) { continue; }
        var img = document.createElement("img");
        img.className = "tile";
        img.alt = "";
        img.src = tiles.replace("{z}", zoom).replace("{x}", ((tx % max) + max) % max).replace("{y}", ty);
        img.style.left = (tx * 256 - left) + "px";
        img.style.top = (ty * 256 - top) + "px";
        view.appendChild(img);
      }
    }
    var la = parseFloat(latInput.value), lo = parseFloat(lonInput.value);
    if (!isNaN(la) && !isNaN(lo)) {
      var p = project(la, lo, zoom);
      marker.style.left = (p[0] - left) + "px";
      marker.style.top = (p[1] - top) + "px";
      view.appendChild(marker);
    }
  };
  view.addEventListener("click", function (ev) {
    var rect = view.getBoundingClientRect();
    var x = cx - view.clientWidth / 2 + (ev.clientX - rect.left);
    var y = cy - view.clientHeight / 2 + (ev.clientY - rect.top);
    var ll = unproject(x, y, zoom);
    latInput.value = ll[0].toFixed(6);
    lonInput.value = ll[1].toFixed(6);
    draw();
  });
  var button = function (label, text, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", function () { action(); draw(); });
    controls.appendChild(b);
  };
  button("+", "+", function () { if (zoom < 19) { zoom++; cx *= 2; cy *= 2; } });
  button("−", "−", function () { if (zoom > 3) { zoom--; cx /= 2; cy /= 2; } });
  button("←", "←", function () { cx -= 128; });
  button("→", "→", function () { cx += 128; });
  button("↑", "↑", function () { cy -= 128; });
  button("↓", "↓", function () { cy += 128; });
  button(picker.getAttribute("data-clear") || "×", "×", function () { latInput.value = ""; lonInput.value = ""; });

  picker.appendChild(help);
  picker.appendChild(controls);
  picker.appendChild(view);
  picker.appendChild(attribution);
  picker.hidden = false;
  draw();
})();
