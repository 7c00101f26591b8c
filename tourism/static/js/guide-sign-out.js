// Guide pages: signing out deletes what this phone keeps (the server sends Clear-Site-Data),
// the actions still waiting for signal among it. Ask first when some have not been sent.
(function () {
  "use strict";
  var form = document.querySelector("form[data-sign-out]");
  if (!form || !window.localStorage || !window.JSON) { return; }
  form.addEventListener("submit", function (event) {
    var waiting = [];
    try { waiting = JSON.parse(localStorage.getItem("chakra-guide-actions")) || []; } catch (e) {}
    waiting = waiting.filter(function (action) { return !action.error; });
    if (waiting.length && !window.confirm(form.dataset.signOut.replace("__N__", waiting.length))) {
      event.preventDefault();
    }
  });
})();
