/* Console, availability: a refused form (400) is drawn again with its messages, so htmx shows it
 * instead of keeping the old page (htmx leaves 4xx answers unswapped by default). */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (status === 400 && form && form.closest && form.closest("main") &&
        (event.detail.pathInfo.requestPath || "").indexOf("/console/availability") === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
