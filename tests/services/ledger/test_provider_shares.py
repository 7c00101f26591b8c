"""The ledger of a booking's extras and homestay nights: each provider is credited its
items' amounts to the cent, the tickets alone are split by the rule, refunds take the
providers' part back like the rest, and the books stay balanced (``checks.check``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tourism.models import (
    AccountKind,
    BookingExtra,
    BookingNight,
    NightSide,
)
from tourism.services.ledger import checks, night_releases, releases
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.splits import Party
from tourism.services.operations import checkin
from tourism.timefmt import local

from .test_postings import AVAILABLE, PENDING, World, stripe_world, write_mode  # noqa: F401  (fixtures)


class Providers:
    """The world's booking with a lunch from a family that hosts no stop, a chocolate box
    from the association itself and a night at a third family's homestay."""

    def __init__(self, session, make, world: World) -> None:
        self.session, self.world = session, world
        a = world.association
        self.cook = make.family(a)
        self.host = make.family(a)
        self.lunch = make.route_extra(a, price=733, family=self.cook)
        self.box = make.route_extra(a, price=1_199)
        self.homestay = make.homestay(self.host, price=2_501)

    def booking(self, side=NightSide.AFTER, **kw):
        booking = self.world.booking(quantities={"adult": 2, "child": 1}, **kw)  # 11500
        day = local(self.world.departure.starts_at).date()
        booking.extras = [
            BookingExtra(extra=self.lunch, quantity=3, unit_price_cents=733),
            BookingExtra(extra=self.box, quantity=1, unit_price_cents=1_199),
        ]
        booking.nights = [
            BookingNight(
                homestay=self.homestay,
                night=day if side == NightSide.AFTER else day - timedelta(days=1),
                side=side,
                people=3,
                unit_price_cents=2_501,
            )
        ]
        booking.total_cents = 11_500 + booking.addons_cents
        self.session.flush()
        return booking

    def owed(self, family=None, state=PENDING) -> int:
        if family is None:
            account = ledger.account(
                self.session, AccountKind.ASSOCIATION_FUND, self.world.association, state=state
            )
        else:
            account = ledger.account(self.session, AccountKind.FAMILY, family=family, state=state)
        return -ledger.balance(self.session, account)


@pytest.fixture
def providers(session, make) -> Providers:
    return Providers(session, make, World(session, make))


LUNCH, BOX, NIGHT = 3 * 733, 1_199, 3 * 2_501


def test_a_card_payment_credits_each_provider_to_the_cent(session, providers):
    world = providers.world
    booking = providers.booking()
    assert booking.addons_cents == LUNCH + BOX + NIGHT
    world.card(booking, fee=517)
    assert providers.owed(providers.cook) == LUNCH
    assert providers.owed(providers.host) == NIGHT
    # The tickets alone are split by the rule, and bear the processor's fee.
    expected = world.expected(11_500, 517, 3)
    for (party, member), cents in expected.items():
        extra = BOX if party == Party.ASSOCIATION_FUND else 0
        assert world.owed(party, member) == cents + extra
    assert checks.check(session) == []


def test_a_deposit_then_cash_credits_each_provider_exactly_once(session, providers):
    world = providers.world
    booking = providers.booking(payment_method="deposit")
    deposit = world.card(booking, amount=3_333, fee=101)
    rest = booking.total_cents - deposit.amount_cents
    checkin.record_cash(session, booking, rest, world.guide, world.now, "c-rest")
    assert providers.owed(providers.cook) == LUNCH
    assert providers.owed(providers.host) == NIGHT
    fund = providers.owed()
    fixed_fund = world.expected(11_500, 101, 3)[Party.ASSOCIATION_FUND, None]
    assert abs(fund - (fixed_fund + BOX)) <= 2  # the tickets' split, in two parts
    assert checks.check(session) == []


def test_a_full_refund_takes_the_providers_part_back(session, providers):
    world = providers.world
    booking = providers.booking()
    payment = world.card(booking, fee=0)
    world.refund(payment, booking.total_cents)
    assert providers.owed(providers.cook) == 0
    assert providers.owed(providers.host) == 0
    assert providers.owed() == 0
    assert checks.check(session) == []


def test_a_provider_hosting_no_stop_is_released_once_the_departure_ran(session, providers):
    world = providers.world
    booking = providers.booking(side=NightSide.BEFORE)
    world.card(booking, fee=0)
    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    assert providers.owed(providers.cook, PENDING) == 0
    assert providers.owed(providers.cook, AVAILABLE) == LUNCH
    # The night before the activity is over once it starts: its host is released with it.
    assert providers.owed(providers.host, AVAILABLE) == NIGHT
    assert checks.check(session) == []


def test_a_night_after_the_departure_is_released_once_the_night_is_over(session, providers):
    world = providers.world
    booking = providers.booking()
    world.card(booking, fee=0)
    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    assert providers.owed(providers.cook, AVAILABLE) == LUNCH
    assert providers.owed(providers.host, PENDING) == NIGHT
    over = night_releases.night_over_at(booking.nights[0].night)
    releases.release_departure(session, world.departure, over - timedelta(seconds=1))
    assert providers.owed(providers.host, AVAILABLE) == 0
    releases.release_departure(session, world.departure, over)
    releases.release_departure(session, world.departure, over)  # released once
    assert providers.owed(providers.host, PENDING) == 0
    assert providers.owed(providers.host, AVAILABLE) == NIGHT
    assert checks.check(session) == []


def test_a_booking_without_addons_is_posted_as_before(session, providers):
    world = providers.world
    booking = world.booking(quantities={"adult": 2, "child": 1})
    world.card(booking, fee=365)
    for (party, member), cents in world.expected(11_500, 365, 3).items():
        assert world.owed(party, member) == cents
    assert checks.check(session) == []


def test_a_card_booking_with_extras_cancelled_gives_the_providers_part_back(
    stripe_world,  # noqa: F811  (the fixture imported above)
    gateway,
):
    """Through the real paths: held with its extras and night, paid by card at the Stripe
    emulator, cancelled under a 100% policy; the providers give back all they were credited
    and the extra's stock is free again."""
    from datetime import timedelta

    from tests.services.booking.test_lifecycle import request_for
    from tourism.database import utcnow
    from tourism.services.booking import addon_stock, addons, lifecycle
    from tourism.services.payments import intents, refunds
    from tourism.services.payments import online as payments

    world = stripe_world
    session, make = world.session, world.make
    providers = Providers(session, make, world)
    providers.lunch.stock = 5
    world.experience.extras = [providers.lunch]
    departure = make.departure(world.experience, starts_in=timedelta(days=5))
    make.assign(departure, world.guide)
    request = request_for(departure, adult=2)
    request.payment_method = "card"
    request.addons = addons.AddonRequest(
        extras={providers.lunch.id: 2}, nights={"before": providers.homestay.id}
    )
    booking = lifecycle.hold_seats(
        session, request, utcnow(), timedelta(minutes=30), ["es", "en"], offered_methods=["card"]
    )
    assert booking.total_cents == 2 * 4500 + 2 * 733 + 2 * 2_501
    start = payments.start_payment(session, booking, gateway, utcnow(), timedelta(minutes=30))
    gateway.confirm_intent(start.payment.provider_ref, "pm_card_visa")
    intent = gateway.retrieve_intent(start.payment.provider_ref)
    assert intents.apply_intent(session, intent, gateway, utcnow()) == "confirmed"
    assert providers.owed(providers.cook) == 2 * 733
    assert providers.owed(providers.host) == 2 * 2_501
    assert addon_stock.extra_units_left(session, providers.lunch, utcnow()) == 3
    assert checks.check(session) == []

    assert refunds.cancel_with_refund(session, booking, gateway, utcnow()) == booking.total_cents
    assert refunds.finish_refunds(session, gateway)["paid"]
    assert providers.owed(providers.cook) == 0
    assert providers.owed(providers.host) == 0
    assert addon_stock.extra_units_left(session, providers.lunch, utcnow()) == 5
    assert checks.check(session) == []
