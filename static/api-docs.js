/* Starts the vendored Swagger UI on /schema (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") return;
    window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
