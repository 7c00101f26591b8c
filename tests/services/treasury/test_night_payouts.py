"""A homestay night sold after an activity is paid to its host family once the night has
happened, on its own date, not the departure's: payouts and statements, with the clock
moved as the treasury's reports tests move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.services.ledger.test_postings import World, write_mode  # noqa: F401  (fixtures)
from tests.services.ledger.test_provider_shares import LUNCH, NIGHT, Providers
from tests.services.reports.test_revenue import clock  # noqa: F401  (fixture)
from tourism.database import utcnow
from tourism.models import NightSide, PayoutMethod, Role
from tourism.services.ledger import checks, night_releases, releases
from tourism.services.operations import checkin
from tourism.services.treasury import payouts, statements
from tourism.services.treasury.payouts import AmountAboveAvailable
from tourism.timefmt import local

#: 10:00 in Ecuador: the activity starts; its night after is the night of 2031-05-10.
START = datetime(2031, 5, 10, 15, tzinfo=UTC)


@pytest.fixture
def sold(session, make, clock):  # noqa: F811
    clock(START)
    world = World(session, make)
    providers = Providers(session, make, world)
    booking = providers.booking()  # a lunch from one family, the night after at another's
    assert booking.nights[0].side == NightSide.AFTER
    assert booking.nights[0].night == local(START).date()
    world.card(booking, fee=0)
    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, START)
    admin = make.user(memberships=[(world.association, Role.ADMIN)])
    return world, providers, booking, admin


def _line(session, world, family):
    return next(
        line
        for line in payouts.beneficiary_balances(session, world.association)
        if line.beneficiary.family is not None and line.beneficiary.family.id == family.id
    )


def _pay(session, world, family, cents, admin):
    return payouts.record_payout(
        session, world.association, family, cents, PayoutMethod.CASH, "", admin, utcnow()
    )


def test_the_host_of_a_night_after_is_paid_once_the_night_has_happened(session, sold, clock):  # noqa: F811
    world, providers, booking, admin = sold
    host, cook = providers.host, providers.cook
    # The departure ran: the lunch's family can be paid, the night's host not yet.
    assert _line(session, world, cook).available_cents == LUNCH
    line = _line(session, world, host)
    assert (line.pending_cents, line.available_cents) == (NIGHT, 0)
    with pytest.raises(AmountAboveAvailable):
        _pay(session, world, host, NIGHT, admin)

    # Late that evening, the hourly release still holds the night back.
    over = night_releases.night_over_at(booking.nights[0].night)
    assert over == datetime(2031, 5, 11, 5, tzinfo=UTC)  # midnight in Ecuador
    clock(over - timedelta(minutes=1))
    releases.release_started_departures(session, utcnow())
    assert _line(session, world, host).available_cents == 0

    # The night is over: the host family can be paid.
    clock(over + timedelta(hours=1))
    assert releases.release_started_departures(session, utcnow()) == 1
    line = _line(session, world, host)
    assert (line.pending_cents, line.available_cents) == (0, NIGHT)
    payout = _pay(session, world, host, NIGHT, admin)
    assert payout.amount_cents == NIGHT
    assert checks.check(session) == []

    # The host's statement: what was owed when, and the payout.
    who = payouts.as_beneficiary(world.association, host)
    before = statements.statement(session, who, (None, over))
    assert (before.pending_cents, before.available_cents, before.paid_cents) == (NIGHT, 0, 0)
    after = statements.statement(session, who)
    assert after.earned_cents == NIGHT
    assert (after.pending_cents, after.available_cents, after.paid_cents) == (0, 0, NIGHT)
