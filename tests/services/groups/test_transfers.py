"""A group's bank transfer paid back: cancelling a booking paid by transfer records what is
owed back (never paid through Stripe); the treasurer records the refund paid by transfer,
which posts the reversal from the bank account, append-only, keeping the ledger check green;
more than was paid is refused and nothing changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.services.groups.test_quotes import HOLD, ONLINE, ZONE, World
from tourism.database import write_transactions
from tourism.errors import DomainError, InvalidRequest
from tourism.extensions import db
from tourism.models import (
    AccountKind,
    BookingStatus,
    LedgerEntry,
    LedgerTransaction,
    Notification,
    Refund,
    RefundStatus,
)
from tourism.models.jobs import Job
from tourism.services.groups import quote_answers, transfers
from tourism.services.ledger import checks
from tourism.services.messages import outbox
from tourism.services.payments import refunds


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.fixture
def paid(make):
    """A quote of $1,000.00 for 7 accepted by bank transfer, the transfer received."""
    world = World(make)
    world.quote_ = quote = world.quote()
    quote_answers.accept_quote(db.session, quote, "bank_transfer", ONLINE, world.now, HOLD)
    transfers.mark_transfer_paid(db.session, quote, world.admin, world.now)
    world.booking = quote.booking
    return world


def _record(world, amount, paid_on=None, reference="TRX-991"):
    return transfers.record_transfer_refund(
        db.session,
        world.quote_,
        amount,
        paid_on or world.today,
        reference,
        world.admin,
        world.today,
        ZONE,
    )


def _bank_balance(world) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerTransaction)
        .where(LedgerTransaction.payment_id == world.quote_.transfer_payment_id)
        .where(LedgerEntry.account.has(kind=AccountKind.BANK))
    )


def test_cancelling_the_departure_owes_the_transfer_back_without_stripe(paid):
    refunds.cancel_departure(db.session, paid.booking.departure, "river flooded", None, paid.now)
    assert paid.booking.status == BookingStatus.CANCELLED
    assert transfers.owed_back(db.session, paid.quote_) == 100_000
    [owed] = db.session.scalars(select(Refund)).all()
    assert owed.status == RefundStatus.PENDING and owed.provider_ref is None
    # No job will try to pay it through Stripe, and the CLI's owed list leaves it out.
    assert db.session.scalar(select(func.count(Job.id)).where(Job.kind == "pay-refund")) == 0
    assert refunds.owed_refund_ids(db.session) == []
    assert checks.check(db.session) == []
    # The group's email says how the money comes back: by transfer, not to a card.
    email = db.session.scalars(
        select(Notification).where(Notification.kind == "departure_cancelled")
    ).one()
    text = outbox.build_message(email).get_body(("plain",)).get_content()
    assert "pays $1,000.00 back to you by bank transfer" in text and "card" not in text


def test_recording_the_refund_reverses_the_split_from_the_bank(paid):
    refunds.cancel_departure(db.session, paid.booking.departure, "river flooded", None, paid.now)
    entries_before = db.session.scalar(select(func.count(LedgerEntry.id)))
    refund = _record(paid, 100_000, paid_on=paid.today, reference="TRX-991")
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount_cents == 100_000
    assert (refund.paid_on, refund.bank_reference) == (paid.today, "TRX-991")
    assert refund.recorded_by_id == paid.admin.id
    assert transfers.owed_back(db.session, paid.quote_) == 0
    assert _bank_balance(paid) == 0  # in 100,000, out 100,000
    assert db.session.scalar(select(func.count(LedgerEntry.id))) > entries_before
    assert paid.booking.status == BookingStatus.REFUNDED
    assert checks.check(db.session) == []
    # All of it was paid back: one cent more is refused.
    with pytest.raises(InvalidRequest) as raised:
        _record(paid, 1)
    assert raised.value.status_code == 400


def test_a_policy_cancellation_owes_its_share_and_a_part_refund_leaves_the_rest_owed(paid):
    paid.experience.cancellation_policy = [{"hours": 24, "percent": 50}]
    refunds.cancel_with_refund(db.session, paid.booking, None, paid.now)
    assert transfers.owed_back(db.session, paid.quote_) == 50_000
    _record(paid, 30_000)
    assert transfers.owed_back(db.session, paid.quote_) == 20_000
    assert _bank_balance(paid) == 70_000
    assert paid.booking.status == BookingStatus.CANCELLED  # still keeps some of it
    _record(paid, 20_000, reference="TRX-992")
    assert transfers.owed_back(db.session, paid.quote_) == 0
    assert transfers.refundable(paid.quote_) == 50_000
    assert checks.check(db.session) == []


@pytest.mark.parametrize(
    "amount, paid_on, reference",
    [
        (100_001, None, "TRX"),  # more than was paid
        (0, None, "TRX"),
        (-5, None, "TRX"),
        (True, None, "TRX"),
        (1_000, "tomorrow", "TRX"),
        (1_000, None, "   "),
        (1_000, None, "R" * 61),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(paid, amount, paid_on, reference):
    refunds.cancel_departure(db.session, paid.booking.departure, "river flooded", None, paid.now)
    entries = db.session.scalar(select(func.count(LedgerEntry.id)))
    day = paid.today + timedelta(days=1) if paid_on == "tomorrow" else None
    with pytest.raises(InvalidRequest) as raised:
        _record(paid, amount, paid_on=day, reference=reference)
    assert raised.value.status_code == 400
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == entries
    assert transfers.owed_back(db.session, paid.quote_) == 100_000
    assert db.session.scalar(select(func.count(Refund.id))) == 1


def test_a_booking_still_standing_is_not_paid_back(paid):
    with pytest.raises(DomainError) as raised:
        _record(paid, 1_000)
    assert raised.value.status_code == 409
    assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_a_quote_not_paid_by_transfer_has_nothing_to_pay_back(make):
    world = World(make)
    quote = world.quote()
    quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD)
    world.quote_ = quote
    with pytest.raises(DomainError) as raised:
        _record(world, 1_000)
    assert raised.value.status_code == 409
    assert transfers.owed_back(db.session, quote) == 0
    assert isinstance(world.today, date)
