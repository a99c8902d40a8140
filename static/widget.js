/* Booking widget: finds the guest's time zone, moves focus after htmx swaps, talks to the
 * embedding page. No dependencies, no inline script: configuration comes from <body data-*>. */
(function () {
  "use strict";
  var doc = document, body = doc.body, data = body.dataset;
  var parentOrigin = /^https?:\/\/[A-Za-z0-9.\-]+(:\d{1,5})?$/.test(data.parentOrigin || "") ? data.parentOrigin : "";

  // First visit without ?tz=: show the page again in the browser's own zone.
  if (data.tzDetect) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) {
        var url = new URL(location.href);
        url.searchParams.set("tz", zone);
        location.replace(url.href);
        return;
      }
    } catch (e) { /* no Intl: keep the host's zone */ }
  }

  // Messages for the embedding page, only ever to the origin it told us (never "*").
  function post(message) {
    if (data.embed && parentOrigin && window.parent !== window) window.parent.postMessage(message, parentOrigin);
  }

  function validZone(name) {
    try { new Intl.DateTimeFormat("en", { timeZone: name }); return true; } catch (e) { return false; }
  }

  // The zone selector's suggestions come from the browser, so the page need not carry ~600 names.
  function fillZones() {
    var list = doc.getElementById("zones");
    if (!list || list.dataset.filled || !Intl.supportedValuesOf) return;
    var have = {};
    Array.prototype.forEach.call(list.options, function (o) { have[o.value] = 1; });
    Intl.supportedValuesOf("timeZone").forEach(function (name) {
      if (!have[name]) { var o = doc.createElement("option"); o.value = name; list.appendChild(o); }
    });
    list.dataset.filled = "1";
  }

  function booked(root) {
    var el = root.querySelector("[data-booked]") || (root.matches("[data-booked]") ? root : null);
    if (!el) return;
    post({ type: "booking:booked", payload: JSON.parse(el.dataset.booked) });
    el.removeAttribute("data-booked");
  }

  // After each swap: focus the new fragment's heading (or its first error) and announce it.
  doc.addEventListener("htmx:afterSettle", function (e) {
    var root = e.detail.target;
    if (root && !root.isConnected && root.id) root = doc.getElementById(root.id);
    if (!root) return;
    var target = root.querySelector("[aria-invalid=true]") || root.querySelector(".alert") || root.querySelector("h2, h1");
    if (target) {
      if (!target.matches("input, select, textarea") && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
    var say = root.querySelector("[data-announce]") || (root.matches("[data-announce]") ? root : null);
    var live = doc.getElementById("live");
    if (live) live.textContent = (target && target.classList.contains("alert") ? target.textContent + " " : "") + (say ? say.dataset.announce : target ? target.textContent : "");
    fillZones();
    booked(root);
  });

  // The chosen day stays marked while its times load.
  doc.addEventListener("click", function (e) {
    var day = e.target.closest && e.target.closest("a[data-day]");
    if (!day) return;
    doc.querySelectorAll("a[data-day][aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); a.parentNode.setAttribute("aria-selected", "false"); });
    day.setAttribute("aria-current", "true");
    day.parentNode.setAttribute("aria-selected", "true");
  });

  // Esc inside the frame never reaches the host page: ask embed.js to close its popup.
  // Arrow keys move between the bookable days of the month grid.
  doc.addEventListener("keydown", function (e) {
    if (e.key === "Escape") return post({ type: "booking:close" });
    var day = e.target.closest && e.target.closest("a[data-day]");
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
    if (!day || !step) return;
    var days = Array.prototype.slice.call(doc.querySelectorAll("a[data-day]"));
    var next;
    if (Math.abs(step) === 1) next = days[days.indexOf(day) + step];
    else {
      var d = new Date(day.dataset.day + "T12:00:00Z");
      d.setUTCDate(d.getUTCDate() + step);
      next = doc.querySelector('a[data-day="' + d.toISOString().slice(0, 10) + '"]');
    }
    if (next) { e.preventDefault(); next.focus(); }
  });

  // Changing the zone shows the times again in it.
  doc.addEventListener("change", function (e) {
    if (e.target.id === "tz" && validZone(e.target.value) && e.target.form.requestSubmit) e.target.form.requestSubmit();
  });

  fillZones();
  post({ type: "booking:ready" });
  if (window.ResizeObserver && data.embed) {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(body.getBoundingClientRect().height);
      if (height !== last) { last = height; post({ type: "booking:resize", height: height }); }
    }).observe(body);
  }
})();
