/* Booking widget embed script: <div data-booking-url="https://HOST/user/event"></div>
 * <script src="https://HOST/embed.js" async></script>
 * Puts the booking page in an iframe (inline, or in a popup opened by a button), sizes the iframe
 * to its content and re-dispatches the widget's booking:* messages as DOM events on the container.
 * No dependencies, no <style> tag (element.style only), so it runs under a strict host-page CSP. */
(function () {
  "use strict";
  var w = window, doc = document, html = doc.documentElement;
  if (w.BookingWidget) { w.BookingWidget.init(); return; } // included twice: just rescan
  var widgets = [], open = null;

  function el(tag, styles, attrs) {
    var node = doc.createElement(tag), k;
    for (k in styles) node.style[k] = styles[k];
    for (k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }

  // The booking page URL with what the widget needs: who frames it, prefill, branding, utm_*.
  function frameUrl(d) {
    var url = new URL(d.bookingUrl, location.href), q = url.searchParams;
    q.set("embed", "1");
    q.set("parentOrigin", location.origin);
    [["name", d.bookingName], ["email", d.bookingEmail], ["notes", d.bookingNotes],
      ["color", d.bookingColor], ["locale", d.bookingLocale || navigator.language]]
      .forEach(function (p) { if (p[1]) q.set(p[0], p[1]); });
    new URLSearchParams(location.search).forEach(function (v, k) {
      if (k.indexOf("utm_") === 0) q.set(k, v);
    });
    return url;
  }

  function frame(widget) {
    var f = el("iframe", { width: "100%", height: "600px", border: "0", display: "block",
      overflow: "hidden", colorScheme: "normal" },
      { src: widget.src, title: widget.box.dataset.bookingTitle || "Book a time",
        scrolling: "no" });
    widget.frame = f;
    return f;
  }

  function openPopup(widget) {
    if (open) return;
    var back = el("div", { position: "fixed", inset: "0", zIndex: "2147483000", overflowY: "auto",
      background: "rgba(15,23,42,.6)", padding: "56px 8px 24px", boxSizing: "border-box" });
    var panel = el("div", { position: "relative", maxWidth: "760px", margin: "0 auto",
      background: "#fff", borderRadius: "12px", boxShadow: "0 12px 40px rgba(0,0,0,.35)" },
      { role: "dialog", "aria-modal": "true", "aria-label": widget.label, tabindex: "-1" });
    var close = el("button", { position: "absolute", top: "-48px", right: "0", width: "40px",
      height: "40px", border: "0", borderRadius: "50%", background: "#fff", color: "#111",
      font: "24px/1 sans-serif", cursor: "pointer" }, { type: "button", "aria-label": "Close" });
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
    o.widget.frame = null;
    html.style.overflow = o.overflow;
    o.widget.button.focus();
  }

  function setup(box) {
    box.setAttribute("data-booking-embedded", "");
    var widget = { box: box };
    try {
      var url = frameUrl(box.dataset);
      widget.src = url.href;
      widget.origin = url.origin;
    } catch (err) {
      return console.warn("BookingWidget: bad data-booking-url", box);
    }
    widgets.push(widget);
    if (box.dataset.bookingMode !== "popup") return box.appendChild(frame(widget));
    widget.label = box.dataset.bookingText || "Book a time";
    var button = el("button", { background: box.dataset.bookingColor || "#2563eb", color: "#fff",
      border: "0", borderRadius: "8px", padding: "12px 20px", font: "inherit", fontWeight: "600",
      cursor: "pointer" }, { type: "button", "aria-haspopup": "dialog" });
    button.className = "booking-widget-button";
    button.textContent = widget.label;
    button.onclick = function () { openPopup(widget); };
    widget.button = button;
    box.appendChild(button);
  }

  function init() {
    doc.querySelectorAll("[data-booking-url]:not([data-booking-embedded])").forEach(setup);
  }

  // Only messages from one of our iframes, sent by the widget's own origin, are believed.
  w.addEventListener("message", function (e) {
    var m = e.data, i, widget;
    if (!m || typeof m.type !== "string" || m.type.indexOf("booking:") !== 0) return;
    for (i = 0; i < widgets.length; i++) {
      widget = widgets[i];
      if (!widget.frame || e.source !== widget.frame.contentWindow) continue;
      if (e.origin !== widget.origin) return;
      if (m.type === "booking:resize" && m.height > 0 && m.height < 100000) {
        widget.frame.style.height = Math.ceil(m.height) + "px";
      }
      if (m.type === "booking:close" && open && open.widget === widget) closePopup();
      widget.box.dispatchEvent(new CustomEvent(m.type, { bubbles: true, detail: m }));
      return;
    }
  });
  doc.addEventListener("keydown", function (e) {
    if (open && e.key === "Escape") closePopup();
  });

  w.BookingWidget = { init: init, close: closePopup };
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", init);
  else init();
  new MutationObserver(init).observe(html, { childList: true, subtree: true });
})();
