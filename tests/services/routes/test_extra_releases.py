"""A route's extras and curator's fee paid ahead by card reach their provider and the curator
once the route has started: pending at confirmation (no payout can include them), released
by the hourly ``release-shares`` run from the first leg's departure, taken back from the
pending accounts when the route is cancelled before it. The clock is moved as the
treasury's tests move it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.services.reports.test_revenue import clock  # noqa: F401  (fixture)
from tests.services.routes.test_night_releases import balances, line, pay_out
from tests.services.routes.test_route_payment import (  # noqa: F401  (fixtures)
    make,
    pay,
    pay_app,
    session,
    sold,
)
from tourism.database import utcnow
from tourism.jobs import periodic
from tourism.models import AccountKind, AccountState, TransactionKind
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.night_releases import night_over_at
from tourism.services.payments import route_card, route_refunds
from tourism.services.routes import extra_releases, night_releases, settlement
from tourism.services.treasury.payouts import AmountAboveAvailable


def fund(session, association):  # noqa: F811
    """The curating association's fund (pending, available) cents."""
    return tuple(
        -ledger.balance(
            session, ledger.account(session, AccountKind.ASSOCIATION_FUND, association, state=s)
        )
        for s in (AccountState.PENDING, AccountState.AVAILABLE)
    )


@pytest.fixture
def curated(session, make, sold):  # noqa: F811
    """The route of ``sold`` curated by an association with no leg on it (fee 250 a person,
    for two), with a family's lunch (700 each, for two)."""
    route = sold["route"]
    curator = make.association()
    route.curator = curator
    session.flush()
    return dict(sold, curator=curator, family=sold["lunch"].family)


@pytest.fixture
def paid(session, curated, gateway):  # noqa: F811
    rb = curated["hold"]()
    pay(gateway, rb)
    assert route_card.sync_route_booking(session, rb, gateway, utcnow()) == "confirmed"
    session.refresh(rb)
    return rb


def test_the_extras_and_fee_are_paid_once_the_route_has_started(
    session,  # noqa: F811
    make,  # noqa: F811
    curated,
    paid,
    clock,  # noqa: F811
):
    family, curator = curated["family"], curated["curator"]
    start = extra_releases.started_at(paid)
    assert start == min(bl.booking.departure.starts_at for bl in paid.legs)
    # Confirmed and paid: the lunch and the fee wait, pending; no payout can include them.
    assert line(session, family) == (1400, 0)
    assert fund(session, curator) == (500, 0)
    with pytest.raises(AmountAboveAvailable):
        pay_out(session, make, family, 1)
    periodic.release_shares(session, {}, "release-shares")
    assert line(session, family) == (1400, 0)

    # A minute before the first departure: still pending.
    clock(start - timedelta(minutes=1))
    assert extra_releases.release_route_booking(session, paid, utcnow()) == 0
    assert line(session, family) == (1400, 0)

    # The route has started: the hourly run releases the lunch and the fee, not the nights.
    clock(start + timedelta(hours=1))
    periodic.release_shares(session, {}, "release-shares")
    assert line(session, family) == (0, 1400)
    assert fund(session, curator) == (0, 500)
    for night in paid.nights:
        assert balances(session, night.homestay.family) == (5000, 0)
    assert pay_out(session, make, family, 1400).amount_cents == 1400

    # Once: running again, or after the nights, releases nothing more.
    clock(night_over_at(max(n.night for n in paid.nights)) + timedelta(hours=1))
    periodic.release_shares(session, {}, "release-shares")
    assert extra_releases.release_route_booking(session, paid, utcnow()) == 0
    memo = extra_releases.memo(paid)
    assert ledger.find_transaction(session, TransactionKind.RELEASE, memo=memo) is not None
    assert balances(session, family) == (0, 0)  # paid out
    assert fund(session, curator) == (0, 500)
    for night in paid.nights:
        assert balances(session, night.homestay.family) == (0, 5000)
    assert checks.check(session) == []


def test_a_route_cancelled_before_it_starts_leaves_nobody_owing(
    session,  # noqa: F811
    make,  # noqa: F811
    curated,
    paid,
    clock,  # noqa: F811
):
    family, curator = curated["family"], curated["curator"]
    with pytest.raises(AmountAboveAvailable):
        pay_out(session, make, family, 1400)
    assert route_refunds.cancel_route(session, paid, None, utcnow()) == paid.total_cents
    assert balances(session, family) == (0, 0)
    assert fund(session, curator) == (0, 0)
    # Its start passes: nothing to release for a route that did not happen.
    clock(extra_releases.started_at(paid) + timedelta(hours=1))
    periodic.release_shares(session, {}, "release-shares")
    assert balances(session, family) == (0, 0)
    assert fund(session, curator) == (0, 0)
    assert checks.check(session) == []


def test_cash_collected_on_the_day_is_available_at_once(session, curated, clock):  # noqa: F811
    rb = curated["hold"]("on_arrival")
    for part in settlement.community_parts(rb):
        settlement.record_route_cash(session, rb, part.association, None, utcnow())
    assert balances(session, curated["family"]) == (0, 1400)
    assert fund(session, curated["curator"]) == (0, 500)
    clock(extra_releases.started_at(rb) + timedelta(hours=1))
    assert extra_releases.release_route_booking(session, rb, utcnow()) == 0
    assert balances(session, curated["family"]) == (0, 1400)
    assert checks.check(session) == []


def test_a_route_paid_before_extras_waited_is_refunded_from_where_it_was_credited(
    session,  # noqa: F811
    curated,
    gateway,
    monkeypatch,
):
    """A route paid when its extras and fee were credited available at once (its nights
    pending; no data migration): its cancellation takes them back from the available
    accounts, never the pending ones."""
    credit = settlement.stay_lines
    monkeypatch.setattr(
        settlement,
        "stay_lines",
        lambda s, rb, part, nights_pending=False, **_: credit(s, rb, part, nights_pending),
    )
    rb = curated["hold"]()
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    family, curator = curated["family"], curated["curator"]
    assert balances(session, family) == (0, 1400)
    assert fund(session, curator) == (0, 500)
    monkeypatch.setattr(settlement, "stay_lines", credit)
    # Nothing of it waits: the start releases nothing.
    later = extra_releases.started_at(rb) + timedelta(hours=1)
    assert extra_releases.release_route_booking(session, rb, later) == 0
    route_refunds.cancel_route(session, rb, None, utcnow())
    assert balances(session, family) == (0, 0)
    assert fund(session, curator) == (0, 0)
    for night in rb.nights:
        assert balances(session, night.homestay.family) == (0, 0)
    assert checks.check(session) == []


@pytest.fixture
def hosting_lunch(session, curated):  # noqa: F811
    """The lunch is made by the family hosting the first night: one pending account."""
    route = curated["route"]
    family = route.legs[1].homestay.family
    lunch = curated["lunch"]
    lunch.family, lunch.association = family, family.association
    session.flush()
    return dict(curated, family=family)


def _paid(session, hold, gateway):  # noqa: F811
    rb = hold()
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    return rb


def test_a_family_hosting_a_night_is_paid_its_lunch_at_the_start_and_the_night_after_it(
    session,  # noqa: F811
    hosting_lunch,
    gateway,
):
    rb = _paid(session, hosting_lunch["hold"], gateway)
    family = hosting_lunch["family"]
    (night,) = [n for n in rb.nights if n.homestay.family.id == family.id]
    assert balances(session, family) == (5000 + 1400, 0)
    extra_releases.release_route_extras(session, extra_releases.started_at(rb))
    assert balances(session, family) == (5000, 1400)
    night_over = night_over_at(night.night) + timedelta(hours=1)
    extra_releases.release_route_extras(session, night_over)
    night_releases.release_route_nights(session, night_over)
    assert balances(session, family) == (0, 6400)
    assert checks.check(session) == []


def test_a_route_paid_before_extras_waited_releases_no_night_at_the_start(
    session,  # noqa: F811
    hosting_lunch,
    gateway,
    monkeypatch,
):
    """Paid when the nights waited but the lunch did not: the family's pending account holds
    only its night, which waits for its date."""
    credit = settlement.stay_lines
    monkeypatch.setattr(
        settlement,
        "stay_lines",
        lambda s, rb, part, nights_pending=False, **_: credit(s, rb, part, nights_pending),
    )
    rb = _paid(session, hosting_lunch["hold"], gateway)
    monkeypatch.setattr(settlement, "stay_lines", credit)
    family = hosting_lunch["family"]
    (night,) = [n for n in rb.nights if n.homestay.family.id == family.id]
    assert balances(session, family) == (5000, 1400)
    extra_releases.release_route_extras(session, extra_releases.started_at(rb))
    assert balances(session, family) == (5000, 1400)
    night_over = night_over_at(night.night) + timedelta(hours=1)
    extra_releases.release_route_extras(session, night_over)
    night_releases.release_route_nights(session, night_over)
    assert balances(session, family) == (0, 6400)
    assert checks.check(session) == []
