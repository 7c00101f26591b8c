// The booking form's total, kept current as tickets and the payment method change. The page
// works without it: the server shows the total, "Update the total" recalculates it, and a
// booking sent with a total the page did not show is shown again to be checked. Here the
// same arithmetic runs in the browser (tourism/services/booking/pricing.py: quote and
// online_due), and the form's "quoted" field says which total the visitor saw.
(function () {
  "use strict";
  var form = document.querySelector("form[data-quote]");
  if (!form) { return; }
  var data = form.dataset;
  var depositPercent = parseInt(data.depositPercent, 10);
  var maxTickets = parseInt(data.maxTickets, 10);
  var outputs = {
    total: form.querySelector("[data-quote-total]"),
    now: form.querySelector("[data-quote-now]"),
    arrival: form.querySelector("[data-quote-arrival]")
  };

  // Cents as the server writes them: "$1.234,50" in Spanish, "$1,234.50" in English.
  function money(cents) {
    var units = String(Math.floor(cents / 100));
    var rest = String(cents % 100);
    var grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, data.moneyGroup);
    return data.moneyPrefix + grouped + data.moneyDecimal + (rest.length < 2 ? "0" : "") +
      rest + data.moneySuffix;
  }

  // What is paid online when booking (pricing.online_due): a deposit rounds half up to the
  // cent and is never zero for a total that is not.
  function onlineDue(total, method) {
    if (method === "card") { return total; }
    if (method === "deposit") {
      var deposit = Math.floor((total * depositPercent + 50) / 100);
      return Math.min(Math.max(deposit, total ? 1 : 0), total);
    }
    return 0;
  }

  function update() {
    var total = 0;
    var people = 0;
    // Tickets, and extras (``data-extra``, with their own limit); a homestay night costs
    // its price for every ticket (booking/addons.py: quote_cents).
    form.querySelectorAll("input[data-price]").forEach(function (input) {
      var text = input.value.trim();
      var count = /^\d+$/.test(text) ? parseInt(text, 10) : 0;
      var limit = input.dataset.max ? parseInt(input.dataset.max, 10) : maxTickets;
      if (count <= limit) {
        total += count * parseInt(input.dataset.price, 10);
        if (!input.hasAttribute("data-extra")) { people += count; }
      }
    });
    form.querySelectorAll("select[data-night]").forEach(function (select) {
      var option = select.options[select.selectedIndex];
      if (option && option.dataset.price) { total += people * parseInt(option.dataset.price, 10); }
    });
    var chosen = form.querySelector("input[name=payment_method]:checked");
    var now = chosen ? onlineDue(total, chosen.value) : 0;
    outputs.total.textContent = money(total);
    outputs.now.textContent = money(now);
    outputs.arrival.textContent = money(total - now);
    form.elements.quoted.value = total + ":" + now;
  }

  var recalculate = form.querySelector("[data-recalculate]");
  if (recalculate) { recalculate.hidden = true; }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
