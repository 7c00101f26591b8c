"""Routes across communities as OCTO products: a reseller's whole session on a route, every
answer checked against the OCTO document (``tests/octo_spec.py``), the route's room counted
over every leg and night, and every refusal in OCTO's error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.routes.test_octo import GUEST, Octo
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    ChannelBooking,
    ChannelRouteBooking,
    LegKind,
    RouteBooking,
)
from tourism.services.booking import availability as seats
from tourism.services.ledger import checks
from tourism.services.routes.availability import leg_day
from tourism.services.routes.changes import expire_route_holds

LEG_PRICE = 4500  # each of the three activities, per adult
NIGHT_PRICE = 2500  # each of the two nights, per person
PERSON = 3 * LEG_PRICE + 2 * NIGHT_PRICE  # 18 500


@pytest.fixture
def world(app, make):
    start = (utcnow() + timedelta(days=6)).date()
    route = make.route(start_date=start, capacities=(10, 3, 10), beds=(4, 4))
    first = route.legs[0].experience.association
    reseller, key = make.reseller(association=first, commission_bp=1_000)
    outsider, outsider_key = make.reseller(commission_bp=1_000)  # no part in the route
    db.session.commit()
    return {
        "route": route,
        "id": f"route:{route.slug}",
        "start": start,
        "reseller": reseller,
        "key": key,
        "outsider_key": outsider_key,
    }


@pytest.fixture
def octo(client, world):
    return Octo(client, world["key"])


def _reserve(world, people=2, **extra):
    return {
        "productId": world["id"],
        "optionId": "DEFAULT",
        "availabilityId": world["start"].isoformat(),
        "unitItems": [{"unitId": "adult"}] * people,
        **extra,
    }


def _leg_departures(route_booking):
    return [bl.booking.departure for bl in route_booking.legs]


def test_a_reseller_session_on_a_route(octo, world):
    route, start = world["route"], world["start"]
    listed = octo.get("/products")
    product = next(p for p in listed if p["id"] == world["id"])
    assert product == octo.get("/products/{id}", f"/products/{world['id']}")
    assert product["title"] == route.text("en").title  # octo/content, in English
    assert product["options"][0]["durationUnit"] == "day"
    unit, child = product["options"][0]["units"]
    # One person: three activities and two nights; 10 % commission on the activities only.
    assert (unit["id"], child["id"]) == ("adult", "child")
    assert unit["pricingFrom"][0]["retail"] == PERSON
    assert unit["pricingFrom"][0]["net"] == PERSON - 3 * 450

    calendar = octo.post(
        "/availability/calendar",
        {
            "productId": world["id"],
            "optionId": "DEFAULT",
            "localDateStart": (start - timedelta(days=1)).isoformat(),
            "localDateEnd": (start + timedelta(days=1)).isoformat(),
        },
    )
    assert [day["status"] for day in calendar] == ["CLOSED", "AVAILABLE", "CLOSED"]
    # Vacancies: the fewest over the legs (day 2's activity has 3 seats; the nights 4 beds).
    assert calendar[1]["vacancies"] == 3 and calendar[1]["available"]

    (slot,) = octo.post(
        "/availability",
        {
            "productId": world["id"],
            "optionId": "DEFAULT",
            "localDate": start.isoformat(),
            "units": [{"id": "adult", "quantity": 2}],
        },
    )
    assert slot["id"] == start.isoformat() and slot["available"] and slot["vacancies"] == 3
    assert slot["pricing"]["retail"] == 2 * PERSON

    held = octo.post("/bookings", _reserve(world, expirationMinutes=10, resellerReference="R-1"))
    uuid = held["uuid"]
    assert held["status"] == "ON_HOLD" and held["productId"] == world["id"]
    assert held["pricing"] == {
        "original": 2 * PERSON,
        "retail": 2 * PERSON,
        "net": 2 * (PERSON - 1350),
        "currency": "USD",
        "currencyPrecision": 2,
        "includedTaxes": [],
    }
    # One locked hold for all legs: every leg's departure lost two seats at once.
    sale = db.session.scalar(select(ChannelRouteBooking).where(ChannelRouteBooking.uuid == uuid))
    route_booking = sale.route_booking
    assert route_booking.status == BookingStatus.HELD
    assert [bl.booking.status for bl in route_booking.legs] == [BookingStatus.HELD] * 3
    lefts = [seats.seats_left(db.session, d, utcnow()) for d in _leg_departures(route_booking)]
    assert lefts == [8, 1, 8]
    assert all(
        bl.booking.hold_expires_at == route_booking.hold_expires_at
        for bl in sale.route_booking.legs
    )

    extended = octo.post(
        "/bookings/{uuid}/extend", {"expirationMinutes": 20}, f"/bookings/{uuid}/extend"
    )
    assert extended["utcExpiresAt"] > held["utcExpiresAt"]
    db.session.expire_all()
    # Every leg's hold moved with the route's: they lapse together.
    assert {bl.booking.hold_expires_at for bl in route_booking.legs} == {
        route_booking.hold_expires_at
    }
    assert route_booking.hold_expires_at > utcnow() + timedelta(minutes=19)

    confirmed = octo.post(
        "/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm"
    )
    assert confirmed["status"] == "CONFIRMED" and confirmed["utcExpiresAt"] is None
    db.session.expire_all()
    legs = [bl.booking for bl in sale.route_booking.legs]
    assert sale.route_booking.status == BookingStatus.CONFIRMED
    assert {b.status for b in legs} == {BookingStatus.CONFIRMED}
    assert sale.route_booking.contact_email == "ana@example.org"
    # The voucher: each community's guide checks the party in with its own leg's code.
    codes = [o["deliveryValue"] for o in confirmed["voucher"]["deliveryOptions"]]
    assert codes == [b.reference for b in legs]
    assert "/route-bookings/" in confirmed["voucher"]["manageUrl"]
    # Pay on arrival: each leg is due in cash to its community.
    assert [b.due_on_arrival_cents for b in legs] == [9000, 9000, 9000]

    read = octo.get("/bookings/{uuid}", f"/bookings/{uuid}")
    assert read["status"] == "CONFIRMED" and read["resellerReference"] == "R-1"
    assert read["availability"]["id"] == start.isoformat()
    # Listed as one booking (its legs never on their own), by either reference or its date.
    for query in (
        "resellerReference=R-1",
        f"supplierReference={read['supplierReference']}",
        f"localDate={start.isoformat()}",
        f"localDate={start.isoformat()}&productId={world['id']}",
    ):
        assert [b["uuid"] for b in octo.get("/bookings", f"/bookings?{query}")] == [uuid], query
    patched = octo.call(
        "PATCH", "/bookings/{uuid}", f"/bookings/{uuid}", json={"notes": "Vegetarian lunch"}
    )
    assert patched["notes"] == "Vegetarian lunch"
    refused = octo.call(
        "PATCH",
        "/bookings/{uuid}",
        f"/bookings/{uuid}",
        status=400,
        json={"availabilityId": (start + timedelta(days=1)).isoformat()},
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"

    cancelled = octo.post(
        "/bookings/{uuid}/cancel", {"reason": "Customer Requested"}, f"/bookings/{uuid}/cancel"
    )
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellation"]["reason"] == "Customer Requested"
    again = octo.post("/bookings/{uuid}/cancel", {}, f"/bookings/{uuid}/cancel")
    assert again["status"] == "CANCELLED"  # cancelling twice is harmless
    db.session.expire_all()
    lefts = [seats.seats_left(db.session, d, utcnow()) for d in _leg_departures(route_booking)]
    assert lefts == [10, 3, 10]


def test_a_route_is_not_sold_by_a_reseller_outside_it(client, world):
    outsider = Octo(client, world["outsider_key"])
    assert all(not p["id"].startswith("route:") for p in outsider.get("/products"))
    error = outsider.get("/products/{id}", f"/products/{world['id']}", status=400)
    assert error["error"] == "INVALID_PRODUCT_ID"
    refused = outsider.post("/bookings", _reserve(world), status=400)
    assert refused["error"] == "INVALID_PRODUCT_ID"


def test_route_and_experience_ids_never_collide(octo, world, make):
    # An experience whose slug is the route's: both are listed, each under its own id.
    experience = make.experience(
        association=world["reseller"].association, slug=world["route"].slug
    )
    world["reseller"].experiences = [experience]
    db.session.commit()
    ids = [p["id"] for p in octo.get("/products")]
    assert ids.count(world["route"].slug) == 1 and ids.count(world["id"]) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"productId": "route:no-such-route"}, "INVALID_PRODUCT_ID"),
        ({"optionId": "OTHER"}, "INVALID_OPTION_ID"),
        ({"availabilityId": "tomorrow"}, "INVALID_AVAILABILITY_ID"),
        ({"unitItems": [{"unitId": "resident"}]}, "INVALID_UNIT_ID"),
        ({"unitItems": [{"unitId": "adult"}, {"unitId": None}]}, "INVALID_UNIT_ID"),
        ({"unitItems": [{"unitId": "adult"}] * 4}, "UNPROCESSABLE_ENTITY"),  # 3 seats on day 2
        ({"unitItems": []}, "UNPROCESSABLE_ENTITY"),
        ({"expirationMinutes": 0}, "BAD_REQUEST"),
    ],
)
def test_bad_route_reservations_are_refused_and_change_nothing(octo, world, change, error):
    refused = octo.post("/bookings", _reserve(world) | change, status=400)
    assert refused["error"] == error
    assert db.session.scalar(select(RouteBooking.id)) is None
    assert db.session.scalar(select(Booking.id)) is None


def test_a_date_without_the_route_is_unprocessable(octo, world):
    body = _reserve(world, availabilityId=(world["start"] + timedelta(days=1)).isoformat())
    refused = octo.post("/bookings", body, status=400)
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    assert "cannot be booked" in refused["errorMessage"]


def test_a_full_night_closes_the_date_for_the_whole_route(octo, world, make):
    night = next(leg for leg in world["route"].legs if leg.kind == LegKind.HOMESTAY)
    night.homestay.capacity = 1
    db.session.commit()
    (day,) = octo.post(
        "/availability/calendar",
        {
            "productId": world["id"],
            "optionId": "DEFAULT",
            "localDateStart": world["start"].isoformat(),
            "localDateEnd": world["start"].isoformat(),
            "units": [{"id": "adult", "quantity": 2}],
        },
    )
    assert day["vacancies"] == 1 and not day["available"] and day["status"] == "SOLD_OUT"
    assert leg_day(world["start"], night) == world["start"]
    refused = octo.post("/bookings", _reserve(world), status=400)
    assert refused["error"] == "UNPROCESSABLE_ENTITY"


def test_an_expired_route_hold_cannot_be_confirmed_and_frees_its_seats(octo, world):
    held = octo.post("/bookings", _reserve(world, expirationMinutes=1))
    sale = db.session.scalar(select(ChannelRouteBooking))
    later = utcnow() + timedelta(minutes=2)
    with write_transactions():
        assert expire_route_holds(db.session, later) == 1
        db.session.commit()
    uuid = held["uuid"]
    read = octo.get("/bookings/{uuid}", f"/bookings/{uuid}")
    assert read["status"] == "EXPIRED"
    refused = octo.post(
        "/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm", status=400
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    refused = octo.post(
        "/bookings/{uuid}/extend", {"expirationMinutes": 5}, f"/bookings/{uuid}/extend", status=400
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    lefts = [seats.seats_left(db.session, d, utcnow()) for d in _leg_departures(sale.route_booking)]
    assert lefts == [10, 3, 10]


def test_a_route_uuid_cannot_be_used_twice(octo, world):
    held = octo.post("/bookings", _reserve(world, people=1))
    again = octo.post("/bookings", _reserve(world, people=1, uuid=held["uuid"]), status=400)
    assert again["error"] == "INVALID_BOOKING_UUID"
    # The legs' own channel bookings are not the reseller's to read.
    leg = db.session.scalar(select(ChannelBooking))
    missing = octo.get("/bookings/{uuid}", f"/bookings/{leg.uuid}", status=400)
    assert missing["error"] == "INVALID_BOOKING_UUID"
    assert checks.check(db.session) == []


def test_route_content_comes_in_the_language_asked(client, world):
    spanish = Octo(client, world["key"])
    spanish.headers = lambda: {
        "Authorization": f"Bearer {world['key']}",
        "Accept-Language": "es",
        "Octo-Capabilities": "octo/content",
    }
    product = spanish.get("/products/{id}", f"/products/{world['id']}")
    assert product["title"] == world["route"].text("es").title
    assert product["options"][0]["title"] == world["route"].text("es").title
    assert "pricingFrom" not in product["options"][0]["units"][0]  # no octo/pricing asked


def test_route_slots_by_id_and_unknown_ids(octo, world):
    start = world["start"].isoformat()
    body = {"productId": world["id"], "optionId": "DEFAULT", "availabilityIds": [start]}
    (slot,) = octo.post("/availability", body)
    assert slot["id"] == start
    other_day = (world["start"] + timedelta(days=1)).isoformat()
    assert octo.post("/availability", body | {"availabilityIds": [other_day]}) == []
    # An id that is no start date names no slot, like an unknown departure number.
    assert octo.post("/availability", body | {"availabilityIds": ["42", start]})[0]["id"] == start
    refused = octo.post(
        "/availability/calendar",
        {
            "productId": world["id"],
            "optionId": "DEFAULT",
            "localDateStart": start,
            "localDateEnd": "2000-01-01",
        },
        status=400,
    )
    assert refused["error"] == "BAD_REQUEST"
