/* Loads the ALTCHA widget (altcha 3.2.2, MIT, vendored from npm's dist/external build) and gives it
 * its proof-of-work worker as a same-origin file: the default build makes workers from blob: URLs
 * and injects styles, which our Content-Security-Policy does not allow. */
import "./altcha-3.2.2.min.js";

globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", function () {
  return new Worker(new URL("./altcha-3.2.2-pbkdf2-worker.js", import.meta.url));
});
