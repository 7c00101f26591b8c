"""Online payments against a real local Stripe emulator (localstripe): paying, declines,
late payments, refunds by policy, cancelled departures, and reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    Notification,
    Payment,
    PaymentStatus,
    Refund,
)
from tourism.money import percent_of
from tourism.services.booking.pricing import online_due
from tourism.services.payments import intents, reconcile, refunds
from tourism.services.payments import online as payments

HOLD = timedelta(minutes=30)


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def make(pay_app):
    return Factories(db.session)


def held_booking(make, method="card", starts_in=timedelta(days=5), capacity=10, qty=2):
    departure = make.departure(capacity=capacity, starts_in=starts_in)
    booking = make.booking(departure, quantities={"adult": qty}, status=BookingStatus.HELD)
    booking.payment_method = method
    booking.online_due_cents = online_due(booking.total_cents, method, 30)
    db.session.flush()
    return booking


def pay(gateway, booking, card="pm_card_visa"):
    """What the browser does: pay the booking's PaymentIntent with a card."""
    start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    try:
        gateway.confirm_intent(start.payment.provider_ref, card)
    except Exception:  # noqa: BLE001,S110 — a decline is reported on the intent too
        pass
    return start.payment


def settle(gateway) -> dict:
    """Pay the refunds the transaction owes, as the after-commit effect (or
    ``flask finish-refunds``) does: outside the lock, one Stripe call each."""
    return refunds.finish_refunds(db.session, gateway)


def notifications_of(booking) -> list[str]:
    return sorted(
        db.session.scalars(select(Notification.kind).where(Notification.booking_id == booking.id))
    )


@pytest.mark.parametrize(
    ("total", "method", "percent", "due"),
    [
        (9000, "card", 30, 9000),
        (9000, "deposit", 30, 2700),
        (1001, "deposit", 50, 501),  # half up
        (1, "deposit", 10, 1),  # never zero
        (9000, "on_arrival", 30, 0),
    ],
)
def test_online_due(total, method, percent, due):
    assert online_due(total, method, percent) == due


@pytest.mark.parametrize(
    ("hours", "percent"), [(72, 100), (48, 100), (47, 50), (24, 50), (23, 0), (1, 0)]
)
def test_refund_percent_follows_the_tiers(hours, percent):
    policy = [{"hours": 24, "percent": 50}, {"hours": 48, "percent": 100}]
    now = utcnow()
    assert refunds.refund_percent(policy, now + timedelta(hours=hours), now) == percent


def test_start_payment_creates_one_intent_and_reuses_it(make, gateway):
    booking = held_booking(make)
    first = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    again = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    assert first.payment.id == again.payment.id
    assert first.client_secret.startswith(first.payment.provider_ref)
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    intent = gateway.retrieve_intent(first.payment.provider_ref)
    assert intent.amount == booking.total_cents
    assert intent.metadata["booking_reference"] == booking.reference
    assert intent.metadata["booking_id"] == str(booking.id)


def test_hold_is_extended_to_outlive_the_payment(make, gateway):
    booking = held_booking(make)
    booking.hold_expires_at = utcnow() + timedelta(minutes=2)
    payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    assert booking.hold_expires_at > utcnow() + timedelta(minutes=29)


def test_paid_booking_is_confirmed_only_from_stripe(make, gateway):
    booking = held_booking(make)
    payment = pay(gateway, booking)
    assert booking.status == BookingStatus.HELD  # paying alone changes nothing here
    assert intents.sync_booking(db.session, booking, gateway, utcnow()) == "confirmed"
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.fee_cents == 0 and payment.charge_ref.startswith("ch_")
    assert booking.paid_online_cents == booking.total_cents
    assert booking.due_on_arrival_cents == 0
    assert intents.sync_booking(db.session, booking, gateway, utcnow()) == "nothing pending"
    assert notifications_of(booking) == ["confirmed"]


def test_deposit_leaves_the_rest_due_on_arrival(make, gateway):
    booking = held_booking(make, method="deposit")
    pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.paid_online_cents == 2700
    assert booking.due_on_arrival_cents == 9000 - 2700


def test_declined_card_keeps_the_hold_and_a_new_attempt_is_possible(make, gateway):
    booking = held_booking(make)
    failed = pay(gateway, booking, card="pm_card_chargeCustomerFail")
    intents.sync_booking(db.session, booking, gateway, utcnow())
    assert failed.status == PaymentStatus.FAILED and failed.failure_message
    assert booking.status == BookingStatus.HELD
    retry = pay(gateway, booking)
    assert retry.id != failed.id and retry.attempt == 2
    intents.sync_booking(db.session, booking, gateway, utcnow())
    assert booking.status == BookingStatus.CONFIRMED


def test_late_payment_with_seats_still_free_is_confirmed(make, gateway):
    booking = held_booking(make)
    payment = pay(gateway, booking)
    later = booking.hold_expires_at + timedelta(minutes=5)
    outcome = intents.apply_intent(
        db.session, gateway.retrieve_intent(payment.provider_ref), gateway, later
    )
    assert outcome == "confirmed late"
    assert booking.status == BookingStatus.CONFIRMED


def test_late_payment_after_seats_were_sold_is_refunded_and_told(make, gateway):
    booking = held_booking(make, capacity=2, qty=2)
    payment = pay(gateway, booking)
    later = booking.hold_expires_at + timedelta(minutes=5)
    # Meanwhile the hold lapsed and someone else took both seats.
    make.booking(booking.departure, quantities={"adult": 2})
    outcome = intents.apply_intent(
        db.session, gateway.retrieve_intent(payment.provider_ref), gateway, later
    )
    assert outcome.startswith("refunded")
    assert booking.status == BookingStatus.EXPIRED
    # Owed under the lock, paid after it: Stripe has refunded nothing yet.
    assert payment.refunded_cents == 0
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == 0
    assert len(settle(gateway)["paid"]) == 1
    assert payment.refunded_cents == payment.amount_cents
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == payment.amount_cents
    assert notifications_of(booking) == ["late_payment_refunded"]
    # Applying the same success again refunds nothing more.
    intents.apply_intent(db.session, gateway.retrieve_intent(payment.provider_ref), gateway, later)
    assert db.session.scalar(select(func.count(Refund.id))) == 1


@pytest.mark.parametrize(("hours", "refunded_percent"), [(72, 100), (30, 50), (10, 0)])
def test_cancellation_refunds_what_the_policy_gives(make, gateway, hours, refunded_percent):
    booking = held_booking(make, starts_in=timedelta(hours=hours))
    booking.departure.experience.cancellation_policy = [
        {"hours": 48, "percent": 100},
        {"hours": 24, "percent": 50},
    ]
    payment = pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    refunded = refunds.cancel_with_refund(db.session, booking, gateway, utcnow())
    assert refunded == booking.total_cents * refunded_percent // 100
    assert booking.status == BookingStatus.CANCELLED
    settle(gateway)
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == refunded
    assert "cancelled" in notifications_of(booking)


@pytest.mark.parametrize(("method", "percent"), [("card", 50), ("deposit", 50), ("deposit", 33)])
def test_the_cancel_page_preview_is_what_cancelling_refunds(make, gateway, method, percent):
    # Odd cents: a 30% deposit of 3 × $33.33 is $30.00, then 33% of it rounds.
    booking = held_booking(make, method=method, qty=3)
    booking.lines[0].unit_price_cents = 33_33
    booking.total_cents = 3 * 33_33
    booking.online_due_cents = online_due(booking.total_cents, method, 30)
    booking.departure.experience.cancellation_policy = [{"hours": 0, "percent": percent}]
    pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    preview = refunds.refund_preview(db.session, booking, percent)
    assert preview == percent_of(booking.paid_online_cents, percent) > 0
    assert refunds.cancel_with_refund(db.session, booking, gateway, utcnow()) == preview


def test_the_preview_rounds_each_payment_as_its_refund_does(make, gateway):
    booking = held_booking(make)
    pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    [(payment, amount)] = refunds.policy_refunds(db.session, booking, 50)
    assert payment.net_cents == booking.total_cents and amount == percent_of(payment.net_cents, 50)
    # A payment already refunded in full leaves nothing to preview or refund.
    refunds.refund_payment(db.session, payment, payment.net_cents, "test", gateway)
    settle(gateway)
    db.session.refresh(payment)
    assert refunds.refund_preview(db.session, booking, 100) == 0


def test_cancelled_departure_refunds_everyone_in_full(make, gateway):
    first = held_booking(make)
    departure = first.departure
    pay(gateway, first)
    intents.sync_booking(db.session, first, gateway, utcnow())
    cash = make.booking(departure, quantities={"adult": 1})
    cash.payment_method = "on_arrival"
    affected = refunds.cancel_departure(db.session, departure, "Río crecido", gateway, utcnow())
    assert {b.id for b in affected} == {first.id, cash.id}
    assert departure.status == DepartureStatus.CANCELLED
    assert first.status == cash.status == BookingStatus.CANCELLED
    assert first.paid_online_cents == first.total_cents  # owed, not paid under the lock
    assert settle(gateway)["paid"] and first.paid_online_cents == 0
    assert first.payments[0].refunded_cents == first.total_cents
    assert "departure_cancelled" in notifications_of(first)
    assert "departure_cancelled" in notifications_of(cash)
    assert refunds.cancel_departure(db.session, departure, "again", gateway, utcnow()) == []


def test_reconcile_repairs_a_missed_confirmation_and_is_idempotent(make, gateway):
    booking = held_booking(make)
    pay(gateway, booking)  # Stripe took the money, but no webhook ever reached us
    since = utcnow() - timedelta(days=1)
    assert reconcile.reconcile_payments(db.session, gateway, utcnow(), since).changed == 1
    assert booking.status == BookingStatus.CONFIRMED
    assert reconcile.reconcile_payments(db.session, gateway, utcnow(), since).changed == 0


def test_reconcile_finds_an_intent_we_never_recorded(make, gateway):
    booking = held_booking(make)
    # A crash after Stripe created and charged the intent, before our commit recorded it.
    intent = gateway.create_intent(
        booking.total_cents,
        "USD",
        metadata={"booking_id": str(booking.id), "booking_reference": booking.reference},
        idempotency_key=f"lost-{booking.id}",
    )
    gateway.confirm_intent(intent.id, "pm_card_visa")
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    reconcile.reconcile_payments(db.session, gateway, utcnow(), utcnow() - timedelta(hours=1))
    assert booking.status == BookingStatus.CONFIRMED
    assert db.session.scalars(select(Payment)).one().provider_ref == intent.id


def test_without_stripe_only_pay_on_arrival_is_offered(make):
    experience = make.experience(payment_options="card,deposit,on_arrival")
    assert payments.offered_methods(experience, None) == ["on_arrival"]
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_each_owed_refund_is_a_job_retried_until_stripe_pays_it_once(make, gateway, pay_app):
    from tourism.jobs.worker import Worker
    from tourism.models import Job, JobState
    from tourism.services.payments.stripe_gateway import StripeGateway

    booking = held_booking(make)
    pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    db.session.commit()
    # Cancelled with no gateway at hand (a command, a crash before the after-commit step):
    # the refund is owed and its job is queued in the same transaction.
    refunds.cancel_departure(db.session, booking.departure, "Río crecido", None, utcnow())
    db.session.commit()
    (refund,) = db.session.scalars(select(Refund)).all()
    job = db.session.scalar(select(Job).where(Job.key == f"refund:{refund.id}"))
    assert job.kind == refunds.PAY_REFUND and job.state == JobState.QUEUED

    # Stripe unreachable: the job fails and backs off; the refund stays owed.
    pay_app.extensions["stripe_gateway"] = StripeGateway.from_config(
        {**pay_app.config, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    )
    worker = Worker(db.session, kinds={refunds.PAY_REFUND})
    worker.run(burst=True)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.QUEUED and job.attempts == 1 and job.last_error
    assert db.session.get(Refund, refund.id).provider_ref is None

    # Stripe back: the retry pays it, once.
    pay_app.extensions["stripe_gateway"] = gateway
    db.session.execute(Job.__table__.update().where(Job.id == job.id).values(run_at=utcnow()))
    db.session.commit()
    worker.run(burst=True)
    db.session.expire_all()
    assert db.session.get(Job, job.id).state == JobState.DONE
    paid = db.session.get(Refund, refund.id)
    assert paid.provider_ref
    assert db.session.get(Booking, booking.id).payments[0].refunded_cents == booking.total_cents
    refunds.pay_refund(db.session, {"refund_id": refund.id}, job.key)  # run again by hand
    charge = gateway.retrieve_charge(db.session.get(Refund, refund.id).payment.charge_ref)
    assert len(charge.refunds) == 1
