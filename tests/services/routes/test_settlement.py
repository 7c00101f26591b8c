"""A route's money: each community's part, split per leg by its own rule, ledger sound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow
from tourism.models import (
    AccountKind,
    AccountState,
    LedgerTransaction,
    Payment,
    Role,
    SplitRule,
    TransactionKind,
)
from tourism.services.ledger import checks, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.routes import booking, changes, settlement

from .helpers import LANGS, request_for, start_of

AVAILABLE = AccountState.AVAILABLE


def owed(session, kind, association=None, family=None, state=AVAILABLE) -> int:
    account = ledger.account(session, kind, association, family=family, state=state)
    return -ledger.balance(session, account)


def _credited_kinds(session, leg_booking) -> set[str]:
    """The kinds of account the cash payment of a leg booking credited."""
    (payment,) = leg_booking.payments
    transaction = ledger.find_transaction(session, TransactionKind.CASH, payment_id=payment.id)
    return {e.account.kind.value for e in transaction.entries if e.amount_cents < 0}


@pytest.fixture
def sold(session, make):
    """A route with a rule on its first leg (none on the others), a curator fee, a family's
    extra and an association's extra, booked for two people."""
    route = make.route(curator_fee_cents=250)
    first = route.legs[0].experience
    admin = make.user(memberships=[(first.association, Role.ADMIN)])
    now = utcnow()
    rule = split_rules.approve_rule(session, first, SPLIT_PARTS, admin, now, now)
    lunch_family = make.family(route.legs[2].experience.association)
    lunch = make.route_extra(route.legs[2].experience.association, price=700, family=lunch_family)
    chocolate = make.route_extra(route.legs[4].experience.association, price=1200, stock=20)
    route.extras += [lunch, chocolate]
    session.flush()
    rb = booking.book_route(
        session,
        request_for(route, start_of(route), people=2, extras={lunch.id: 2, chocolate.id: 1}),
        utcnow() + timedelta(seconds=1),
        LANGS,
    )
    return dict(route=rb.route, rb=rb, rule=rule, admin=admin, lunch=lunch, chocolate=chocolate)


def test_parts_add_up_to_the_total_in_the_order_the_visitor_meets_them(sold):
    rb = sold["rb"]
    parts = settlement.community_parts(rb)
    assert [p.day for p in parts] == [1, 2, 3]
    assert sum(p.total_cents for p in parts) == rb.total_cents
    first, second, third = parts
    assert first.curator_fee_cents == 500  # the platform curates: collected on day 1
    assert len(first.nights) == 1 and len(second.nights) == 1 and not third.nights
    assert [e.extra for e in second.extras] == [sold["lunch"]]
    assert [e.extra for e in third.extras] == [sold["chocolate"]]


def test_each_community_records_its_part_and_the_ledger_stays_sound(session, sold):
    rb, route = sold["rb"], sold["route"]
    now = utcnow()
    for part in settlement.community_parts(rb):
        collected = settlement.record_route_cash(session, rb, part.association, None, now)
        assert collected == part.total_cents
    assert checks.check(session) == []
    # The legs are paid like any booking: one cash payment each, split by their own rule.
    payments = session.scalars(select(Payment)).all()
    assert sorted(p.amount_cents for p in payments) == [9000, 9000, 9000]
    first_booking = rb.legs[0].booking
    assert first_booking.split_rule_id == sold["rule"].id
    assert owed(session, AccountKind.PLATFORM) == 500  # the curator's fee
    # The first leg's money went to every party of its rule; the second's (no rule) to its
    # association's fund only.
    assert _credited_kinds(session, rb.legs[0].booking) == {
        "family",
        "guide",
        "association_fund",
        "conservation_fund",
        "platform",
    }
    assert _credited_kinds(session, rb.legs[1].booking) == {"association_fund"}
    # A leg without a rule keeps its money in its association's fund.
    second_assoc = route.legs[2].experience.association
    fund = ledger.account(
        session, AccountKind.ASSOCIATION_FUND, second_assoc, state=AccountState.PENDING
    )
    assert (
        -ledger.balance(session, fund) + owed(session, AccountKind.ASSOCIATION_FUND, second_assoc)
        == 9000
    )
    # Nights to the host families, extras to who provides them.
    for leg in (route.legs[1], route.legs[3]):
        assert owed(session, AccountKind.FAMILY, family=leg.homestay.family) == 2 * 2500
    assert owed(session, AccountKind.FAMILY, family=sold["lunch"].family) == 1400
    assert owed(session, AccountKind.ASSOCIATION_FUND, route.legs[4].experience.association) == (
        1200
    )


def test_recording_a_part_twice_records_nothing_more(session, sold):
    rb = sold["rb"]
    part = settlement.community_parts(rb)[1]
    settlement.record_route_cash(session, rb, part.association, None, utcnow())
    transactions = session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert settlement.record_route_cash(session, rb, part.association, None, utcnow()) == 0
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)) == transactions


def test_a_rule_approved_after_the_sale_does_not_change_the_split(session, sold, make):
    rb, route = sold["rb"], sold["route"]
    first = route.legs[0].experience
    later = utcnow() + timedelta(seconds=5)
    all_to_fund = [{"party": "association_fund", "basis_points": 10_000}]
    split_rules.approve_rule(session, first, all_to_fund, sold["admin"], later, utcnow())
    assert session.scalar(select(func.count()).select_from(SplitRule)) == 2
    part = settlement.community_parts(rb)[0]
    settlement.record_route_cash(session, rb, part.association, None, later)
    # Still the rule in force at the sale: every party of it, not the fund alone.
    assert _credited_kinds(session, rb.legs[0].booking) == {
        "family",
        "guide",
        "association_fund",
        "conservation_fund",
        "platform",
    }
    assert checks.check(session) == []


def test_a_cancelled_route_cannot_be_paid(session, sold):
    rb = sold["rb"]
    changes.cancel_route_booking(session, rb, utcnow())
    with pytest.raises(settlement.RouteNotConfirmed):
        settlement.record_route_cash(
            session, rb, rb.legs[0].booking.departure.experience.association, None, utcnow()
        )


def test_an_association_outside_the_route_has_no_part(session, sold, make):
    with pytest.raises(settlement.NotPartOfRoute):
        settlement.record_route_cash(session, sold["rb"], make.association(), None, utcnow())


def test_a_route_paid_in_part_cannot_be_cancelled_online(session, sold):
    rb = sold["rb"]
    part = settlement.community_parts(rb)[0]
    settlement.record_route_cash(session, rb, part.association, None, utcnow())
    with pytest.raises(changes.CannotCancelRoute):
        changes.cancel_route_booking(session, rb, utcnow())
    assert rb.status.value == "confirmed"
