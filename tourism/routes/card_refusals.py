"""The card form's answer when a charge is refused: one rule for a booking's card payment
(``bookings.pay_with_card``) and a route's (``itineraries.pay_with_card``)."""

from __future__ import annotations

from flask import jsonify

from ..database import utcnow
from ..errors import DomainError
from ..services.payments.stripe_gateway import GatewayError, PaymentDeclined


def refused(error: DomainError, gateway, card_key: str | None):
    """The refusal as JSON for the page's script: its message, and, when another card may be
    tried, a fresh card set-up for it (the one set up for this try is spent). ``card_key``
    names what is being paid (``booking-12``); None when nothing was found to pay (an
    unknown link), which is refused without asking Stripe for anything."""
    body = {"error": str(error)}
    if card_key is not None and gateway is not None and error.status_code < 500:
        try:
            _setup_id, body["setup_client_secret"] = gateway.create_setup_intent(
                idempotency_key=f"{card_key}-card-{utcnow().timestamp()}"
            )
        except (GatewayError, PaymentDeclined):
            pass
    return jsonify(body), error.status_code
