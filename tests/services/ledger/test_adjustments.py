"""What the ledger learns late: a processor fee reported after the payment, guides assigned
after the money came in, stops confirmed before the start, inquiries that move no money,
and payments older than the ledger (backfill)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from tests.services.ledger.test_postings import AVAILABLE, PENDING, World, transactions, write_mode  # noqa: F401
from tourism.database import utcnow
from tourism.models import (
    AccountKind,
    DepartureGuide,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    TransactionKind,
)
from tourism.services.ledger import adjustments as postings_later
from tourism.services.ledger import checks, releases
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.splits import Party
from tourism.services.operations import checkin


@pytest.fixture
def world(session, make) -> World:
    return World(session, make)


def shares_total(world, state=PENDING) -> int:
    parties = [(Party.FAMILIES, f.id) for f in world.families] + [
        (Party.GUIDES, world.guide.id),
        (Party.ASSOCIATION_FUND, None),
        (Party.CONSERVATION_FUND, None),
        (Party.PLATFORM, None),
    ]
    return sum(world.owed(party, member, state) for party, member in parties)


# A fee learned later -------------------------------------------------------------------------


def test_a_fee_reported_after_posting_comes_off_the_shares(session, world):
    booking = world.booking(quantities={"adult": 2})  # 9000
    payment = world.card(booking, fee=None)
    assert world.held(AccountKind.PROCESSOR_FEES) == 0
    assert shares_total(world) == 9_000

    payment.fee_cents = 291
    session.flush()
    adjustment = postings_later.post_fee(session, payment)
    assert adjustment is not None and adjustment.kind == TransactionKind.ADJUSTMENT
    assert world.held(AccountKind.PROCESSOR_FEES) == -291
    assert shares_total(world) == 9_000 - 291
    # Each share now holds exactly what the split of 9000 with a 291 fee gives it.
    for (party, member), cents in world.expected(9_000, 291, 2).items():
        assert world.owed(party, member) == cents
    assert postings_later.post_fee(session, payment) is None  # posted once
    assert checks.check(session) == []


def test_a_late_fee_on_released_shares_comes_from_available(session, world):
    booking = world.booking(quantities={"adult": 2})
    payment = world.card(booking, fee=None)
    for stop in world.stops:
        checkin.confirm_stop_visited(session, world.departure, stop, world.guide, world.now)
    assert shares_total(world, PENDING) == 0
    payment.fee_cents = 291
    postings_later.post_fee(session, payment)
    assert shares_total(world, AVAILABLE) == 9_000 - 291
    assert shares_total(world, PENDING) == 0
    assert checks.check(session) == []


def test_a_refund_after_a_late_fee_gives_back_net_of_the_fee(session, world):
    booking = world.booking(quantities={"adult": 2})
    payment = world.card(booking, fee=None)
    payment.fee_cents = 300
    postings_later.post_fee(session, payment)
    world.refund(payment, 9_000)
    # The shares give everything back; the fee, which the processor keeps, is the fund's.
    kept = sum(
        world.owed(party, member)
        for (party, member) in world.expected(9_000, 300, 2)
        if party != Party.ASSOCIATION_FUND
    )
    assert kept == 0
    assert world.owed(Party.ASSOCIATION_FUND) == -300
    assert checks.check(session) == []


def test_apply_intent_posts_a_fee_that_arrives_later(session, world):
    from tourism.services.payments import intents
    from tourism.services.payments.stripe_gateway import IntentInfo

    booking = world.booking()
    payment = world.card(booking, fee=None)
    info = IntentInfo(
        id=payment.provider_ref,
        status="succeeded",
        amount=payment.amount_cents,
        currency="usd",
        client_secret=None,
        charge_id=payment.charge_ref,
        fee_cents=161,
        metadata={"booking_id": str(booking.id), "reference": booking.reference},
    )
    assert intents.apply_intent(session, info, None, world.now) == "fee recorded"
    assert world.held(AccountKind.PROCESSOR_FEES) == -161
    assert intents.apply_intent(session, info, None, world.now) == "unchanged"
    assert checks.check(session) == []


# Guides assigned later -----------------------------------------------------------------------


def test_the_guides_pool_goes_to_the_guides_who_ran_the_departure(session, world, make):
    session.execute(delete(DepartureGuide).where(DepartureGuide.departure_id == world.departure.id))
    booking = world.booking(quantities={"adult": 2})
    world.card(booking)
    pool = ledger.account(session, AccountKind.GUIDE, world.association, state=PENDING)
    guides_part = world.expected(9_000, 0, 2)[Party.GUIDES, world.guide.id]
    assert -ledger.balance(session, pool) == guides_part

    second = make.guide(world.association)
    make.assign(world.departure, world.guide)
    make.assign(world.departure, second)
    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    assert ledger.balance(session, pool) == 0
    mine = -ledger.balance(
        session,
        ledger.account(
            session, AccountKind.GUIDE, world.association, user=world.guide, state=AVAILABLE
        ),
    )
    theirs = -ledger.balance(
        session,
        ledger.account(session, AccountKind.GUIDE, world.association, user=second, state=AVAILABLE),
    )
    assert mine + theirs == guides_part and abs(mine - theirs) <= 1
    assert checks.check(session) == []


# Stops confirmed before the start --------------------------------------------------------


def test_the_release_sweep_catches_stops_confirmed_before_the_start(session, world, make):
    departure = make.departure(world.experience, starts_at=world.now + timedelta(minutes=30))
    make.assign(departure, world.guide)
    booking = make.booking(departure)
    booking.split_rule = world.rule
    world.card(booking)
    checkin.confirm_stop_visited(session, departure, world.stops[0], world.guide, world.now)
    assert transactions(session, TransactionKind.RELEASE) == 0

    assert releases.release_started_departures(session, world.now) == 0  # not started yet
    assert transactions(session, TransactionKind.RELEASE) == 0
    later = world.now + timedelta(hours=1)
    releases.release_started_departures(session, later)
    assert transactions(session, TransactionKind.RELEASE) == 2
    releases.release_started_departures(session, later)  # idempotent
    assert transactions(session, TransactionKind.RELEASE) == 2
    assert checks.check(session) == []


# Inquiries -----------------------------------------------------------------------------------


def test_an_inquiry_moves_no_money(session, world):
    payment = world.card(world.booking())
    world.dispute(payment, "dp_inquiry", "warning_needs_response")
    world.dispute(payment, "dp_inquiry", "warning_closed")
    assert transactions(session, TransactionKind.DISPUTE) == 0
    assert world.held(AccountKind.DISPUTED_FUNDS) == 0
    assert checks.check(session) == []


# Backfill ------------------------------------------------------------------------------------


def test_backfill_posts_payments_and_refunds_the_ledger_missed(session, world):
    booking = world.booking(quantities={"adult": 2})
    payment = Payment(
        booking=booking,
        provider="stripe",
        provider_ref="pi_before_the_ledger",
        charge_ref="ch_before_the_ledger",
        amount_cents=booking.total_cents,
        fee_cents=291,
        status=PaymentStatus.SUCCEEDED,
        succeeded_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    assert any("never posted" in problem for problem in checks.check(session))

    counts = postings_later.backfill(session)
    assert counts["payments"] == 1
    assert checks.check(session) == []
    assert postings_later.backfill(session) == {"payments": 0, "refunds": 0, "disputes": 0}
    assert (
        session.scalar(
            select(func.count(LedgerTransaction.id)).where(
                LedgerTransaction.payment_id == payment.id
            )
        )
        == 1
    )
    assert postings_later.posted_fee(session, payment) == 291


# A booking paid in parts -----------------------------------------------------------------


def test_a_deposit_and_the_cash_rest_carry_the_fixed_amounts_once(session, world):
    booking = world.booking(quantities={"adult": 2}, payment_method="deposit")  # 9000
    world.card(booking, amount=2_700, fee=0)
    checkin.record_cash(session, booking, 6_300, world.guide, world.now)
    whole = world.expected(9_000, 0, 2)  # the split of one payment of the whole total
    for (party, member), cents in whole.items():
        owed = world.owed(party, member, PENDING) + world.owed(party, member, AVAILABLE)
        assert abs(owed - cents) <= 1, (party, member)
    assert checks.check(session) == []
