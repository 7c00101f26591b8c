// A form that makes something (a booking, a settlement of payouts) is sent once. While the
// first sending is on its way (a slow connection, a busy site), its button says so and
// further clicks do nothing. The server recognises a repeated sending anyway (the form's own
// key: a booking's "submission", a payout table's "batch"), so this only spares a second
// wait; "Update the total" is never held back.
(function () {
  "use strict";
  document.querySelectorAll("form[data-send-once]").forEach(function (form) {
    var button = form.querySelector("[data-sending]");
    var label = button ? button.textContent : "";
    var sending = false;

    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.hasAttribute("data-recalculate")) { return; }
      if (sending) {
        event.preventDefault();
        return;
      }
      sending = true;
      form.setAttribute("aria-busy", "true");
      if (button) {
        // After this event: a button disabled while its own click is being sent would
        // cancel the sending.
        window.setTimeout(function () {
          button.disabled = true;
          button.textContent = button.dataset.sending;
        }, 0);
      }
    });

    // Back to this page from the next one (the browser's page cache): it can be sent again,
    // and the server will lead to the booking if it was made.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted || !sending) { return; }
      sending = false;
      form.removeAttribute("aria-busy");
      if (button) {
        button.disabled = false;
        button.textContent = label;
      }
    });
  });
})();
