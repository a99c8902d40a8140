/* Booking widget embed script: <div data-booking-url="https://HOST/user/event"></div>
 * <script src="https://HOST/embed.js" async></script>
 * Puts the booking page in an iframe (inline, in a popup opened by a button, or by a floating
 * button in a corner), sizes the iframe to its content and re-dispatches the widget's booking:*
 * messages as DOM events on the container. BookingWidget.open(url, options) / close() for scripts.
 * No dependencies, no <style> tag (element.style only), so it runs under a strict host-page CSP.
 * The words below come from the server's catalogs (app/web/embed.py fills TEXT in). */
(function () {
  "use strict";
  var w = window, doc = document, html = doc.documentElement;
  if (w.BookingWidget) { w.BookingWidget.init(); return; } // included twice: just rescan
  var TEXT = {/*TEXT*/};
  var widgets = [], open = null, LOAD_MS = 10000;

  function el(tag, styles, attrs) {
    var node = doc.createElement(tag), k;
    for (k in styles) node.style[k] = styles[k];
    for (k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }

  function words(d) {
    var tag = (d.bookingLocale || html.lang || navigator.language || "en").toLowerCase().split("-")[0];
    return TEXT[tag] || TEXT.en;
  }

  function dark(d) {
    return d.bookingTheme === "dark" || (d.bookingTheme !== "light" && w.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
  }

  // The booking page URL with what the widget needs: who frames it, the visitor's zone (so the
  // page needs no second trip to find it), prefill, branding, utm_*.
  function frameUrl(d) {
    var url = new URL(d.bookingUrl, location.href), q = url.searchParams, zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* the page finds it */ }
    q.set("embed", "1");
    q.set("parentOrigin", location.origin);
    [["name", d.bookingName], ["email", d.bookingEmail], ["notes", d.bookingNotes],
      ["color", d.bookingColor], ["locale", d.bookingLocale || navigator.language], ["tz", zone],
      ["theme", /^(light|dark)$/.test(d.bookingTheme) ? d.bookingTheme : ""]]
      .forEach(function (p) { if (p[1] && !q.has(p[0])) q.set(p[0], p[1]); });
    new URLSearchParams(location.search).forEach(function (v, k) {
      if (k.indexOf("utm_") === 0) q.set(k, v);
    });
    return url;
  }

  function emit(widget, type, detail) {
    widget.box.dispatchEvent(new CustomEvent(type, { bubbles: true, detail: detail }));
  }

  // The frame refused (frame-ancestors), unreachable or never ready: say so, link to the page.
  function failed(widget) {
    var f = widget.frame;
    if (!f || widget.ready) return;
    var t = words(widget.box.dataset);
    var note = el("p", { margin: "0", padding: "16px", border: "1px solid #b91c1c", borderRadius: "8px",
      background: "#fef2f2", color: "#7f1d1d", font: "16px/1.5 system-ui, sans-serif" }, { role: "alert" });
    var link = el("a", { color: "#7f1d1d", fontWeight: "600" }, { href: widget.page, target: "_blank", rel: "noopener" });
    note.textContent = t.failed + " ";
    link.textContent = t.newTab;
    note.appendChild(link);
    f.replaceWith(note);
    widget.frame = null;
    widget.note = note;
    emit(widget, "booking:error", { type: "booking:error", reason: "load", message: t.failed });
  }

  function frame(widget) {
    if (widget.note) { widget.note.remove(); widget.note = null; }
    var f = el("iframe", { width: "100%", height: "600px", border: "0", display: "block",
      overflow: "hidden", colorScheme: "normal" },
      { src: widget.src, title: widget.box.dataset.bookingTitle || words(widget.box.dataset).book,
        scrolling: "no" });
    widget.frame = f;
    widget.ready = false;
    clearTimeout(widget.timer);
    widget.timer = setTimeout(function () { failed(widget); }, LOAD_MS);
    f.addEventListener("load", function () { // a refused frame loads an error page: no "ready"
      setTimeout(function () { if (widget.frame === f) failed(widget); }, 1500);
    });
    f.addEventListener("error", function () { failed(widget); });
    return f;
  }

  function openPopup(widget) {
    if (open) return;
    var night = dark(widget.box.dataset), bg = night ? "#111827" : "#fff";
    var back = el("div", { position: "fixed", inset: "0", zIndex: "2147483000", overflowY: "auto",
      background: "rgba(15,23,42,.6)", padding: "56px 8px 24px", boxSizing: "border-box" });
    var panel = el("div", { position: "relative", maxWidth: "760px", margin: "0 auto",
      background: bg, borderRadius: "12px", boxShadow: "0 12px 40px rgba(0,0,0,.35)" },
      { role: "dialog", "aria-modal": "true", "aria-label": widget.label, tabindex: "-1" });
    var close = el("button", { position: "absolute", top: "-48px", insetInlineEnd: "0", width: "40px",
      height: "40px", border: "0", borderRadius: "50%", background: bg, color: night ? "#e5e7eb" : "#111",
      font: "24px/1 sans-serif", cursor: "pointer" }, { type: "button", "aria-label": words(widget.box.dataset).close });
    close.textContent = "\u00d7";
    close.onclick = closePopup;
    back.onclick = function (e) { if (e.target === back) closePopup(); };
    panel.appendChild(close);
    panel.appendChild(frame(widget)).style.borderRadius = "12px";
    back.appendChild(panel);
    // The rest of the page is inert while the dialog is open: Tab cannot wander behind it.
    var behind = [].filter.call(doc.body.children, function (n) { return !n.inert; });
    behind.forEach(function (n) { n.inert = true; });
    open = { widget: widget, back: back, behind: behind, overflow: html.style.overflow };
    html.style.overflow = "hidden";
    doc.body.appendChild(back);
    close.focus();
  }

  // Closing removes the iframe: the next opening starts a fresh booking.
  function closePopup() {
    if (!open) return;
    var o = open;
    open = null;
    o.back.remove();
    o.behind.forEach(function (n) { n.inert = false; });
    clearTimeout(o.widget.timer);
    o.widget.frame = o.widget.note = null;
    html.style.overflow = o.overflow;
    if (o.widget.button) o.widget.button.focus();
    if (o.widget.temporary) o.widget.box.remove();
  }

  function setup(box) {
    box.setAttribute("data-booking-embedded", "");
    var widget = { box: box }, d = box.dataset, mode = d.bookingMode;
    try {
      var url = frameUrl(d);
      widget.src = url.href;
      widget.origin = url.origin;
      widget.page = new URL(d.bookingUrl, location.href).href;
    } catch (err) {
      console.warn("BookingWidget: bad data-booking-url", box);
      return null;
    }
    widgets.push(widget);
    widget.label = d.bookingText || words(d).book;
    if (mode === "api") return widget;
    if (mode !== "popup" && mode !== "floating") { box.appendChild(frame(widget)); return widget; }
    var floating = mode === "floating", left = d.bookingPosition === "left";
    var button = el("button", { background: d.bookingColor || "#2563eb", color: "#fff",
      border: "0", borderRadius: floating ? "999px" : "8px", padding: floating ? "14px 22px" : "12px 20px",
      font: "inherit", fontWeight: "600", cursor: "pointer" }, { type: "button", "aria-haspopup": "dialog" });
    if (floating) {
      button.style.position = "fixed";
      button.style.bottom = button.style[left ? "left" : "right"] = "20px";
      button.style.zIndex = "2147482999";
      button.style.boxShadow = "0 6px 20px rgba(0,0,0,.3)";
    }
    button.className = "booking-widget-button";
    button.textContent = widget.label;
    button.onclick = function () { openPopup(widget); };
    widget.button = button;
    box.appendChild(button);
    return widget;
  }

  function init() {
    doc.querySelectorAll("[data-booking-url]:not([data-booking-embedded])").forEach(setup);
  }

  // For scripts: open a booking page in the popup; options are the data-booking-* names without
  // the prefix ({name, email, notes, color, locale, theme, text}). Events bubble to document.
  function openUrl(url, options) {
    var box = el("div", { display: "none" }, { "data-booking-url": url }), k;
    options = options || {};
    for (k in options) box.setAttribute("data-booking-" + k.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); }), options[k]);
    box.setAttribute("data-booking-mode", "api");
    doc.body.appendChild(box);
    var widget = setup(box);
    if (!widget) return box.remove();
    widget.temporary = true;
    widget.button = doc.activeElement !== doc.body ? doc.activeElement : null;
    closePopup();
    openPopup(widget);
  }

  // Only messages from one of our iframes, sent by the widget's own origin, are believed.
  w.addEventListener("message", function (e) {
    var m = e.data, i, widget;
    if (!m || typeof m.type !== "string" || m.type.indexOf("booking:") !== 0) return;
    for (i = 0; i < widgets.length; i++) {
      widget = widgets[i];
      if (!widget.frame || e.source !== widget.frame.contentWindow) continue;
      if (e.origin !== widget.origin) return;
      if (m.type === "booking:ready") { widget.ready = true; clearTimeout(widget.timer); }
      if (m.type === "booking:resize" && m.height > 0 && m.height < 100000) {
        widget.frame.style.height = Math.ceil(m.height) + "px";
      }
      if (m.type === "booking:close" && open && open.widget === widget) closePopup();
      emit(widget, m.type, m);
      return;
    }
  });
  doc.addEventListener("keydown", function (e) {
    if (open && e.key === "Escape") closePopup();
  });

  w.BookingWidget = { init: init, open: openUrl, close: closePopup };
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", init);
  else init();
  new MutationObserver(init).observe(html, { childList: true, subtree: true });
})();
