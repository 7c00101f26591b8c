"""Provider callbacks (Stripe, WhatsApp, SMS): verify the signature, apply each event once."""

from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError

from ..database import utcnow
from ..extensions import csrf, db
from ..services.messages import conversations, sms_gateway, whatsapp_gateway
from ..services.messages.phone_errors import SignatureError
from ..services.payments import webhooks
from ..services.payments.stripe_gateway import GatewayError, current_gateway
from ..services.payments.stripe_gateway import SignatureError as StripeSignatureError
from ..text_input import ascii_whole_number
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
    except StripeSignatureError:
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


# WhatsApp and SMS callbacks: verified like Stripe's, applied once (``dispatch``), 2xx for
# what we ignore, 503 on a transient failure so the provider retries.


def _apply_callbacks(apply) -> tuple[dict, int]:
    try:
        with unit_of_work():
            apply(db.session)
    except IntegrityError:
        # The same callback delivered twice at once: the other delivery recorded it.
        return {"error": "conflict, retry later"}, 503
    except OperationalError:
        log.warning("messaging callback not applied yet; the provider will retry", exc_info=True)
        return {"error": "temporary failure, retry later"}, 503
    return {"result": "ok"}, 200


@bp.get("/whatsapp")
def whatsapp_check():
    """Meta checks the callback URL once: echo its challenge if the token is ours."""
    expected = current_app.config.get("WHATSAPP_VERIFY_TOKEN", "")
    token = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") != "subscribe"
        or not expected
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        return jsonify(error="forbidden"), 403
    challenge = request.args.get("hub.challenge", "")
    if ascii_whole_number(challenge, max_digits=64) is None:
        return jsonify(error="bad challenge"), 400
    return Response(challenge, mimetype="text/plain")


@bp.post("/whatsapp")
@csrf.exempt
def whatsapp_event():
    """Delivery statuses and inbound messages, signed in ``X-Hub-Signature-256``."""
    gateway = whatsapp_gateway.gateway_from_config(current_app.config)
    if gateway is None:
        return jsonify(error="whatsapp is not configured"), 404
    raw = request.get_data(cache=False)
    try:
        gateway.verify(raw, request.headers.get("X-Hub-Signature-256"))
        payload = json.loads(raw)
    except (SignatureError, ValueError, RecursionError):  # nested too deep to read: bad body
        return jsonify(error="invalid signature or body"), 400
    statuses, inbound = whatsapp_gateway.parse_callback(payload)

    def apply(session) -> None:
        for update in statuses:
            conversations.apply_status(
                session, "whatsapp", update.provider_id, update.status, update.error
            )
        for message in inbound:
            conversations.receive(
                session, "whatsapp", message.provider_id, message.sender, message.body
            )

    body, status = _apply_callbacks(apply)
    return jsonify(body), status


def _verified_sms_form():
    """The callback's form once its ``X-Twilio-Signature`` checks out, else ``None``."""
    gateway = sms_gateway.gateway_from_config(current_app.config)
    if gateway is None:
        return None
    form = {key: request.form.get(key, "") for key in request.form}
    query = request.query_string.decode()
    url = (
        current_app.config["PUBLIC_URL"].rstrip("/") + request.path + (f"?{query}" if query else "")
    )
    try:
        gateway.verify(url, form, request.headers.get("X-Twilio-Signature"))
    except SignatureError:
        return None
    return form


@bp.post("/sms/status")
@csrf.exempt
def sms_status():
    form = _verified_sms_form()
    if form is None:
        return jsonify(error="invalid signature"), 400
    status = sms_gateway.FINAL_STATUSES.get(form.get("MessageStatus", ""))
    sid = form.get("MessageSid", "")
    if status is None or not sid:
        return jsonify(result="ignored"), 200
    error = form.get("ErrorCode", "")
    body, code = _apply_callbacks(
        lambda session: conversations.apply_status(
            session, "sms", sid, status, f"sms: error {error}" if error else ""
        )
    )
    return jsonify(body), code


@bp.post("/sms/inbound")
@csrf.exempt
def sms_inbound():
    form = _verified_sms_form()
    if form is None:
        return jsonify(error="invalid signature"), 400
    sid, sender, text = form.get("MessageSid", ""), form.get("From", ""), form.get("Body", "")
    if sid and sender:
        body, code = _apply_callbacks(
            lambda session: conversations.receive(session, "sms", sid, sender, text)
        )
        if code != 200:
            return jsonify(body), code
    # An empty TwiML answer: no automatic reply.
    return Response("<Response></Response>", mimetype="text/xml")
