/* Host console: small progressive enhancements; every page works without this file.
 * - [data-copy="#id"] buttons copy the text of a field (an embed snippet, a link, a new API key);
 * - forms with [data-confirm="…"] ask before a destructive action (without JavaScript the action
 *   goes through its own confirmation page instead);
 * - after an htmx swap, focus moves to the new page's first heading, as a page load would;
 * - on a narrow screen the section row scrolls so that the current section is in sight. */
(function () {
  "use strict";
  function say(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = ""; setTimeout(function () { live.textContent = text; }, 50); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var text = "value" in field ? field.value : field.textContent;
    var done = function () { say(button.getAttribute("data-copied") || "Copied"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { field.select(); });
    } else if (field.select) {
      field.select(); document.execCommand("copy"); done();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  // On a phone the sections scroll sideways: keep the current one in sight.
  function showCurrentSection() {
    var current = document.querySelector(".sections a[aria-current=page]");
    var row = current && current.closest("ul");
    if (row && row.scrollWidth > row.clientWidth) {
      current.scrollIntoView({block: "nearest", inline: "center"});  // right to left too
    }
  }
  document.addEventListener("DOMContentLoaded", showCurrentSection);
  document.addEventListener("htmx:afterSettle", showCurrentSection);
  window.addEventListener("resize", showCurrentSection);  // a phone turned, a window narrowed
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) {
      var heading = document.querySelector("main h1");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({preventScroll: true}); }
    }
  });
})();
