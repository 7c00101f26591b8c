"""A route's homestay nights paid ahead by card reach their host families once each night has
happened: pending at confirmation (no payout can include them), released night by night by
the hourly ``release-shares`` run, taken back from the pending account when the route is
cancelled before them. The clock is moved as the treasury's tests move it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.services.reports.test_revenue import clock  # noqa: F401  (fixture)
from tests.services.routes.test_route_payment import (  # noqa: F401  (fixtures)
    make,
    pay,
    pay_app,
    session,
    sold,
)
from tourism.database import utcnow
from tourism.jobs import periodic
from tourism.models import AccountKind, AccountState, PayoutMethod, Role
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.night_releases import night_over_at
from tourism.services.payments import route_card, route_refunds
from tourism.services.routes import night_releases, settlement
from tourism.services.treasury import payouts
from tourism.services.treasury.payouts import AmountAboveAvailable


def line(session, family):  # noqa: F811
    """The family's (pending, available) cents on its association's balances."""
    found = next(
        line
        for line in payouts.beneficiary_balances(session, family.association)
        if line.beneficiary.family is not None and line.beneficiary.family.id == family.id
    )
    return found.pending_cents, found.available_cents


def balances(session, family):  # noqa: F811
    """What the ledger holds for the family, pending and available (negative: it owes)."""
    return tuple(
        -ledger.balance(
            session, ledger.account(session, AccountKind.FAMILY, family=family, state=state)
        )
        for state in (AccountState.PENDING, AccountState.AVAILABLE)
    )


def pay_out(session, make, family, cents):  # noqa: F811
    admin = make.user(memberships=[(family.association, Role.ADMIN)])
    return payouts.record_payout(
        session, family.association, family, cents, PayoutMethod.CASH, "", admin, utcnow()
    )


@pytest.fixture
def paid(session, sold, gateway):  # noqa: F811
    """A route for two paid by card: two nights, each at another community's family."""
    rb = sold["hold"]()
    pay(gateway, rb)
    assert route_card.sync_route_booking(session, rb, gateway, utcnow()) == "confirmed"
    session.refresh(rb)
    first, second = sorted(rb.nights, key=lambda n: n.night)
    assert second.night == first.night + timedelta(days=1)
    assert first.homestay.family.id != second.homestay.family.id
    return rb, first, second


def test_each_night_is_paid_to_its_family_once_it_has_happened(session, make, paid, clock):  # noqa: F811
    rb, first, second = paid
    one, two = first.homestay.family, second.homestay.family
    assert (first.amount_cents, second.amount_cents) == (5000, 5000)
    # Confirmed and paid: both nights wait, pending; no payout can include them.
    assert line(session, one) == (5000, 0)
    assert line(session, two) == (5000, 0)
    with pytest.raises(AmountAboveAvailable):
        pay_out(session, make, one, 5000)
    night_releases.release_route_nights(session, utcnow())
    assert line(session, one) == (5000, 0)

    # Late on the first night: still pending.
    clock(night_over_at(first.night) - timedelta(minutes=1))
    night_releases.release_route_nights(session, utcnow())
    assert line(session, one) == (5000, 0)

    # The first night is over: the hourly run releases it, and only it.
    clock(night_over_at(first.night) + timedelta(hours=1))
    periodic.release_shares(session, {}, "release-shares")
    assert line(session, one) == (0, 5000)
    assert line(session, two) == (5000, 0)
    assert pay_out(session, make, one, 5000).amount_cents == 5000
    with pytest.raises(AmountAboveAvailable):
        pay_out(session, make, two, 1)

    # The second night is over: its family too; running again releases nothing more.
    clock(night_over_at(second.night) + timedelta(hours=1))
    assert night_releases.release_route_nights(session, utcnow()) == 1
    night_releases.release_route_nights(session, utcnow())
    assert line(session, two) == (0, 5000)
    assert line(session, one) == (0, 0)  # paid out
    assert balances(session, one) == (0, 0)
    assert checks.check(session) == []


def test_a_route_cancelled_before_its_nights_leaves_no_family_owing(session, make, paid, clock):  # noqa: F811
    rb, first, second = paid
    families = (first.homestay.family, second.homestay.family)
    for family in families:
        assert line(session, family) == (5000, 0)
        with pytest.raises(AmountAboveAvailable):
            pay_out(session, make, family, 5000)
    assert route_refunds.cancel_route(session, rb, None, utcnow()) == rb.total_cents
    for family in families:
        assert balances(session, family) == (0, 0)
    # Their dates pass: nothing to release for a route that did not happen.
    clock(night_over_at(second.night) + timedelta(hours=1))
    night_releases.release_route_nights(session, utcnow())
    for family in families:
        assert balances(session, family) == (0, 0)
    assert checks.check(session) == []


def test_cash_collected_on_the_day_is_available_at_once(session, sold, clock):  # noqa: F811
    """Paid on arrival: each community collects on its day, the family has hosted."""
    rb = sold["hold"]("on_arrival")
    first, second = sorted(rb.nights, key=lambda n: n.night)
    for part in settlement.community_parts(rb):
        settlement.record_route_cash(session, rb, part.association, None, utcnow())
    assert balances(session, first.homestay.family) == (0, 5000)
    assert balances(session, second.homestay.family) == (0, 5000)
    clock(night_over_at(second.night) + timedelta(hours=1))
    night_releases.release_route_nights(session, utcnow())
    assert balances(session, first.homestay.family) == (0, 5000)
    assert checks.check(session) == []


def test_a_route_paid_before_nights_waited_is_refunded_from_where_it_was_credited(
    session,  # noqa: F811
    sold,  # noqa: F811
    gateway,
    monkeypatch,
):
    """A route paid when its nights were credited available at once (no data migration):
    its cancellation takes them back from the available account, never the pending one."""
    credit = settlement.stay_lines
    monkeypatch.setattr(
        settlement, "stay_lines", lambda s, rb, part, **_pending: credit(s, rb, part)
    )
    rb = sold["hold"]()
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    families = [night.homestay.family for night in rb.nights]
    assert [balances(session, family) for family in families] == [(0, 5000), (0, 5000)]
    monkeypatch.setattr(settlement, "stay_lines", credit)
    route_refunds.cancel_route(session, rb, None, utcnow())
    assert [balances(session, family) for family in families] == [(0, 0), (0, 0)]
    night_releases.release_route_nights(session, night_over_at(rb.nights[-1].night))
    assert checks.check(session) == []
