"""``tourism.services.payments.stripe_gateway`` against a real local Stripe API (localstripe, see
``tests/stripe_emulator.py``): intents, confirmation, declines, refunds, events, webhooks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
import stripe

from tests.stripe_emulator import _hmac_header, free_port, sign_event
from tourism.services.payments.stripe_gateway import (
    GatewayError,
    PaymentDeclined,
    SignatureError,
    StripeGateway,
)

WEBHOOK_SECRET = "whsec_test_chakra"


def _key() -> str:
    return "test-" + uuid.uuid4().hex


def _paid_intent(gateway, amount=12_500, metadata=None):
    intent = gateway.create_intent(
        amount, "usd", metadata or {"booking_reference": "CR-PAID"}, _key()
    )
    confirmed = gateway.confirm_intent(intent.id, "pm_card_visa")
    assert confirmed.status == "succeeded"
    return confirmed


def _event(intent_id="pi_123", event_type="payment_intent.succeeded", created=None) -> dict:
    return {
        "id": "evt_" + uuid.uuid4().hex[:14],
        "object": "event",
        "type": event_type,
        "created": created or int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent"}},
    }


# PaymentIntents ---------------------------------------------------------------------------


def test_create_and_retrieve_intent(gateway):
    metadata = {"booking_reference": "CR-7Q2K", "booking_id": "42"}
    created = gateway.create_intent(8_000, "usd", metadata, _key())

    assert created.id.startswith("pi_")
    assert created.amount == 8_000
    assert created.currency == "USD"
    assert created.client_secret and created.client_secret.startswith(created.id + "_secret_")

    fetched = gateway.retrieve_intent(created.id)
    assert fetched.id == created.id
    assert fetched.status == "requires_payment_method"
    assert fetched.metadata == metadata
    assert fetched.client_secret == created.client_secret
    assert fetched.charge_id is None
    assert fetched.fee_cents is None
    assert fetched.failure_message == ""


def test_confirm_with_a_good_card_succeeds_with_charge_and_fee(gateway):
    intent = gateway.create_intent(12_345, "usd", {"booking_reference": "CR-OK"}, _key())

    confirmed = gateway.confirm_intent(intent.id, "pm_card_visa")
    assert confirmed.status == "succeeded"
    assert confirmed.charge_id and confirmed.charge_id.startswith("ch_")

    fetched = gateway.retrieve_intent(intent.id)
    assert fetched.status == "succeeded"
    assert fetched.charge_id == confirmed.charge_id
    assert fetched.fee_cents == 0  # from the expanded balance transaction; localstripe: no fees
    assert fetched.failure_message == ""


def test_declined_card_raises_and_leaves_intent_awaiting_a_new_card(gateway):
    intent = gateway.create_intent(5_000, "usd", {"booking_reference": "CR-NO"}, _key())

    with pytest.raises(PaymentDeclined, match="declined"):
        gateway.confirm_intent(intent.id, "pm_card_chargeCustomerFail")

    fetched = gateway.retrieve_intent(intent.id)
    assert fetched.status == "requires_payment_method"
    assert fetched.status != "succeeded"
    assert fetched.failure_message == "Your card was declined."
    assert fetched.charge_id and fetched.charge_id.startswith("ch_")  # the failed charge
    assert fetched.fee_cents is None

    with pytest.raises(PaymentDeclined, match="failed payment"):
        gateway.refund(intent.id, 5_000, _key())

    # The tourist tries another card: the same intent can still be paid.
    retried = gateway.confirm_intent(intent.id, "pm_card_visa")
    assert retried.status == "succeeded"
    assert retried.charge_id != fetched.charge_id
    assert gateway.retrieve_intent(intent.id).failure_message == ""


def test_cancel_intent(gateway):
    intent = gateway.create_intent(1_000, "usd", {}, _key())
    gateway.cancel_intent(intent.id)
    assert gateway.retrieve_intent(intent.id).status == "canceled"


def test_unknown_intent_is_a_refusal_not_an_outage(gateway):
    with pytest.raises(PaymentDeclined):
        gateway.retrieve_intent("pi_doesnotexist000")


# Refunds ----------------------------------------------------------------------------------


def test_partial_then_remaining_refund_are_listed_on_the_charge(gateway):
    paid = _paid_intent(gateway, amount=10_000)

    first = gateway.refund(paid.id, 3_000, _key())
    second = gateway.refund(paid.id, 7_000, _key())
    for refund, amount in ((first, 3_000), (second, 7_000)):
        assert refund.id.startswith("re_")
        assert refund.amount == amount
        assert refund.status == "succeeded"
        assert refund.charge_id == paid.charge_id

    charge = gateway.retrieve_charge(paid.charge_id)
    assert charge.id == paid.charge_id
    assert charge.payment_intent_id == paid.id
    assert charge.amount == 10_000
    assert charge.amount_refunded == 10_000
    assert {(r.id, r.amount) for r in charge.refunds} == {(first.id, 3_000), (second.id, 7_000)}

    with pytest.raises(PaymentDeclined, match="already been refunded"):
        gateway.refund(paid.id, 1, _key())


def test_refunding_more_than_was_paid_is_refused(gateway):
    paid = _paid_intent(gateway, amount=4_000)

    with pytest.raises(PaymentDeclined, match="greater than"):
        gateway.refund(paid.id, 4_001, _key())
    gateway.refund(paid.id, 1_000, _key())
    with pytest.raises(PaymentDeclined, match="greater than"):
        gateway.refund(paid.id, 3_001, _key())

    assert gateway.retrieve_charge(paid.charge_id).amount_refunded == 1_000


# Events -----------------------------------------------------------------------------------


def test_recent_succeeded_intent_ids_comes_from_the_event_log(gateway):
    since = datetime.now(UTC)
    paid = _paid_intent(gateway)
    declined = gateway.create_intent(2_000, "usd", {}, _key())
    with pytest.raises(PaymentDeclined):
        gateway.confirm_intent(declined.id, "pm_card_chargeCustomerFail")
    unpaid = gateway.create_intent(2_000, "usd", {}, _key())

    ids = list(gateway.recent_succeeded_intent_ids(since))
    assert paid.id in ids
    assert declined.id not in ids
    assert unpaid.id not in ids


def test_recent_succeeded_intent_ids_respects_since(gateway):
    paid = _paid_intent(gateway)
    later = datetime.fromtimestamp(time.time() + 3600, UTC)
    assert paid.id not in list(gateway.recent_succeeded_intent_ids(later))


# Webhook signatures -----------------------------------------------------------------------


def test_sign_event_matches_a_hand_computed_signature():
    body, header = sign_event(_event(), WEBHOOK_SECRET, timestamp=1_700_000_000)
    assert header == _hmac_header(body, WEBHOOK_SECRET, 1_700_000_000)


def test_verify_event_accepts_a_correctly_signed_payload(gateway):
    payload = _event("pi_signed")
    body, header = sign_event(payload, WEBHOOK_SECRET)

    event = gateway.verify_event(body, header)
    assert event.id == payload["id"]
    assert event.type == "payment_intent.succeeded"
    assert event.created == payload["created"]
    assert event.object["id"] == "pi_signed"


@pytest.mark.parametrize("header", [None, ""])
def test_verify_event_refuses_a_missing_signature(gateway, header):
    body, _ = sign_event(_event(), WEBHOOK_SECRET)
    with pytest.raises(SignatureError):
        gateway.verify_event(body, header)


def test_verify_event_refuses_a_wrong_secret(gateway):
    body, header = sign_event(_event(), "whsec_someone_else")
    with pytest.raises(SignatureError):
        gateway.verify_event(body, header)


def test_verify_event_refuses_a_tampered_body(gateway):
    body, header = sign_event(_event("pi_original"), WEBHOOK_SECRET)
    tampered = body.replace(b"pi_original", b"pi_attacker")
    assert tampered != body
    with pytest.raises(SignatureError):
        gateway.verify_event(tampered, header)


def test_verify_event_refuses_an_old_signature(gateway):
    old = int(time.time()) - 400
    body, header = sign_event(_event(created=old), WEBHOOK_SECRET, timestamp=old)
    with pytest.raises(SignatureError):
        gateway.verify_event(body, header)
    # ...while one just inside the five-minute tolerance is still fine.
    recent = int(time.time()) - 240
    body, header = sign_event(_event(created=recent), WEBHOOK_SECRET, timestamp=recent)
    assert gateway.verify_event(body, header).created == recent


def test_verify_event_refuses_without_a_configured_secret(stripe_settings):
    gateway = StripeGateway.from_config({**stripe_settings, "STRIPE_WEBHOOK_SECRET": ""})
    body, header = sign_event(_event(), "")
    with pytest.raises(SignatureError):
        gateway.verify_event(body, header)


# Webhook delivery -------------------------------------------------------------------------


class _Inbox(HTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), _InboxHandler)
        self.received: list[tuple[bytes, str | None]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/stripe"


class _InboxHandler(BaseHTTPRequestHandler):
    server: _Inbox

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.received.append((body, self.headers.get("Stripe-Signature")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):  # keep test output clean
        pass


@pytest.fixture
def inbox():
    server = _Inbox()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_delivers_a_signed_payment_intent_succeeded(stripe_emulator, gateway, inbox):
    webhook_id = stripe_emulator.register_webhook(
        inbox.url, WEBHOOK_SECRET, events=["payment_intent.succeeded"]
    )
    try:
        paid = _paid_intent(gateway, metadata={"booking_reference": "CR-HOOK"})

        deadline = time.monotonic() + 10
        event = None
        while event is None and time.monotonic() < deadline:
            with inbox.lock:
                deliveries = list(inbox.received)
            for body, header in deliveries:
                if json.loads(body)["data"]["object"]["id"] == paid.id:
                    event = gateway.verify_event(body, header)
                    break
            else:
                time.sleep(0.05)
    finally:
        stripe_emulator.unregister_webhook(webhook_id)

    assert event is not None, "no payment_intent.succeeded delivery within 10 s"
    assert event.type == "payment_intent.succeeded"
    assert event.id.startswith("evt_")
    assert event.object["metadata"] == {"booking_reference": "CR-HOOK"}
    assert all(json.loads(body)["type"] == "payment_intent.succeeded" for body, _ in deliveries)


# Transport --------------------------------------------------------------------------------


def test_unreachable_stripe_is_a_gateway_error(stripe_settings):
    gateway = StripeGateway(
        secret_key="sk_test_chakra",
        publishable_key="pk_test_chakra",
        webhook_secret=WEBHOOK_SECRET,
        api_base=f"http://127.0.0.1:{free_port()}",
        max_network_retries=0,
    )
    started = time.monotonic()
    with pytest.raises(GatewayError):
        gateway.create_intent(1_000, "usd", {}, _key())
    with pytest.raises(GatewayError):
        gateway.retrieve_intent("pi_anything")
    assert time.monotonic() - started < 5


class _RecordingClient(stripe.RequestsClient):
    """The SDK's own HTTP client, noting every request it sends."""

    def __init__(self):
        super().__init__(timeout=10)
        self.sent: list[tuple[str, str, dict]] = []

    def request(self, method, url, headers, post_data=None):
        self.sent.append((method, url, dict(headers or {})))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def recording_gateway(stripe_settings):
    client = _RecordingClient()
    gateway = StripeGateway(
        secret_key=stripe_settings["STRIPE_SECRET_KEY"],
        publishable_key=stripe_settings["STRIPE_PUBLISHABLE_KEY"],
        webhook_secret=stripe_settings["STRIPE_WEBHOOK_SECRET"],
        api_base=stripe_settings["STRIPE_API_BASE"],
        http_client=client,
    )
    yield gateway, client
    client.close()


def _headers_of(client, method, path):
    return [
        headers
        for sent_method, url, headers in client.sent
        if sent_method.upper() == method and url.split("?")[0].endswith(path)
    ]


def test_create_intent_and_refund_send_their_idempotency_keys(recording_gateway):
    gateway, client = recording_gateway
    key = _key()

    intent = gateway.create_intent(3_000, "usd", {"booking_reference": "CR-IDEM"}, key)
    gateway.confirm_intent(intent.id, "pm_card_visa")
    refund_key = _key()
    gateway.refund(intent.id, 1_000, refund_key)

    create_headers = _headers_of(client, "POST", "/v1/payment_intents")
    assert len(create_headers) == 1
    assert create_headers[0].get("Idempotency-Key") == key
    refund_headers = _headers_of(client, "POST", "/v1/refunds")
    assert len(refund_headers) == 1
    assert refund_headers[0].get("Idempotency-Key") == refund_key


# The emulator itself ----------------------------------------------------------------------


def test_emulator_serves_stripe_js_and_keeps_state_out_of_shared_tmp(stripe_emulator, gateway):
    response = requests.get(stripe_emulator.js_url, timeout=5)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert stripe_emulator.base_url.startswith("http://127.0.0.1:")

    gateway.create_intent(1_000, "usd", {}, _key())
    assert stripe_emulator.state_file.exists()
    assert stripe_emulator.state_file.parent == stripe_emulator.state_dir
