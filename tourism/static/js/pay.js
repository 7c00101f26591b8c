// Card payment with Stripe.js. The card is set up in the browser (it never reaches our
// server), our server charges the booking's PaymentIntent with it, and Stripe.js handles any
// authentication (3-D Secure). The booking is confirmed only from what Stripe tells our
// server, on the processing page or by webhook.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var data = form.dataset;
  // Card errors in the page's language ("es", "en"; Stripe falls back to English).
  var stripe = Stripe(data.publishableKey, { locale: data.locale || "auto" });
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");

  function fail(message) {
    errors.textContent = message || data.errorMessage;
    button.disabled = false;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = data.processingMessage;
    var setup = await stripe.confirmCardSetup(data.setupClientSecret, {
      payment_method: { card: card, billing_details: { name: data.name } }
    });
    if (setup.error) { return fail(setup.error.message); }
    var body = new URLSearchParams({ setup_intent: setup.setupIntent.id });
    var response = await fetch(form.action, {
      method: "POST",
      headers: { "X-CSRFToken": data.csrfToken },
      body: body
    });
    var result = await response.json().catch(function () { return {}; });
    // "next": the card may have been charged, or there is nothing more to try here; the
    // page there asks Stripe what happened and says it in the visitor's language.
    if (!response.ok && result.next) { return window.location.assign(result.next); }
    if (!response.ok) {
      if (result.setup_client_secret) { data.setupClientSecret = result.setup_client_secret; }
      return fail(result.error);
    }
    if (result.status === "requires_action") {
      var auth = await stripe.confirmCardPayment(result.client_secret || data.clientSecret);
      if (auth.error) { return fail(auth.error.message); }
    }
    window.location.assign(result.next);
  });
})();
