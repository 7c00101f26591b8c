"""POST /webhooks/stripe against the real local Stripe emulator (localstripe).

Events are signed here with the shared secret (``sign_event``) unless the test is about
localstripe's own delivery. Every event that should change nothing is sent about a payment
that really succeeded at Stripe, so a handler that trusted a bad event would visibly confirm
the booking: each test can fail.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time
import uuid
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession
from werkzeug.serving import make_server

from tests.factories import Factories
from tests.stripe_emulator import free_port, sign_event
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    Dispute,
    Notification,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
)
from tourism.services.booking import availability
from tourism.services.booking.pricing import online_due
from tourism.services.messages import outbox as outbox_service
from tourism.services.payments import online as payments
from tourism.services.payments import refunds

WEBHOOK_SECRET = "whsec_test_chakra"
URL = "/webhooks/stripe"
HOLD = timedelta(minutes=30)


# Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def pay_app(make_app, stripe_settings, outbox):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox), **stripe_settings)
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def make(pay_app):
    return Factories(db.session)


@pytest.fixture
def client(pay_app):
    return pay_app.test_client()


def held_booking(make, method="card", qty=2, capacity=10) -> Booking:
    departure = make.departure(capacity=capacity, starts_in=timedelta(days=5))
    booking = make.booking(departure, quantities={"adult": qty}, status=BookingStatus.HELD)
    booking.payment_method = method
    booking.online_due_cents = online_due(booking.total_cents, method, 30)
    db.session.flush()
    return booking


def paid_booking(make, gateway, method="card") -> tuple[Booking, Payment]:
    """A held booking whose PaymentIntent Stripe has charged (what the browser does), but
    which nobody has told us about yet. Committed, so requests see it."""
    booking = held_booking(make, method)
    start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    intent = gateway.confirm_intent(start.payment.provider_ref, "pm_card_visa")
    assert intent.status == "succeeded"
    db.session.commit()
    return booking, start.payment


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex[:24]


def event(event_type: str, obj: dict, event_id: str | None = None, created=None) -> dict:
    return {
        "id": event_id or new_event_id(),
        "object": "event",
        "api_version": "2024-06-20",
        "type": event_type,
        "created": created or int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def intent_event(event_type: str, intent_id: str, event_id: str | None = None, **fields) -> dict:
    return event(event_type, {"id": intent_id, "object": "payment_intent", **fields}, event_id)


def deliver(client, body: bytes, header: str | None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post(URL, data=body, headers=headers)


def post_event(client, payload: dict, secret: str = WEBHOOK_SECRET, timestamp=None):
    body, header = sign_event(payload, secret, timestamp)
    return deliver(client, body, header)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def notification_kinds(booking: Booking) -> list[str]:
    return sorted(
        db.session.scalars(select(Notification.kind).where(Notification.booking_id == booking.id))
    )


def emails(outbox: Path) -> list:
    """The messages written to the outbox folder, parsed, in send order."""
    if not outbox.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


def emails_about(outbox: Path, booking: Booking) -> list:
    found = []
    for message in emails(outbox):
        text = message.get_body(preferencelist=("plain",)).get_content()
        if booking.reference in message["Subject"] or booking.reference in text:
            found.append(message)
    return found


def assert_untouched(booking: Booking, payment: Payment, outbox: Path) -> None:
    """Nothing was applied: the booking is held, the payment pending, nothing told."""
    db.session.expire_all()
    assert booking.status == BookingStatus.HELD
    assert payment.status == PaymentStatus.PENDING
    assert payment.charge_ref is None
    assert notification_kinds(booking) == []
    assert emails(outbox) == []


def assert_confirmed_once(booking: Booking, payment: Payment, outbox: Path) -> None:
    db.session.expire_all()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.charge_ref and payment.charge_ref.startswith("ch_")
    assert booking.paid_online_cents == booking.online_due_cents
    assert notification_kinds(booking) == ["confirmed"]
    sent = emails_about(outbox, booking)
    assert len(sent) == 1, [m["Subject"] for m in emails(outbox)]
    assert sent[0]["To"] == booking.contact_email


# Signatures -------------------------------------------------------------------------------


def _bad_delivery(kind: str, intent_id: str) -> tuple[bytes, str | None]:
    payload = intent_event("payment_intent.succeeded", intent_id)
    if kind == "missing header":
        body, _ = sign_event(payload, WEBHOOK_SECRET)
        return body, None
    if kind == "empty header":
        body, _ = sign_event(payload, WEBHOOK_SECRET)
        return body, ""
    if kind == "garbage header":
        body, _ = sign_event(payload, WEBHOOK_SECRET)
        return body, "t=abc,v1=not-hex"
    if kind == "wrong secret":
        return sign_event(payload, "whsec_someone_else")
    if kind == "signature of another body":
        # Signed correctly for an event about somebody else's intent, then pointed at ours.
        other = "pi_" + "x" * (len(intent_id) - 3)
        body, header = sign_event(intent_event("payment_intent.succeeded", other), WEBHOOK_SECRET)
        tampered = body.replace(other.encode(), intent_id.encode())
        assert tampered != body
        return tampered, header
    if kind == "older than 300 s":
        old = int(time.time()) - 301
        payload["created"] = old
        return sign_event(payload, WEBHOOK_SECRET, timestamp=old)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing header",
        "empty header",
        "garbage header",
        "wrong secret",
        "signature of another body",
        "older than 300 s",
    ],
)
def test_a_badly_signed_event_is_refused_and_writes_nothing(client, make, gateway, outbox, kind):
    booking, payment = paid_booking(make, gateway)
    body, header = _bad_delivery(kind, payment.provider_ref)

    response = deliver(client, body, header)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert count(ProviderEvent) == 0
    assert_untouched(booking, payment, outbox)
    # Control: the same event, correctly signed and fresh, does confirm this booking.
    good = post_event(client, intent_event("payment_intent.succeeded", payment.provider_ref))
    assert good.status_code == 200, good.get_data(as_text=True)
    assert_confirmed_once(booking, payment, outbox)


def test_a_signature_within_the_tolerance_is_accepted(client, make, gateway, outbox):
    booking, payment = paid_booking(make, gateway)
    recent = int(time.time()) - 240
    payload = intent_event("payment_intent.succeeded", payment.provider_ref)
    payload["created"] = recent
    response = post_event(client, payload, timestamp=recent)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_confirmed_once(booking, payment, outbox)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "evt_" + "x" * 300),
        ("type", "payment_intent." + "x" * 120),
        # Regression (PostgreSQL): a NUL character cannot be stored in text, a 500.
        ("id", "evt_\x00"),
        ("type", "payment_intent.succeeded\x00"),
        ("id", "evt_ünïcode"),
    ],
)
def test_a_signed_event_with_an_impossibly_long_id_or_type_is_refused(
    client, make, gateway, outbox, field, value
):
    """Regression (PostgreSQL): it did not fit the column that records handled events, and
    the insert failed with a 500."""
    booking, payment = paid_booking(make, gateway)
    payload = intent_event("payment_intent.succeeded", payment.provider_ref)
    payload[field] = value
    response = post_event(client, payload)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert count(ProviderEvent) == 0
    assert_untouched(booking, payment, outbox)


# payment_intent.* -------------------------------------------------------------------------


def test_payment_intent_succeeded_confirms_the_booking_and_emails_once(
    client, make, gateway, outbox
):
    booking, payment = paid_booking(make, gateway)
    payload = intent_event("payment_intent.succeeded", payment.provider_ref)

    response = post_event(client, payload)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"result": "confirmed"}
    assert_confirmed_once(booking, payment, outbox)
    assert db.session.get(ProviderEvent, payload["id"]).type == "payment_intent.succeeded"
    sent_at = db.session.scalar(
        select(Notification.sent_at).where(Notification.booking_id == booking.id)
    )
    assert sent_at is not None  # delivered after the commit, and marked as sent


def test_the_same_event_delivered_three_times_confirms_and_emails_once(
    client, make, gateway, outbox
):
    booking, payment = paid_booking(make, gateway)
    body, header = sign_event(
        intent_event("payment_intent.succeeded", payment.provider_ref), WEBHOOK_SECRET
    )

    results = []
    for _ in range(3):
        response = deliver(client, body, header)
        assert response.status_code == 200, response.get_data(as_text=True)
        results.append(response.get_json()["result"])

    assert results == ["confirmed", "duplicate", "duplicate"]
    assert count(ProviderEvent) == 1
    assert_confirmed_once(booking, payment, outbox)


#: Payloads as Stripe might send them for one PaymentIntent over its life, each claiming a
#: different state. The handler must trust none of them: it re-reads the intent.
STALE_PAYLOADS = [
    ("payment_intent.processing", {"status": "processing"}),
    (
        "payment_intent.payment_failed",
        {
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
        },
    ),
    ("payment_intent.succeeded", {"status": "succeeded"}),
    ("payment_intent.canceled", {"status": "canceled", "cancellation_reason": "abandoned"}),
]


def _final_state(booking: Booking, payment: Payment, outbox: Path, event_ids) -> dict:
    db.session.expire_all()
    return {
        "booking": booking.status,
        "payment": payment.status,
        "charge": bool(payment.charge_ref),
        "paid_online": booking.paid_online_cents,
        "payments": count(Payment, Payment.booking_id == booking.id),
        "refunds": count(Refund),
        "notifications": notification_kinds(booking),
        "emails": len(emails_about(outbox, booking)),
        "events recorded": count(ProviderEvent, ProviderEvent.id.in_(event_ids)),
    }


@pytest.mark.parametrize("seed", [1, 7, 42, 2024, 31337])
def test_events_in_any_order_and_repeated_reach_the_same_state(client, make, gateway, outbox, seed):
    booking, payment = paid_booking(make, gateway)
    events = [intent_event(kind, payment.provider_ref, **fields) for kind, fields in STALE_PAYLOADS]
    deliveries = [sign_event(payload, WEBHOOK_SECRET) for payload in events] * 2  # each twice
    random.Random(seed).shuffle(deliveries)

    for body, header in deliveries:
        response = deliver(client, body, header)
        assert response.status_code == 200, response.get_data(as_text=True)

    assert _final_state(booking, payment, outbox, [e["id"] for e in events]) == {
        "booking": BookingStatus.CONFIRMED,
        "payment": PaymentStatus.SUCCEEDED,
        "charge": True,
        "paid_online": booking.online_due_cents,
        "payments": 1,
        "refunds": 0,
        "notifications": ["confirmed"],
        "emails": 1,
        "events recorded": len(events),
    }
    # And the same as when only the success was ever delivered.
    reference, reference_payment = paid_booking(make, gateway)
    only = intent_event("payment_intent.succeeded", reference_payment.provider_ref)
    assert post_event(client, only).status_code == 200
    assert _final_state(reference, reference_payment, outbox, [only["id"]]) | {
        "events recorded": len(events)
    } == _final_state(booking, payment, outbox, [e["id"] for e in events])


def test_a_failed_event_for_a_payment_still_pending_changes_nothing(client, make, gateway, outbox):
    """A "payment_failed" event while Stripe still waits for a card: the booking keeps its
    hold (the tourist may try another card)."""
    booking = held_booking(make)
    start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    db.session.commit()
    payload = intent_event(
        "payment_intent.payment_failed",
        start.payment.provider_ref,
        status="requires_payment_method",
        last_payment_error={"message": "Your card was declined."},
    )
    response = post_event(client, payload)
    assert response.status_code == 200
    assert_untouched(booking, start.payment, outbox)


# Two deliveries at once -------------------------------------------------------------------


def _deliver_at_once(app, body: bytes, header: str, copies: int = 2) -> list[tuple[int, dict]]:
    """POST the same delivery from ``copies`` threads released together by a barrier."""
    db.session.commit()  # the test's own transaction must not hold SQLite's write lock
    barrier = threading.Barrier(copies)
    results: list[tuple[int, dict] | None] = [None] * copies
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            own_client = app.test_client()
            barrier.wait(timeout=30)
            response = deliver(own_client, body, header)
            results[index] = (response.status_code, response.get_json(silent=True) or {})
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert all(result is not None for result in results), "a delivery never finished"
    return results  # type: ignore[return-value]


@pytest.mark.parametrize("round_", range(3))
def test_two_simultaneous_deliveries_apply_the_event_once(pay_app, make, gateway, outbox, round_):
    booking, payment = paid_booking(make, gateway)  # committed: the threads see it
    payload = intent_event("payment_intent.succeeded", payment.provider_ref)
    body, header = sign_event(payload, WEBHOOK_SECRET)

    results = _deliver_at_once(pay_app, body, header)

    assert all(200 <= status < 300 for status, _ in results), results
    assert sorted(result["result"] for _, result in results) == ["confirmed", "duplicate"]
    assert count(ProviderEvent) == 1
    assert_confirmed_once(booking, payment, outbox)


# Stripe unreachable -----------------------------------------------------------------------


def test_stripe_unreachable_answers_503_records_nothing_and_the_retry_works(
    make_app, stripe_settings, client, make, gateway, outbox
):
    booking, payment = paid_booking(make, gateway)
    stripe_down = make_app(
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(outbox),
        **(stripe_settings | {"STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}),
    )
    body, header = sign_event(
        intent_event("payment_intent.succeeded", payment.provider_ref), WEBHOOK_SECRET
    )

    response = deliver(stripe_down.test_client(), body, header)

    assert response.status_code == 503, response.get_data(as_text=True)
    assert count(ProviderEvent) == 0  # not recorded: Stripe's retry will be applied
    assert_untouched(booking, payment, outbox)

    retry = deliver(client, body, header)  # Stripe retries the very same delivery later
    assert retry.status_code == 200, retry.get_data(as_text=True)
    assert retry.get_json() == {"result": "confirmed"}
    assert count(ProviderEvent) == 1
    assert_confirmed_once(booking, payment, outbox)


# Events we do not handle ------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type", ["customer.created", "payment_intent.created", "invoice.paid"]
)
def test_an_event_type_we_do_not_handle_is_acknowledged_and_ignored(
    client, make, gateway, outbox, event_type
):
    booking, payment = paid_booking(make, gateway)
    # Even when its object id is that of a PaymentIntent that really succeeded.
    payload = event(event_type, {"id": payment.provider_ref, "object": event_type.split(".")[0]})

    response = post_event(client, payload)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"result": "ignored"}
    assert_untouched(booking, payment, outbox)


@pytest.mark.parametrize(
    "payload",
    [
        intent_event("payment_intent.succeeded", "pi_00000000000000000000000"),
        event("charge.refunded", {"id": "ch_00000000000000000000000", "object": "charge"}),
        event("charge.refunded", {"object": "charge"}),
    ],
    ids=["unknown intent", "unknown charge", "no object id"],
)
def test_a_signed_event_about_an_object_stripe_does_not_know_is_acknowledged(
    make_app, stripe_settings, outbox, payload
):
    # Exceptions answered as in production (a 500 page), not raised into the test.
    app = make_app(
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(outbox),
        PROPAGATE_EXCEPTIONS=False,
        **stripe_settings,
    )
    with app.app_context():
        response = post_event(app.test_client(), payload)
        assert response.status_code == 200, response.status_code
        assert count(Refund) == count(Payment) == 0


# charge.refunded (localstripe does not send it: signed here) -----------------------------


def _confirmed_booking(client, make, gateway, method="card") -> tuple[Booking, Payment]:
    booking, payment = paid_booking(make, gateway, method)
    response = post_event(client, intent_event("payment_intent.succeeded", payment.provider_ref))
    assert response.get_json() == {"result": "confirmed"}
    db.session.expire_all()
    assert booking.status == BookingStatus.CONFIRMED
    return booking, payment


def _charge_refunded(payment: Payment, amount_refunded: int) -> dict:
    return event(
        "charge.refunded",
        {
            "id": payment.charge_ref,
            "object": "charge",
            "payment_intent": payment.provider_ref,
            "amount": payment.amount_cents,
            "amount_refunded": amount_refunded,
            "refunded": amount_refunded >= payment.amount_cents,
        },
    )


def _dashboard_refund(gateway, payment: Payment, amount: int):
    """A refund made in Stripe's dashboard: Stripe knows it, we do not (yet)."""
    return gateway.refund(payment.provider_ref, amount, idempotency_key="dash-" + uuid.uuid4().hex)


def test_a_partial_refund_from_the_dashboard_is_recorded_once(client, make, gateway, outbox):
    booking, payment = _confirmed_booking(client, make, gateway)
    refund = _dashboard_refund(gateway, payment, 1000)
    payload = _charge_refunded(payment, 1000)

    for _ in range(2):  # delivered twice
        response = post_event(client, payload)
        assert response.status_code == 200, response.get_data(as_text=True)
    # and once more as a different event about the same charge
    assert post_event(client, _charge_refunded(payment, 1000)).status_code == 200

    db.session.expire_all()
    rows = db.session.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
    assert [(r.provider_ref, r.amount_cents, r.reason) for r in rows] == [
        (refund.id, 1000, "provider")
    ]
    assert booking.status == BookingStatus.CONFIRMED  # still coming, with less paid
    assert payment.net_cents == payment.amount_cents - 1000
    assert booking.paid_online_cents == payment.amount_cents - 1000

    # Then the rest, also from the dashboard: nothing is kept, so the booking is refunded.
    rest = _dashboard_refund(gateway, payment, payment.amount_cents - 1000)
    response = post_event(client, _charge_refunded(payment, payment.amount_cents))
    assert response.status_code == 200
    db.session.expire_all()
    refs = set(
        db.session.scalars(select(Refund.provider_ref).where(Refund.payment_id == payment.id))
    )
    assert refs == {refund.id, rest.id}
    assert booking.status == BookingStatus.REFUNDED
    assert booking.paid_online_cents == 0
    # Told once, when nothing was kept (the partial refund said nothing: still coming).
    assert notification_kinds(booking) == ["confirmed", "refunded"]


def test_a_full_refund_from_the_dashboard_marks_the_booking_refunded(client, make, gateway, outbox):
    booking, payment = _confirmed_booking(client, make, gateway)
    departure = booking.departure
    seats_before = availability.seats_left(db.session, departure, utcnow())
    refund = _dashboard_refund(gateway, payment, payment.amount_cents)
    payload = _charge_refunded(payment, payment.amount_cents)

    first = post_event(client, payload)
    again = post_event(client, payload)

    assert first.status_code == again.status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(Refund.provider_ref)).all() == [refund.id]
    assert booking.status == BookingStatus.REFUNDED
    assert payment.net_cents == 0
    # A refunded booking no longer takes seats.
    assert availability.seats_left(db.session, departure, utcnow()) == (
        seats_before + booking.participants
    )
    # The tourist is told, once however often the event comes: the booking is off, with
    # the amount going back, and the calendar drops the visit.
    assert notification_kinds(booking) == ["confirmed", "refunded"]
    [told] = db.session.scalars(
        select(Notification).where(
            Notification.booking_id == booking.id, Notification.kind == "refunded"
        )
    ).all()
    message = outbox_service.build_message(told)
    assert booking.reference in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    whole, cents = divmod(payment.amount_cents, 100)
    assert any(f"${whole}{mark}{cents:02d}" in text for mark in ".,"), text
    assert "not valid for the visit" in text or "no es válida para la visita" in text
    calendar = [part for part in message.iter_attachments() if part.get_filename()]
    assert any("METHOD:CANCEL" in part.get_content() for part in calendar)


def test_our_own_refund_then_its_webhook_is_recorded_once(client, make, gateway, outbox):
    booking, payment = _confirmed_booking(client, make, gateway)
    refunded = refunds.cancel_with_refund(db.session, booking, gateway, utcnow())
    db.session.commit()
    refunds.finish_refunds(db.session, gateway)  # what the after-commit effect does
    assert refunded == payment.amount_cents  # five days ahead: the policy gives 100 %

    for _ in range(2):
        response = post_event(client, _charge_refunded(payment, refunded))
        assert response.status_code == 200, response.get_data(as_text=True)

    db.session.expire_all()
    rows = db.session.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
    assert [(r.amount_cents, r.reason) for r in rows] == [(refunded, "tourist_cancelled")]
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == refunded
    assert booking.status == BookingStatus.CANCELLED
    assert notification_kinds(booking) == ["cancelled", "confirmed"]


def test_a_refund_event_for_a_charge_we_do_not_know_is_ignored(client, make, gateway):
    intent = gateway.create_intent(
        5000, "usd", {"booking_reference": "XXX-NOTOURS"}, "x-" + uuid.uuid4().hex
    )
    paid = gateway.confirm_intent(intent.id, "pm_card_visa")
    gateway.refund(paid.id, 5000, idempotency_key="y-" + uuid.uuid4().hex)
    payload = event("charge.refunded", {"id": paid.charge_id, "object": "charge"})
    response = post_event(client, payload)
    assert response.status_code == 200
    assert count(Refund) == 0


# Disputes (localstripe has none: signed here) ---------------------------------------------


def _dispute_event(event_type: str, payment: Payment, dispute_id: str, status: str) -> dict:
    return event(
        event_type,
        {
            "id": dispute_id,
            "object": "dispute",
            "charge": payment.charge_ref,
            "payment_intent": payment.provider_ref,
            "amount": payment.amount_cents,
            "currency": "usd",
            "reason": "fraudulent",
            "status": status,
        },
    )


def test_a_dispute_opened_then_won_is_recorded_once_and_closed(client, make, gateway):
    booking, payment = _confirmed_booking(client, make, gateway)
    dispute_id = "dp_" + uuid.uuid4().hex[:24]

    for payload in [
        _dispute_event("charge.dispute.created", payment, dispute_id, "needs_response"),
        _dispute_event("charge.dispute.updated", payment, dispute_id, "under_review"),
        _dispute_event("charge.dispute.closed", payment, dispute_id, "won"),
    ]:
        response = post_event(client, payload)
        assert response.status_code == 200, response.get_data(as_text=True)

    disputes = db.session.scalars(select(Dispute)).all()
    assert len(disputes) == 1
    (dispute,) = disputes
    assert (dispute.provider_ref, dispute.payment_id) == (dispute_id, payment.id)
    assert (dispute.status, dispute.reason, dispute.amount_cents) == (
        "won",
        "fraudulent",
        payment.amount_cents,
    )
    assert dispute.closed_at is not None


def test_a_dispute_closed_before_it_was_created_stays_won(client, make, gateway):
    booking, payment = _confirmed_booking(client, make, gateway)
    dispute_id = "dp_" + uuid.uuid4().hex[:24]
    closed = _dispute_event("charge.dispute.closed", payment, dispute_id, "won")
    late = [
        _dispute_event("charge.dispute.created", payment, dispute_id, "needs_response"),
        _dispute_event("charge.dispute.updated", payment, dispute_id, "under_review"),
    ]

    for payload in [closed, *late, closed]:
        response = post_event(client, payload)
        assert response.status_code == 200, response.get_data(as_text=True)

    (dispute,) = db.session.scalars(select(Dispute)).all()
    assert dispute.status == "won"
    assert dispute.closed_at is not None
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("status", "needs\x00response", ("needsresponse", "fraudulent", None)),
        ("reason", "\x00" * 3 + "fraudulent", ("needs_response", "fraudulent", None)),
        ("amount", 2**70, ("needs_response", "fraudulent", None)),
        ("amount", -5, ("needs_response", "fraudulent", None)),
        ("amount", "500", ("needs_response", "fraudulent", None)),
        ("amount", 500, ("needs_response", "fraudulent", 500)),
    ],
)
def test_a_dispute_with_hostile_fields_is_stored_safely(
    client, make, gateway, field, value, expected
):
    """Regression (PostgreSQL): a signed dispute is still untrusted. A NUL character in a
    label, or an amount that does not fit, failed the insert with a 500; now the labels lose
    the NUL and an absurd amount stands for the whole payment."""
    booking, payment = _confirmed_booking(client, make, gateway)
    payload = _dispute_event(
        "charge.dispute.created", payment, "dp_" + uuid.uuid4().hex, "needs_response"
    )
    payload["data"]["object"][field] = value

    response = post_event(client, payload)

    assert response.status_code == 200, response.get_data(as_text=True)
    (dispute,) = db.session.scalars(select(Dispute)).all()
    status, reason, amount = expected
    assert (dispute.status, dispute.reason) == (status, reason)
    assert dispute.amount_cents == (payment.amount_cents if amount is None else amount)


@pytest.mark.parametrize("field", ["id", "charge"])
def test_a_dispute_whose_ids_are_not_stripe_ids_is_ignored(client, make, gateway, field):
    booking, payment = _confirmed_booking(client, make, gateway)
    payload = _dispute_event(
        "charge.dispute.created", payment, "dp_" + uuid.uuid4().hex, "needs_response"
    )
    payload["data"]["object"][field] = payload["data"]["object"][field] + "\x00"

    response = post_event(client, payload)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["result"] == "ignored: not ours"
    assert count(Dispute) == 0
    assert booking.status == BookingStatus.CONFIRMED


# A crash between Stripe and our commit ----------------------------------------------------


def _commit_fails_once_in_webhooks(monkeypatch) -> list[str]:
    """The webhook request's commit fails (the database went away) the first time only."""
    original = OrmSession.commit
    failed: list[str] = []

    def commit(self):
        if has_request_context() and request.path == URL and not failed:
            failed.append(request.path)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return original(self)

    monkeypatch.setattr(OrmSession, "commit", commit)
    return failed


def _cli(app, *args: str):
    """Run a ``flask`` command as its own process would: in its own app context (which the
    ``flask`` script pushes for every command), with its own session."""

    def invoke():
        with app.app_context():
            return app.test_cli_runner().invoke(args=list(args))

    db.session.commit()
    result = contextvars.Context().run(invoke)
    db.session.expire_all()
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_a_confirmation_lost_in_a_failed_commit_is_repaired_by_reconcile_payments(
    pay_app, client, make, gateway, outbox, monkeypatch
):
    assert "reconcile-payments" in pay_app.cli.list_commands(None)
    booking, payment = paid_booking(make, gateway)
    failed = _commit_fails_once_in_webhooks(monkeypatch)
    body, header = sign_event(
        intent_event("payment_intent.succeeded", payment.provider_ref), WEBHOOK_SECRET
    )

    response = deliver(client, body, header)

    assert failed == [URL]
    assert response.status_code >= 500
    assert count(ProviderEvent) == 0
    assert_untouched(booking, payment, outbox)

    first = _cli(pay_app, "reconcile-payments")
    assert "repaired 1" in first.output, first.output
    assert_confirmed_once(booking, payment, outbox)

    second = _cli(pay_app, "reconcile-payments")
    assert "repaired 0" in second.output, second.output
    assert_confirmed_once(booking, payment, outbox)

    # Stripe's own retry of the failed delivery arrives afterwards: nothing more happens.
    retry = deliver(client, body, header)
    assert retry.status_code == 200
    assert retry.get_json() == {"result": "unchanged"}
    assert_confirmed_once(booking, payment, outbox)


# localstripe's own signed delivery to a live server ---------------------------------------


@pytest.fixture
def live_url(pay_app):
    server = make_server("127.0.0.1", 0, pay_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_localstripe_delivers_a_signed_event_that_confirms_the_booking(
    live_url, stripe_emulator, make, gateway, outbox
):
    webhook_id = stripe_emulator.register_webhook(
        live_url + URL,
        WEBHOOK_SECRET,
        events=["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"],
    )
    try:
        booking, payment = paid_booking(make, gateway)
        booking_id = booking.id
        deadline = time.monotonic() + 10
        status = emailed = None
        while time.monotonic() < deadline:
            status = db.session.scalar(select(Booking.status).where(Booking.id == booking_id))
            # The email goes out just after the request's commit: wait for that too.
            emailed = db.session.scalar(
                select(Notification.sent_at).where(Notification.booking_id == booking_id)
            )
            db.session.commit()  # release SQLite's lock for the server between polls
            if status == BookingStatus.CONFIRMED and emailed is not None:
                break
            time.sleep(0.1)
    finally:
        stripe_emulator.unregister_webhook(webhook_id)

    assert status == BookingStatus.CONFIRMED, "localstripe's webhook did not confirm in 10 s"
    assert emailed is not None, "the confirmation was not emailed within 10 s"
    recorded = db.session.scalars(
        select(ProviderEvent).where(ProviderEvent.type == "payment_intent.succeeded")
    ).all()
    assert len(recorded) >= 1 and all(e.id.startswith("evt_") for e in recorded)
    assert_confirmed_once(booking, payment, outbox)
