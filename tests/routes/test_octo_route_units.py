"""A route sold through OCTO for every unit the website sells on it, not adults only: a
reseller's session with two adults and a child, each answer checked against the OCTO
document, each leg charging its own experience's price of the category, the ledger split
per leg and category as on the website, and units the route does not sell refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.routes.test_octo import GUEST, Octo
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Booking, ChannelRouteBooking, Payment, PriceCategory, RouteBooking
from tourism.models.ledger import AccountKind
from tourism.services.booking import availability as seats
from tourism.services.channels import route_units
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.routes import settlement
from tourism.unit_of_work import unit_of_work

ADULT = 3 * 4500 + 2 * 2500  # three activities and two nights: 18 500
#: The child's price of each activity: the second one charges children 30.00, not 25.00.
CHILD_LEGS = (2500, 3000, 2500)
CHILD = sum(CHILD_LEGS) + 2 * 2500  # the nights are per person whatever the age: 13 000
ADULT_COMMISSION = 3 * 450  # 10 % of each activity's ticket
CHILD_COMMISSION = 250 + 300 + 250


@pytest.fixture
def world(app, make):
    start = (utcnow() + timedelta(days=6)).date()
    route = make.route(start_date=start, capacities=(10, 3, 10))
    experiences = [leg.experience for leg in route.legs if leg.experience is not None]
    next(pc for pc in experiences[1].price_categories if pc.code == "child").price_cents = 3000
    # Residents are sold on the first activity only: the website sells them (at the adult
    # price elsewhere), but a reseller's unit must hold on every leg.
    experiences[0].price_categories.append(
        PriceCategory(code="resident", price_cents=2000, position=2)
    )
    reseller, key = make.reseller(
        association=experiences[0].association, commission_bp=1_000, prepaid=False
    )
    db.session.commit()
    return {"route": route, "id": f"route:{route.slug}", "start": start, "key": key}


@pytest.fixture
def octo(client, world):
    return Octo(client, world["key"])


def _people(adults=2, children=1):
    return [{"unitId": "adult"}] * adults + [{"unitId": "child"}] * children


def _reserve(world, items, **extra):
    return {
        "productId": world["id"],
        "optionId": "DEFAULT",
        "availabilityId": world["start"].isoformat(),
        "unitItems": items,
        **extra,
    }


def _price(retail, net):
    return {
        "original": retail,
        "retail": retail,
        "net": net,
        "currency": "USD",
        "currencyPrecision": 2,
        "includedTaxes": [],
    }


def test_units_are_the_categories_every_activity_sells(world):
    route = world["route"]
    assert route_units.unit_codes(route) == ["adult", "child"]
    prices = route_units.unit_prices(route, 1_000)
    assert prices["child"].retail_cents == CHILD
    assert prices["child"].commission_cents == CHILD_COMMISSION
    # Without a child price on one activity, children are no unit of the route.
    experience = route.legs[-1].experience
    next(pc for pc in experience.price_categories if pc.code == "child").is_active = False
    assert route_units.unit_codes(route) == ["adult"]


def test_a_reseller_sells_a_route_to_two_adults_and_a_child(octo, world):
    start = world["start"].isoformat()
    product = octo.get("/products/{id}", f"/products/{world['id']}")
    adult, child = product["options"][0]["units"]
    assert (adult["type"], child["type"]) == ("ADULT", "CHILD")
    assert child["restrictions"]["accompaniedBy"] == ["adult"]
    assert adult["pricingFrom"] == [_price(ADULT, ADULT - ADULT_COMMISSION)]
    assert child["pricingFrom"] == [_price(CHILD, CHILD - CHILD_COMMISSION)]

    mixed = [{"id": "adult", "quantity": 2}, {"id": "child", "quantity": 1}]
    body = {"productId": world["id"], "optionId": "DEFAULT", "localDate": start}
    (slot,) = octo.post("/availability", body | {"units": mixed})
    assert slot["available"] and slot["vacancies"] == 3
    assert [p["unitId"] for p in slot["unitPricing"]] == ["adult", "child"]
    assert slot["unitPricing"][1]["retail"] == CHILD
    total = _price(2 * ADULT + CHILD, 2 * (ADULT - ADULT_COMMISSION) + CHILD - CHILD_COMMISSION)
    assert slot["pricing"] == total
    # Four people do not fit day 2's three seats, whatever their units.
    too_many = [{"id": "adult", "quantity": 2}, {"id": "child", "quantity": 2}]
    (full,) = octo.post("/availability", body | {"units": too_many})
    assert not full["available"] and full["status"] == "SOLD_OUT"
    calendar = octo.post(
        "/availability/calendar",
        {"productId": world["id"], "optionId": "DEFAULT", "localDateStart": start}
        | {"localDateEnd": start, "units": mixed},
    )
    assert calendar[0]["available"]

    # The reseller lists the child between the adults: the sale is the same.
    held = octo.post("/bookings", _reserve(world, _people(1, 1) + _people(1, 0)))
    uuid = held["uuid"]
    assert held["pricing"] == total
    items = held["unitItems"]
    assert [i["unitId"] for i in items] == ["adult", "adult", "child"]
    assert [i["pricing"]["retail"] for i in items] == [ADULT, ADULT, CHILD]
    assert items[2]["unit"]["id"] == "child"
    assert len({i["uuid"] for i in items}) == 3

    confirmed = octo.post(
        "/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm"
    )
    assert confirmed["status"] == "CONFIRMED" and confirmed["pricing"] == total
    # The same tickets in another order change nothing; other tickets are refused.
    patch = {"unitItems": _people(2, 1)[::-1], "notes": "Child is 8"}
    patched = octo.call("PATCH", "/bookings/{uuid}", f"/bookings/{uuid}", json=patch)
    assert patched["notes"] == "Child is 8"
    refused = octo.call(
        "PATCH",
        "/bookings/{uuid}",
        f"/bookings/{uuid}",
        status=400,
        json={"unitItems": _people(3, 0)},
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"

    # Each leg booked its own experience's price per category, as the website books it.
    sale = db.session.scalar(select(ChannelRouteBooking).where(ChannelRouteBooking.uuid == uuid))
    route_booking = sale.route_booking
    assert route_booking.people == 3
    assert route_booking.total_cents == 2 * ADULT + CHILD
    legs = [bl.booking for bl in sorted(route_booking.legs, key=lambda bl: bl.id)]
    assert [
        sorted((ln.price_category.code, ln.quantity, ln.unit_price_cents) for ln in b.lines)
        for b in legs
    ] == [[("adult", 2, 4500), ("child", 1, cents)] for cents in CHILD_LEGS]
    lefts = [seats.seats_left(db.session, b.departure, utcnow()) for b in legs]
    assert lefts == [7, 0, 7]

    assert [b.due_on_arrival_cents for b in legs] == [9000 + c for c in CHILD_LEGS]
    # Each community collects its part; the ledger splits each leg's tickets by its rule.
    with write_transactions():
        for part in settlement.community_parts(route_booking):
            with unit_of_work():
                settlement.record_route_cash(
                    db.session, route_booking, part.association, None, utcnow()
                )
    paid = [
        db.session.scalars(select(Payment.amount_cents).where(Payment.booking_id == b.id))
        for b in legs
    ]
    assert [list(p) for p in paid] == [[9000 + c] for c in CHILD_LEGS]
    assert [b.due_on_arrival_cents for b in legs] == [0, 0, 0]
    commission = ledger.balance(
        db.session,
        ledger.account(db.session, AccountKind.RESELLER_COMMISSION, reseller=sale.reseller),
    )
    assert commission == -(2 * ADULT_COMMISSION + CHILD_COMMISSION)
    assert checks.check(db.session) == []


@pytest.mark.parametrize(
    "items",
    [
        [{"unitId": "adult"}, {"unitId": "resident"}],  # sold on one activity only
        [{"unitId": "adult"}, {"unitId": "infant"}],
        [{"unitId": "adult"}, {}],
    ],
)
def test_a_unit_the_route_does_not_sell_is_refused_and_changes_nothing(octo, world, items):
    refused = octo.post("/bookings", _reserve(world, items), status=400)
    assert refused["error"] == "INVALID_UNIT_ID"
    assert db.session.scalar(select(RouteBooking.id)) is None
    assert db.session.scalar(select(Booking.id)) is None


@pytest.mark.parametrize("path", ["/availability", "/availability/calendar"])
def test_availability_of_a_unit_the_route_does_not_sell_is_refused(octo, world, path):
    start = world["start"].isoformat()
    body = {
        "productId": world["id"],
        "optionId": "DEFAULT",
        "localDateStart": start,
        "localDateEnd": start,
        "units": [{"id": "adult", "quantity": 1}, {"id": "resident", "quantity": 1}],
    }
    refused = octo.post(path, body, status=400)
    assert refused["error"] == "INVALID_UNIT_ID"
    assert "resident" in refused["errorMessage"]
