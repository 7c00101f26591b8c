// Guide pages without signal. Actions (check-in, not come, cash, stop visited) are kept in
// localStorage, each with its own id, shown as pending, and sent to /guide/sync whenever there
// is a connection; the server applies each once, so sending twice is harmless. The service
// worker keeps the manifest and this page's files for offline use. No JS: the plain forms work.
(function () {
  "use strict";
  var box = document.getElementById("guide-offline");
  var dataEl = document.getElementById("manifest-data");
  if (!box || !dataEl || !window.fetch || !window.localStorage || !window.JSON) { return; }
  var KEY = "chakra-guide-actions";
  var opts = box.dataset;
  var manifest = JSON.parse(dataEl.textContent);
  var statusEl = document.getElementById("sync-status");
  var list = document.getElementById("pending-list");
  var clearButton = document.getElementById("clear-errors");
  var syncing = false;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(opts.swUrl, { scope: opts.swScope })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (!navigator.serviceWorker.controller && registration.active) {
          registration.active.postMessage("claim");
        }
      })
      .catch(function () {});
  }
  if (window.caches && navigator.onLine) {
    // The first visit is not controlled by the worker yet: store this page and its files now.
    caches.open("chakra-guide-v1").then(function (cache) {
      return cache.addAll(opts.precache.split(" "));
    }).catch(function () {});
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function cents(text) {
    var m = /^\s*\$?\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function say(text) { statusEl.textContent = text; }

  function render(message) {
    var items = load();
    var errors = 0;
    list.textContent = "";
    items.forEach(function (a) {
      var li = document.createElement("li");
      li.textContent = a.label + " — " + (a.error ? opts.msgError + " " + a.error : opts.msgPending);
      if (a.error) { errors += 1; }
      list.appendChild(li);
    });
    clearButton.hidden = errors === 0;
    var waiting = items.length - errors;
    if (message) { say(message); }
    else if (waiting) { say(opts.msgWaiting.replace("__N__", waiting)); }
    else if (!navigator.onLine) { say(opts.msgOffline); }
    else { say(""); }
    box.hidden = !items.length && !statusEl.textContent;
  }

  // The server takes a batch of at most 200 actions; a queue kept for days without signal
  // is sent in turns of 100, the next as soon as one is answered.
  var TURN = 100;

  function sync() {
    var items = load().filter(function (a) { return !a.error; }).slice(0, TURN);
    var sent = items;
    var again = false;
    if (!items.length || syncing) { return; }
    syncing = true;
    var body = JSON.stringify({ actions: items.map(function (a) { return a.action; }) });
    fetch(opts.syncUrl, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/json", "X-CSRFToken": opts.csrfToken }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || type.indexOf("json") < 0) { throw new Error("signin"); }
      return response.json();
    }).then(function (reply) {
      var byId = {};
      (reply.results || []).forEach(function (r) { byId[r.id] = r; });
      var left = load().filter(function (a) {
        var r = byId[a.action.id];
        if (!r) { return true; }
        if (!r.ok) { a.error = r.message; return true; }
        return false;
      });
      save(left);
      var done = sent.filter(function (a) { var r = byId[a.action.id]; return r && r.ok; })
        .map(function (a) { return a.done || a.label; });
      var before = [];
      try { before = JSON.parse(sessionStorage.getItem("chakra-guide-synced")) || []; } catch (e) {}
      sessionStorage.setItem("chakra-guide-synced", JSON.stringify(before.concat(done)));
      // Show the server's state (amounts, undo buttons) now that it has everything: load the
      // page again with a GET. Never location.reload(): when this page is the answer to a
      // form sent before (a reference that was refused), a reload would send that form again
      // and bring its error back instead of what was just recorded.
      if (!left.some(function (a) { return !a.error; })) {
        location.replace(location.pathname + location.search);
      } else {
        render();
        again = done.length > 0;  // this turn went through: send the next one
      }
    }).catch(function (error) {
      render(error && error.message === "signin" ? opts.msgSignin : null);
    }).then(function () {
      syncing = false;
      if (again) { sync(); }
    });
  }

  function record(action, label, done) {
    action.id = uuid();
    action.at = new Date().toISOString();
    action.departure_id = manifest.departure_id;
    var items = load();
    items.push({ action: action, label: label, done: done });
    save(items);
    render();
    sync();
  }

  function markDone(form, label) {
    var holder = form.closest("li") || form;
    holder.classList.add("is-pending");
    var note = document.createElement("p");
    note.textContent = "✓ " + label + " — " + opts.msgDone;
    form.replaceWith(note);
  }

  // As the server reads a reference: any case, with or without the dash or spaces; the six
  // characters after the association's code are enough.
  function bare(text) { return (text || "").toUpperCase().replace(/[^0-9A-Z]/g, ""); }
  function findBooking(text) {
    var wanted = bare(text);
    if (!wanted) { return undefined; }
    return manifest.bookings.filter(function (b) {
      var ref = bare(b.reference);
      return ref === wanted || (wanted.length === 6 && ref.slice(-6) === wanted);
    })[0];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var type = form.dataset.offline;
    if (!type) {
      if (!navigator.onLine) { event.preventDefault(); say(opts.msgConnection); }
      return;
    }
    if (type === "scan") {
      var found = findBooking(form.elements.reference.value);
      var result = document.getElementById("scan-result");
      if (!found) {
        if (!navigator.onLine) { event.preventDefault(); result.textContent = opts.msgUnknown; }
        return;  // online: the server says what is wrong
      }
      event.preventDefault();
      record({ type: "check_in", booking_reference: found.reference }, found.name, found.done);
      result.textContent = "✓ " + found.name + " (" + found.participants + ") — " + opts.msgDone;
      form.elements.reference.value = "";
      return;
    }
    event.preventDefault();
    var action = { type: type };
    var label = form.dataset.label;
    if (type === "stop_visited") { action.stop_id = parseInt(form.dataset.stopId, 10); }
    else { action.booking_reference = form.dataset.reference; }
    if (type === "cash") {
      var amount = cents(form.elements.amount.value);
      if (!amount) { say(opts.msgAmount); form.elements.amount.focus(); return; }
      action.amount_cents = amount;
      label += ": " + form.elements.amount.value;
    }
    record(action, label);
    markDone(form, label);
  });

  clearButton.addEventListener("click", function () {
    save(load().filter(function (a) { return !a.error; }));
    render();
  });
  window.addEventListener("online", sync);
  window.addEventListener("offline", function () { render(); });
  setInterval(sync, 30000);
  // After a sync the page was loaded again: say what was recorded, one line each.
  var synced = null;
  try { synced = JSON.parse(sessionStorage.getItem("chakra-guide-synced")); } catch (e) { synced = null; }
  sessionStorage.removeItem("chakra-guide-synced");
  render(synced && !load().length ? opts.msgSynced : null);
  if (synced && synced.length) {
    var recorded = document.getElementById("synced-list");
    synced.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = "✓ " + text;
      recorded.appendChild(li);
    });
    box.hidden = false;
  }
  sync();

  // QR codes hold the booking reference; read them with the camera where the browser can.
  var scanner = document.getElementById("scanner");
  var scanForm = document.getElementById("scan-form");
  if (!scanner || !scanForm || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  scanner.hidden = false;
  var video = document.getElementById("scan-video");
  var scanStatus = document.getElementById("scan-status");
  document.getElementById("scan-start").addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      scanStatus.textContent = scanner.dataset.msgAim;
      return video.play().then(function () {
        (function look() {
          detector.detect(video).then(function (codes) {
            if (!codes.length) { setTimeout(look, 250); return; }
            stream.getTracks().forEach(function (t) { t.stop(); });
            video.hidden = true;
            scanStatus.textContent = "";
            scanForm.elements.reference.value = codes[0].rawValue;
            if (scanForm.requestSubmit) { scanForm.requestSubmit(); } else { scanForm.submit(); }
          }).catch(function () { setTimeout(look, 500); });
        })();
      });
    }).catch(function () { scanStatus.textContent = scanner.dataset.msgNoCamera; });
  });
}());
