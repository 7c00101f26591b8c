"""A route sold by a reseller: one hold for every leg, and its money by the rules of a
channel booking of one experience (commission on the activity legs, the prepaid reseller's
receivable), to the cent, with the ledger check clean."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.services.reports.test_revenue import clock  # noqa: F401  (fixture)
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.jobs import periodic
from tourism.models import BookingStatus, PayoutMethod, Role, WebhookDelivery
from tourism.models.ledger import AccountKind, AccountState
from tourism.services.channels import reservations, route_sales, webhooks
from tourism.services.ledger import checks, reseller_postings
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.night_releases import night_over_at
from tourism.services.payments import route_refunds
from tourism.services.payments.refunds import cancel_departure
from tourism.services.routes import extra_releases, night_releases, settlement
from tourism.services.treasury import payouts
from tourism.services.treasury.payouts import AmountAboveAvailable
from tourism.unit_of_work import unit_of_work

TERMS = reservations.Terms(hold_max=timedelta(minutes=30), languages=["es", "en"])
GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
}
#: Three activities at 45.00 and two nights at 25.00 per person; 12.5 % on the activities.
LEGS, NIGHTS = 3 * 4500, 2 * 2500
COMMISSION = 3 * 563  # 562.5 rounds to 563 per ticket, as on any channel booking


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


def _world(make, prepaid: bool):
    start = (utcnow() + timedelta(days=6)).date()
    route = make.route(start_date=start, curator_fee_cents=300)
    association = route.legs[0].experience.association
    route.curator_association_id = association.id
    reseller, _ = make.reseller(association=association, commission_bp=1_250, prepaid=prepaid)
    db.session.commit()
    return route, reseller, start


def _sell(route, reseller, start, people=2, children=0):
    body = {
        "productId": f"route:{route.slug}",
        "optionId": "DEFAULT",
        "availabilityId": start.isoformat(),
        "unitItems": [{"unitId": "adult"}] * people + [{"unitId": "child"}] * children,
        "resellerReference": "VCH-9",
    }
    now = utcnow()
    with unit_of_work():
        sale = route_sales.reserve_route(db.session, reseller, body, now, TERMS)
        route_sales.confirm_route(db.session, sale, {"contact": GUEST}, now, TERMS)
    return sale


def _balance(kind, reseller):
    return ledger.balance(db.session, ledger.account(db.session, kind, reseller=reseller))


def test_paid_on_arrival_the_commission_is_owed_as_each_community_collects(app, make):
    route, reseller, start = _world(make, prepaid=False)
    sale = _sell(route, reseller, start)
    route_booking = sale.route_booking
    assert route_booking.total_cents == 2 * (LEGS + NIGHTS + 300)
    assert _balance(AccountKind.RESELLER_COMMISSION, reseller) == 0  # nothing collected yet
    parts = settlement.community_parts(route_booking)
    for part in parts:
        with unit_of_work():
            settlement.record_route_cash(
                db.session, route_booking, part.association, None, utcnow()
            )
    # The commission on every leg's two tickets, credited to the reseller as the cash came in;
    # the nights and the curator's fee reached the families and the curator whole.
    assert _balance(AccountKind.RESELLER_COMMISSION, reseller) == -2 * COMMISSION
    assert all(settlement.part_outstanding_cents(db.session, route_booking, p) == 0 for p in parts)
    assert checks.check(db.session) == []


def test_a_prepaid_reseller_owes_the_route_less_its_commission(app, make):
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    route_booking = sale.route_booking
    total = route_booking.total_cents
    assert reseller_postings.owed(db.session, reseller) == total - 2 * COMMISSION
    assert _balance(AccountKind.RESELLER_COMMISSION, reseller) == 0  # kept out of the money
    # The guest paid the reseller: nothing is due to any community on arrival.
    assert [bl.booking.due_on_arrival_cents for bl in route_booking.legs] == [0, 0, 0]
    for part in settlement.community_parts(route_booking):
        assert settlement.part_outstanding_cents(db.session, route_booking, part) == 0
        with unit_of_work():
            assert (
                settlement.record_route_cash(
                    db.session, route_booking, part.association, None, utcnow()
                )
                == 0
            )
    assert checks.check(db.session) == []
    # The statement: each leg as a booking (price less commission), the nights and the
    # curator's fee as one line of the route; together what the reseller owes.
    statement = reseller_postings.statement(db.session, reseller)
    assert statement.sold_cents == reseller_postings.owed(db.session, reseller)
    assert [line.reference for line in statement.lines][-1] == route_booking.reference
    assert statement.lines[-1].owed_cents == 2 * (NIGHTS + 300)

    with unit_of_work():
        route_sales.cancel_route(db.session, sale, {"reason": "Customer Requested"}, utcnow())
    assert route_booking.status == BookingStatus.CANCELLED
    assert reseller_postings.owed(db.session, reseller) == 0
    assert checks.check(db.session) == []
    assert reseller_postings.route_stay_sale(db.session, route_booking) is None


def test_a_prepaid_reseller_owes_a_childs_route_at_the_child_prices(app, make):
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start, people=1, children=1)
    route_booking = sale.route_booking
    # Each activity charges the child its child price (25.00), commission per ticket.
    child_legs, child_commission = 3 * 2500, 3 * 313  # 312.5 rounds to 313
    assert route_booking.total_cents == LEGS + child_legs + 2 * (NIGHTS + 300)
    owed = route_booking.total_cents - COMMISSION - child_commission
    assert reseller_postings.owed(db.session, reseller) == owed
    assert checks.check(db.session) == []


def test_confirming_twice_posts_once(app, make):
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    owed = reseller_postings.owed(db.session, reseller)
    with unit_of_work():
        route_sales.confirm_route(db.session, sale, {"contact": GUEST}, utcnow(), TERMS)
    assert reseller_postings.owed(db.session, reseller) == owed


def test_a_leg_cancelled_for_weather_is_posted_to_the_reseller_as_its_route(app, make):
    route, reseller, start = _world(make, prepaid=False)
    reseller.webhook_url, reseller.webhook_secret = "https://hooks.example/octo", "whsec_x"
    db.session.commit()
    sale = _sell(route, reseller, start)
    departure = sale.route_booking.legs[1].booking.departure
    with unit_of_work():
        cancel_departure(db.session, departure, "River too high", None, utcnow())
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert delivery.event == webhooks.EVENT_BOOKING_UPDATE
    body = json.loads(delivery.payload)["booking"]
    assert body["uuid"] == sale.uuid and body["productId"] == f"route:{route.slug}"
    assert body["supplierReference"] == sale.route_booking.reference
    assert body["availabilityId"] == start.isoformat()
    assert body["cancellationReason"] == "River too high"


def test_the_ledger_check_finds_a_prepaid_route_whose_stay_was_never_posted(app, make):
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    assert checks.check(db.session) == []
    standing = reseller_postings.route_stay_sale(db.session, sale.route_booking)
    with unit_of_work():
        ledger.reverse(db.session, standing, memo="a mistaken correction")
    assert checks.check(db.session) == [
        f"prepaid route {sale.route_booking.reference} is confirmed but its stay is not posted"
    ]


def test_a_guest_cancelling_a_prepaid_route_on_its_page_undoes_the_sale(app, make):
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    with unit_of_work():
        route_refunds.cancel_route(db.session, sale.route_booking, None, utcnow())
    assert sale.route_booking.status == BookingStatus.CANCELLED
    assert reseller_postings.owed(db.session, reseller) == 0
    assert checks.check(db.session) == []


def test_a_guest_cancelling_a_resold_route_on_its_page_is_posted_to_the_reseller_once(app, make):
    route, reseller, start = _world(make, prepaid=False)
    reseller.webhook_url, reseller.webhook_secret = "https://hooks.example/octo", "whsec_x"
    db.session.commit()
    sale = _sell(route, reseller, start)
    with unit_of_work():
        route_refunds.cancel_route(db.session, sale.route_booking, None, utcnow())
    delivery = db.session.scalars(select(WebhookDelivery)).one()  # one post for the route
    body = json.loads(delivery.payload)["booking"]
    assert body["uuid"] == sale.uuid and body["status"] == "CANCELLED"
    assert body["cancellationReason"] == "cancelled by the guest"


# A prepaid reseller's route: each night reaches its family once it has happened ------------


def _families(route_booking):
    first, second = sorted(route_booking.nights, key=lambda n: n.night)
    return first, second


def _held(family):
    """The family's (pending, available) cents on the ledger (negative: it owes)."""
    return tuple(
        -ledger.balance(
            db.session, ledger.account(db.session, AccountKind.FAMILY, family=family, state=state)
        )
        for state in (AccountState.PENDING, AccountState.AVAILABLE)
    )


def _pay_out(make, family, cents):
    admin = make.user(memberships=[(family.association, Role.ADMIN)])
    with unit_of_work():
        return payouts.record_payout(
            db.session, family.association, family, cents, PayoutMethod.CASH, "", admin, utcnow()
        )


def _release(now):
    with unit_of_work():
        return night_releases.release_route_nights(db.session, now)


def test_a_prepaid_route_pays_each_family_once_its_night_has_happened(app, make, clock):  # noqa: F811
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    first, second = _families(sale.route_booking)
    one, two = first.homestay.family, second.homestay.family
    night = 2 * 2500
    # Sold: both nights wait, pending; no payout can include them.
    assert _held(one) == (night, 0) and _held(two) == (night, 0)
    with pytest.raises(AmountAboveAvailable):
        _pay_out(make, one, night)
    _release(utcnow())
    assert _held(one) == (night, 0)

    clock(night_over_at(first.night) + timedelta(hours=1))
    assert _release(utcnow()) == 1
    assert _held(one) == (0, night) and _held(two) == (night, 0)
    assert _pay_out(make, one, night).amount_cents == night
    with pytest.raises(AmountAboveAvailable):
        _pay_out(make, two, 1)

    clock(night_over_at(second.night) + timedelta(hours=1))
    _release(utcnow())
    _release(utcnow())  # once
    assert _held(two) == (0, night)
    assert _held(one) == (0, 0)  # paid out
    assert checks.check(db.session) == []


def test_a_prepaid_route_cancelled_before_its_nights_leaves_no_family_owing(app, make, clock):  # noqa: F811
    route, reseller, start = _world(make, prepaid=True)
    sale = _sell(route, reseller, start)
    first, second = _families(sale.route_booking)
    families = (first.homestay.family, second.homestay.family)
    for family in families:
        assert _held(family) == (2 * 2500, 0)
        with pytest.raises(AmountAboveAvailable):
            _pay_out(make, family, 2 * 2500)
    with unit_of_work():
        route_sales.cancel_route(db.session, sale, {"reason": "Customer Requested"}, utcnow())
    for family in families:
        assert _held(family) == (0, 0)
    clock(night_over_at(second.night) + timedelta(hours=1))
    _release(utcnow())
    for family in families:
        assert _held(family) == (0, 0)
    assert reseller_postings.owed(db.session, reseller) == 0
    assert checks.check(db.session) == []


# A prepaid reseller's route: its curator's fee reaches the curator once the route started --


def _curated_world(make):
    """A prepaid reseller's route the platform curates (its fee credited to the platform)."""
    route, reseller, start = _world(make, prepaid=True)
    route.curator_association_id = None
    db.session.commit()
    return route, reseller, start


def _platform():
    """The platform's (pending, available) cents on the ledger: the curator's fee."""
    return tuple(
        -ledger.balance(db.session, ledger.account(db.session, AccountKind.PLATFORM, state=state))
        for state in (AccountState.PENDING, AccountState.AVAILABLE)
    )


def _hourly_run():
    with unit_of_work():
        periodic.release_shares(db.session, {}, "release-shares")


def test_a_prepaid_routes_curator_fee_is_released_once_the_route_has_started(app, make, clock):  # noqa: F811
    route, reseller, start = _curated_world(make)
    sale = _sell(route, reseller, start)
    route_booking = sale.route_booking
    fee = 2 * 300
    # Sold: the fee waits, pending, as the nights do.
    assert _platform() == (fee, 0)
    _hourly_run()
    assert _platform() == (fee, 0)
    started = extra_releases.started_at(route_booking)
    clock(started - timedelta(minutes=1))
    _hourly_run()
    assert _platform() == (fee, 0)

    # The first leg has departed: the hourly run releases the fee, not the nights.
    clock(started + timedelta(hours=1))
    _hourly_run()
    assert _platform() == (0, fee)
    for night in route_booking.nights:
        assert _held(night.homestay.family) == (2 * 2500, 0)
    clock(night_over_at(max(n.night for n in route_booking.nights)) + timedelta(hours=1))
    _hourly_run()
    _hourly_run()  # once
    assert _platform() == (0, fee)
    for night in route_booking.nights:
        assert _held(night.homestay.family) == (0, 2 * 2500)
    assert checks.check(db.session) == []


def test_a_prepaid_route_cancelled_before_it_starts_owes_the_curator_nothing(app, make, clock):  # noqa: F811
    route, reseller, start = _curated_world(make)
    sale = _sell(route, reseller, start)
    assert _platform() == (2 * 300, 0)
    with unit_of_work():
        route_sales.cancel_route(db.session, sale, {"reason": "Customer Requested"}, utcnow())
    assert _platform() == (0, 0)
    clock(extra_releases.started_at(sale.route_booking) + timedelta(hours=1))
    _hourly_run()
    assert _platform() == (0, 0)
    assert reseller_postings.owed(db.session, reseller) == 0
    assert checks.check(db.session) == []
