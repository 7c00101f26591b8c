// The guide's schedule page: register the service worker and keep this page and the
// manifests of the coming week on the phone, so they open later without signal.
(function () {
  "use strict";
  var box = document.getElementById("guide-precache");
  if (!box || !window.caches || !navigator.onLine) { return; }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(box.dataset.swUrl, { scope: box.dataset.swScope })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (!navigator.serviceWorker.controller && registration.active) {
          registration.active.postMessage("claim");
        }
      })
      .catch(function () {});
  }
  caches.open("chakra-guide-v1").then(function (cache) {
    return cache.addAll(box.dataset.precache.split(" "));
  }).catch(function () {});
})();
