"""Stripe webhooks: verify the signature on the raw body, apply each event once."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError

from ..database import utcnow
from ..extensions import csrf, db
from ..services.payments import webhooks
from ..services.payments.stripe_gateway import GatewayError, SignatureError, current_gateway
from ..unit_of_work import unit_of_work

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)


@bp.post("/stripe")
@csrf.exempt
def stripe_event():
    """400 for a bad signature (nothing written), 2xx once applied or ignored, 503 when a
    transient failure means Stripe should retry."""
    stripe_gateway = current_gateway()
    if stripe_gateway is None:
        return jsonify(error="stripe is not configured"), 404
    try:
        event = stripe_gateway.verify_event(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except SignatureError:
        return jsonify(error="invalid signature"), 400
    try:
        # Stripe first, with no transaction open; then the event's effects in one.
        fetched = webhooks.fetch_object(event, stripe_gateway)
        with unit_of_work():
            outcome = webhooks.handle_event(
                db.session, event, stripe_gateway, utcnow(), fetched=fetched
            )
    except IntegrityError:
        # Two deliveries of the same event at once: the other one recorded it first.
        if webhooks.already_processed(db.session, event.id):
            return jsonify(result="duplicate"), 200
        log.warning("webhook %s hit a conflict; Stripe will retry", event.id, exc_info=True)
        return jsonify(error="conflict, retry later"), 503
    except (GatewayError, OperationalError):
        log.warning("webhook %s not applied yet; Stripe will retry", event.id, exc_info=True)
        return jsonify(error="temporary failure, retry later"), 503
    return jsonify(result=outcome), 200
