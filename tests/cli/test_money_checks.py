"""The money commands against the Stripe emulator: ``ledger-check --against-processor``,
``reconcile-payments`` (one intent at a time) and ``finish-refunds`` (refunds owed under the
lock, paid after it, resumable after a crash)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import Factories
from tests.stripe_emulator import free_port
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Payment, PaymentStatus, Refund, RefundStatus
from tourism.services.booking.pricing import online_due
from tourism.services.payments import intents, refunds
from tourism.services.payments import online as payments
from tourism.unit_of_work import READY_KEY

HOLD = timedelta(minutes=30)


@pytest.fixture
def stripe_app(make_app, stripe_settings, tmp_path):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "out"), **stripe_settings)
    with app.app_context():
        yield app


@pytest.fixture
def make(stripe_app):
    return Factories(db.session)


@pytest.fixture
def cli(stripe_app):
    return stripe_app.test_cli_runner()


def held_booking(make, departure=None) -> Booking:
    departure = departure or make.departure(capacity=10, starts_in=timedelta(days=5))
    booking = make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    booking.payment_method = "card"
    booking.online_due_cents = online_due(booking.total_cents, "card", 30)
    db.session.commit()
    return booking


@contextmanager
def writing():
    """A transaction that may lock departures (BEGIN IMMEDIATE on SQLite), committed."""
    db.session.commit()
    with write_transactions():
        yield
        db.session.commit()


def charged(gateway, booking) -> Payment:
    """Start the payment and let Stripe charge it; nobody told us yet."""
    with writing():
        start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    gateway.confirm_intent(start.payment.provider_ref, "pm_card_visa")
    return start.payment


def apply(gateway, payment_ref: str, **kw) -> str:
    intent = gateway.retrieve_intent(payment_ref)
    with writing():
        outcome = intents.apply_intent(db.session, intent, gateway, utcnow(), **kw)
    return outcome


# ledger-check --against-processor ----------------------------------------------------------


def test_a_payment_confirmed_for_less_than_asked_is_found_against_the_processor(cli, make, gateway):
    booking = held_booking(make)
    intent = gateway.create_intent(
        100,
        "usd",
        metadata={"booking_id": str(booking.id), "booking_reference": booking.reference},
        idempotency_key="foreign-" + uuid.uuid4().hex,
    )
    gateway.confirm_intent(intent.id, "pm_card_visa")
    # What the code did before amounts were checked: the booking confirmed by 1.00.
    assert apply(gateway, intent.id, check_amounts=False) == "confirmed"

    plain = cli.invoke(args=["ledger-check"])
    assert plain.exit_code == 0 and "sound" in plain.output  # the ledger alone cannot see it
    checked = cli.invoke(args=["ledger-check", "--against-processor"])
    assert checked.exit_code == 1
    assert f"{booking.online_due_cents} cents here, 100 received at Stripe" in checked.output


def test_honest_payments_refunds_and_refused_mismatches_pass_the_processor_check(
    cli, make, gateway
):
    departure = make.departure(capacity=10, starts_in=timedelta(days=5))
    paid = held_booking(make, departure)
    payment = charged(gateway, paid)
    assert apply(gateway, payment.provider_ref) == "confirmed"
    cancelled = held_booking(make, departure)
    other = charged(gateway, cancelled)
    apply(gateway, other.provider_ref)
    with writing():
        booking = db.session.get(Booking, cancelled.id)
        refunds.cancel_with_refund(db.session, booking, gateway, utcnow())
    refunds.finish_refunds(db.session, gateway)
    mismatch = held_booking(make, departure)
    foreign = gateway.create_intent(
        5,
        "eur",
        metadata={"booking_id": str(mismatch.id), "booking_reference": mismatch.reference},
        idempotency_key="foreign-" + uuid.uuid4().hex,
    )
    gateway.confirm_intent(foreign.id, "pm_card_visa")
    assert apply(gateway, foreign.id) == "mismatch: refunded"
    refunds.finish_refunds(db.session, gateway)

    result = cli.invoke(args=["ledger-check", "--against-processor"])
    assert result.exit_code == 0, result.output
    assert "Compared 3 payment(s) and 2 refund(s) with Stripe: 0 disagreement(s)" in result.output
    assert "1 mismatched payment(s) refused" in result.output

    # Negative control: a fee that disagrees with Stripe's is reported.
    db.session.get(Payment, payment.id).fee_cents = 999
    db.session.commit()
    result = cli.invoke(args=["ledger-check", "--against-processor"])
    assert result.exit_code == 1 and "fee 999 here, 0 at Stripe" in result.output


# reconcile-payments ---------------------------------------------------------------------------


def test_reconcile_tries_every_intent_keeps_its_repairs_and_reports_the_rest(cli, make, gateway):
    unknown = held_booking(make)
    db.session.add(
        Payment(
            booking_id=unknown.id,
            provider="stripe",
            provider_ref="pi_unknowntostripe",
            amount_cents=unknown.online_due_cents,
            status=PaymentStatus.PENDING,
            created_at=utcnow(),
        )
    )
    db.session.commit()
    missed = held_booking(make)
    charged(gateway, missed)

    result = cli.invoke(args=["reconcile-payments"])
    assert result.exit_code == 1
    assert "repaired 1" in result.output
    assert "Could not repair pi_unknowntostripe" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, missed.id).status == BookingStatus.CONFIRMED  # committed
    again = cli.invoke(args=["reconcile-payments"])
    assert "repaired 0" in again.output and again.exit_code == 1


# finish-refunds -------------------------------------------------------------------------------


def test_departure_refunds_are_owed_under_the_lock_and_finished_after_a_crash(
    cli, make, gateway, stripe_app, stripe_settings
):
    departure = make.departure(capacity=10, starts_in=timedelta(days=5))
    bookings = [held_booking(make, departure) for _ in range(2)]
    paid = []
    for booking in bookings:
        payment = charged(gateway, booking)
        apply(gateway, payment.provider_ref)
        paid.append((payment.id, payment.provider_ref, payment.charge_ref, payment.amount_cents))
    with writing():
        refunds.cancel_departure(db.session, departure, "Río crecido", gateway, utcnow())
        db.session.flush()
    db.session.info.pop(READY_KEY, None)  # the process dies before the after-commit refunds
    owed = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert [r.status for r in owed] == [RefundStatus.PENDING] * 2
    assert all(gateway.retrieve_charge(c).amount_refunded == 0 for _, _, c, _ in paid)

    # One refund reached Stripe before the crash, without being recorded.
    first = owed[0]
    gateway.refund(
        paid[0][1],
        first.amount_cents,
        idempotency_key=f"refund-{first.id}",
        metadata={"refund_id": str(first.id)},
    )

    # Stripe down: nothing is lost, everything stays owed, the command says so.
    down = dict(stripe_settings, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")
    stripe_app.config.update(down, STRIPE_MAX_RETRIES=0)
    stripe_app.extensions.pop("stripe_gateway", None)
    result = cli.invoke(args=["finish-refunds"])
    assert result.exit_code == 1 and "2 still owed" in result.output

    stripe_app.config.update(stripe_settings)
    stripe_app.extensions.pop("stripe_gateway", None)
    result = cli.invoke(args=["finish-refunds"])
    assert result.exit_code == 0, result.output
    assert "Paid 2 refund(s)" in result.output
    for _, _, charge, amount in paid:
        assert gateway.retrieve_charge(charge).amount_refunded == amount  # once, not twice
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Refund))} == {RefundStatus.SUCCEEDED}
    assert cli.invoke(args=["finish-refunds"]).output.startswith("Paid 0 refund(s)")
    assert cli.invoke(args=["ledger-check", "--against-processor"]).exit_code == 0
