/* Booking widget: the guest's zone, waiting and failure, focus after swaps, the embedding page.
 * No dependencies, no inline script: settings and translated messages come from <body data-*>. */
(function () {
  "use strict";
  var doc = document, body = doc.body, data = body.dataset;
  var parentOrigin = /^https?:\/\/[A-Za-z0-9.\-]+(:\d{1,5})?$/.test(data.parentOrigin || "") ? data.parentOrigin : "";
  var rtl = doc.documentElement.dir === "rtl";

  // To the embedding page's own origin only (never "*").
  function post(message) {
    if (data.embed && parentOrigin && window.parent !== window) window.parent.postMessage(message, parentOrigin);
  }

  function say(text) {
    var live = doc.getElementById("live");
    if (live) live.textContent = text;
  }

  // A failed request: say so where the guest looks; offer to retry.
  function problem(elt, target, message) {
    clearProblem();
    var box = doc.createElement("div"), text = doc.createElement("p"), retry = doc.createElement("button");
    box.className = "alert request-problem";
    box.setAttribute("role", "alert");
    text.textContent = message;
    retry.type = "button";
    retry.textContent = data.msgRetry;
    retry.addEventListener("click", function () {
      clearProblem();
      if (elt && elt.isConnected) {
        if (elt.tagName === "FORM") elt.requestSubmit(); else elt.click();
      } else location.reload();
    });
    box.appendChild(text);
    box.appendChild(retry);
    // By the form's button, else atop what was to be replaced.
    var form = elt && elt.closest && elt.closest("form");
    var slot = form && form.querySelector(".form-status");
    var place = slot || (target && target.isConnected ? target : doc.getElementById("panel") || body);
    if (slot) slot.appendChild(box); else place.insertBefore(box, place.firstChild);
    retry.focus();
    post({ type: "booking:error", reason: "request", message: message });
  }

  function clearProblem() {
    doc.querySelectorAll(".request-problem").forEach(function (n) { n.remove(); });
  }

  function errorText(xhr) {
    if (xhr && xhr.getResponseHeader("X-Widget-Error")) {
      var node = new DOMParser().parseFromString(xhr.responseText, "text/html").body;
      if (node.textContent.trim()) return node.textContent.trim();
    }
    return data.msgFailed;
  }

  // No ?tz= yet: fetch the times in the browser's zone.
  var panel = doc.getElementById("panel");
  function detect() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep the host's */ }
    var url = new URL(panel.dataset.detect, location.href);
    if (zone) url.searchParams.set("tz", zone);
    panel.setAttribute("aria-busy", "true");
    fetch(url.href, { headers: { "HX-Request": "true" }, credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      var pushed = r.headers.get("HX-Push-Url");
      return r.text().then(function (html) {
        panel.innerHTML = html;
        panel.removeAttribute("data-detect");
        panel.removeAttribute("aria-busy");
        history.replaceState(null, "", pushed && pushed !== "false" ? pushed : url.href);
        if (window.htmx) htmx.process(panel);
        booked(panel);
      });
    }).catch(function () {
      panel.removeAttribute("aria-busy");
      problem(null, panel, navigator.onLine === false ? data.msgOffline : data.msgFailed);
    });
  }
  if (panel && panel.dataset.detect) detect();

  function booked(root) {
    var el = root.querySelector("[data-booked]") || (root.matches("[data-booked]") ? root : null);
    if (!el) return;
    var payload = JSON.parse(el.dataset.booked);
    post({ type: "booking:booked", payload: payload });
    post({ type: "schedkit:booked", payload: payload }); // SchedKit's name (seed 002)
    el.removeAttribute("data-booked");
  }

  // Busy at once; a spinner after 300 ms.
  var waiting = [];
  doc.addEventListener("htmx:beforeRequest", function (e) {
    var target = e.detail.target, elt = e.detail.elt;
    if (elt && elt.classList && elt.classList.contains("tz-search")) return; // typing: stay quiet
    clearProblem();
    if (target) target.setAttribute("aria-busy", "true");
    var marked = [target, elt.tagName === "FORM" ? elt : null].filter(Boolean);
    waiting.push({ elt: elt, marked: marked, timer: setTimeout(function () {
      marked.forEach(function (n) { n.classList.add("is-loading"); });
      say(data.msgLoading);
    }, 300) });
  });
  // Done: the request ended (its element may be gone), the swap settled, or it failed.
  function done(e) {
    waiting = waiting.filter(function (w) {
      if (e && w.elt !== e.detail.elt && w.elt.isConnected) return true;
      clearTimeout(w.timer);
      w.marked.forEach(function (n) { n.classList.remove("is-loading"); n.removeAttribute("aria-busy"); });
      return false;
    });
  }
  doc.addEventListener("htmx:afterRequest", done);
  ["htmx:afterSettle", "htmx:sendError", "htmx:timeout", "htmx:sendAbort"].forEach(function (name) {
    doc.addEventListener(name, function () { done(null); });
  });

  // Our 400/409/422 pages swap in; any other failure keeps the page (and what was typed).
  doc.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr, status = xhr.status;
    if (status < 400) return;
    var ours = !xhr.getResponseHeader("X-Widget-Error") && (status === 400 || status === 409 || status === 422);
    if (ours) return;
    e.detail.shouldSwap = false;
    problem(e.detail.requestConfig && e.detail.requestConfig.elt, e.detail.target, errorText(xhr));
  });
  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    doc.addEventListener(name, function (e) {
      problem(e.detail.elt, e.detail.target, navigator.onLine === false || name === "htmx:sendError" ? data.msgOffline : data.msgFailed);
    });
  });

  // After a swap: focus its heading (or first error) and announce it.
  doc.addEventListener("htmx:afterSettle", function (e) {
    var root = e.detail.target;
    if (root && !root.isConnected && root.id) root = doc.getElementById(root.id);
    if (!root) return;
    var announce = root.querySelector("[data-announce]") || (root.matches("[data-announce]") ? root : null);
    if (root.id === "zone-results") { // still typing: keep the focus
      if (announce) say(announce.dataset.announce);
      return;
    }
    var target = root.querySelector("[aria-invalid=true]") || root.querySelector(".alert") || root.querySelector("h2, h1");
    if (target) {
      if (!target.matches("input, select, textarea") && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
    say((target && target.classList.contains("alert") ? target.textContent + " " : "") + (announce ? announce.dataset.announce : target ? target.textContent : ""));
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

  // Esc: ask embed.js to close its popup. Arrows move between days (mirrored right-to-left).
  doc.addEventListener("keydown", function (e) {
    if (e.key === "Escape") return post({ type: "booking:close" });
    var day = e.target.closest && e.target.closest("a[data-day]");
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
    if (!day || !step) return;
    if (rtl && Math.abs(step) === 1) step = -step;
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

  booked(body);
  post({ type: "booking:ready" });
  if (window.ResizeObserver && data.embed) {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(body.getBoundingClientRect().height);
      if (height !== last) { last = height; post({ type: "booking:resize", height: height }); }
    }).observe(body);
  }
})();
