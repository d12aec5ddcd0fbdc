// Installs the service worker (sejagad/pwa.py) that keeps the birth form on the phone, then asks it to keep
// this page now: the page that registers a worker is not yet controlled by it.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var script = document.currentScript;
  var url = (script && script.dataset.worker) || "/sw.js";
  navigator.serviceWorker.register(url, { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    if (registration.active) registration.active.postMessage("keep-form");
    document.documentElement.dataset.offlineReady = "1";
  }).catch(function () { /* the form still works online */ });
})();
