// Service worker for the guide pages (served as /guide/sw.js so it may control /guide/).
// Guide pages: network first, the stored copy when there is no signal. Static files: the
// stored copy at once, refreshed in the background. Nothing else is touched; POSTs never are.
var CACHE = "chakra-guide-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
// A page that loaded while the worker was still installing asks to be taken over.
self.addEventListener("message", function (event) {
  if (event.data === "claim") { event.waitUntil(self.clients.claim()); }
});

function store(request, response) {
  if (response.ok && !response.redirected) {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return response;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var scope = new URL(self.registration.scope).pathname;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (r) { return store(request, r); })
        .catch(function () { return hit || Response.error(); });
      return hit || fresh;
    }));
    return;
  }
  if (url.pathname.indexOf(scope) !== 0 || /\.(ics|js)$/.test(url.pathname)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    // Signed out, the guide pages redirect to the sign-in page; a page load sees that redirect
    // itself (opaque), a script's fetch the page it led to. Either way: forget the manifests.
    if (response.type === "opaqueredirect" || (response.redirected && /\/login/.test(response.url))) {
      caches.delete(CACHE);
      return response;
    }
    return store(request, response);
  }).catch(function () {
    return caches.match(request).then(function (hit) { return hit || Response.error(); });
  }));
});
