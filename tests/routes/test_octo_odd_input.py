"""What a reseller's integration may send that no form would: dates at the end of the
calendar, digits that are not ASCII, a uuid in capitals, control characters, a party larger
than one booking takes, and changes to a hold whose time is up. Each is refused in OCTO's
error shape, or understood, and none ends in a server error."""

from __future__ import annotations

import uuid as uuid_module
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.routes import test_octo as shared
from tests.routes.test_octo import GUEST, _reserve_body
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, ChannelBooking
from tourism.services.channels import octo_errors, route_products

#: Fixtures shared with the other OCTO tests (found by pytest under these names).
octo, world = shared.octo, shared.world


def _bookings() -> int:
    return db.session.scalar(select(func.count(Booking.id)))


def _slot_query(world, **fields) -> dict:
    return {"productId": world["experience"].slug, "optionId": "DEFAULT", **fields}


LAST = "9999-12-31"


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/availability", {"localDate": LAST}),
        ("/availability", {"localDateStart": LAST, "localDateEnd": LAST}),
        ("/availability/calendar", {"localDateStart": LAST, "localDateEnd": LAST}),
        ("/availability", {"localDate": "1999-12-31"}),
    ],
)
def test_a_date_at_the_end_of_the_calendar_is_a_bad_request(octo, world, path, fields):
    refused = octo.post(path, _slot_query(world, **fields), status=400)
    assert refused["error"] == "BAD_REQUEST"
    assert "2999-12-31" in refused["errorMessage"]


def test_a_booking_search_at_the_end_of_the_calendar_is_a_bad_request(octo):
    refused = octo.get("/bookings", f"/bookings?localDate={LAST}", status=400)
    assert refused["error"] == "BAD_REQUEST"


@pytest.mark.parametrize("day", [LAST, "9999-12-25", "0001-01-01"])
def test_a_route_start_at_the_end_of_the_calendar_names_no_availability(day):
    with pytest.raises(octo_errors.OctoError) as refused:
        route_products.parse_start(day)
    assert refused.value.body()["error"] == "INVALID_AVAILABILITY_ID"


@pytest.mark.parametrize("written", ["²", "٧", "２", "07", " 7", "7 "])
def test_an_availability_id_is_written_in_ascii_digits_one_way(octo, world, written):
    before = _bookings()
    body = _reserve_body(world, availabilityId=written.replace("7", str(world["open"].id)))
    refused = octo.post("/bookings", body, status=400)
    assert refused["error"] == "INVALID_AVAILABILITY_ID"
    assert _bookings() == before
    # Asked about by id, such a slot is simply not found.
    ids = octo.post("/availability", _slot_query(world, availabilityIds=[written]))
    assert ids == []


def test_minutes_in_digits_that_are_not_ascii_are_a_bad_request(octo, world):
    refused = octo.post("/bookings", _reserve_body(world, expirationMinutes="²"), status=400)
    assert refused["error"] == "BAD_REQUEST"
    held = octo.post("/bookings", _reserve_body(world, expirationMinutes="20"))
    url = f"/bookings/{held['uuid']}"
    for path, method in (("/bookings/{uuid}/extend", "POST"), ("/bookings/{uuid}", "PATCH")):
        suffix = "/extend" if path.endswith("extend") else ""
        answer = octo.call(method, path, url + suffix, 400, json={"expirationMinutes": "³"})
        assert answer["error"] == "BAD_REQUEST"


def test_a_uuid_written_in_capitals_finds_its_booking(octo, world):
    written = str(uuid_module.uuid4()).upper()
    held = octo.post("/bookings", _reserve_body(world, uuid=written))
    assert held["uuid"] == written.lower()
    assert octo.get("/bookings/{uuid}", f"/bookings/{written}")["uuid"] == written.lower()
    confirmed = octo.post(
        "/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{written}/confirm"
    )
    assert confirmed["status"] == "CONFIRMED"
    # The same uuid in another case is the same booking, not a second one.
    again = octo.post("/bookings", _reserve_body(world, uuid=written.lower()), status=400)
    assert again["error"] == "INVALID_BOOKING_UUID"


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("reserve", {"notes": "ñ\x07\x1b[31m"}),
        ("reserve", {"resellerReference": "a\r\nb"}),
        ("confirm", {"contact": GUEST | {"firstName": "A\x07B"}}),
        ("confirm", {"contact": GUEST | {"lastName": "C\nD"}}),
        ("confirm", {"contact": GUEST | {"firstName": "Ana", "notes": "x\x1by"}}),
        ("patch", {"resellerReference": "a\r\nb"}),
        ("cancel", {"reason": "a\x1bb"}),
    ],
)
def test_control_characters_are_refused_as_the_forms_refuse_them(octo, world, where, body):
    if where == "reserve":
        refused = octo.post("/bookings", _reserve_body(world, **body), status=400)
        assert refused["error"] == "BAD_REQUEST"
        return
    held = octo.post("/bookings", _reserve_body(world))
    url = f"/bookings/{held['uuid']}"
    if where == "confirm":
        refused = octo.post("/bookings/{uuid}/confirm", body, url + "/confirm", status=400)
    elif where == "patch":
        refused = octo.call("PATCH", "/bookings/{uuid}", url, 400, json=body)
    else:
        refused = octo.post("/bookings/{uuid}/cancel", body, url + "/cancel", status=400)
    assert refused["error"] == "BAD_REQUEST"
    assert octo.get("/bookings/{uuid}", url)["status"] == "ON_HOLD"


def test_notes_may_have_several_lines(octo, world):
    held = octo.post("/bookings", _reserve_body(world, notes="Vegetarian.\nArrives by bus."))
    assert held["notes"] == "Vegetarian.\nArrives by bus."


def test_a_party_larger_than_one_booking_takes_is_not_available(octo, world, make):
    roomy = make.departure(world["experience"], capacity=40, starts_in=timedelta(days=6))
    db.session.commit()
    most = world["experience"].max_tickets_per_booking
    day = roomy.starts_at.date().isoformat()
    for many, available in ((most, True), (most + 1, False)):
        units = [{"id": "adult", "quantity": many}]
        [slot] = [
            s
            for s in octo.post("/availability", _slot_query(world, localDate=day, units=units))
            if s["id"] == str(roomy.id)
        ]
        assert slot["available"] is available, many
        [entry] = octo.post(
            "/availability/calendar",
            _slot_query(world, localDateStart=day, localDateEnd=day, units=units),
        )
        assert entry["available"] is available, many


def test_a_sold_out_day_keeps_its_capacity(octo, world):
    day = world["full"].starts_at.date().isoformat()
    [entry] = octo.post(
        "/availability/calendar", _slot_query(world, localDateStart=day, localDateEnd=day)
    )
    assert entry["status"] == "SOLD_OUT"
    assert (entry["vacancies"], entry["capacity"]) == (0, world["full"].capacity)


def test_a_hold_whose_time_is_up_cannot_be_changed_or_cancelled(octo, world):
    held = octo.post("/bookings", _reserve_body(world))
    channel = db.session.scalar(select(ChannelBooking).where(ChannelBooking.uuid == held["uuid"]))
    channel.booking.hold_expires_at = utcnow() - timedelta(seconds=1)  # not swept yet
    db.session.commit()
    url = f"/bookings/{held['uuid']}"
    assert octo.get("/bookings/{uuid}", url)["status"] == "EXPIRED"
    refused = octo.call("PATCH", "/bookings/{uuid}", url, 400, json={"notes": "x"})
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    refused = octo.post("/bookings/{uuid}/cancel", {}, url + "/cancel", status=400)
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    assert octo.get("/bookings/{uuid}", url)["status"] == "EXPIRED"


def test_an_availability_id_that_is_not_text_is_a_bad_request(octo, world):
    held = octo.post("/bookings", _reserve_body(world))
    url = f"/bookings/{held['uuid']}"
    body = {"availabilityId": world["open"].id}
    refused = octo.call("PATCH", "/bookings/{uuid}", url, 400, json=body)
    assert refused["error"] == "BAD_REQUEST"
    same = octo.call(
        "PATCH", "/bookings/{uuid}", url, 200, json={"availabilityId": held["availabilityId"]}
    )
    assert same["uuid"] == held["uuid"]


def test_a_child_alone_is_refused_as_the_product_says(octo, world):
    """The child unit says it is accompanied by an adult: a booking of children only is
    refused, with an adult it is taken."""
    [child] = [
        u
        for u in octo.get("/products/{id}", f"/products/{world['experience'].slug}")["options"][0][
            "units"
        ]
        if u["id"] == "child"
    ]
    assert child["restrictions"]["accompaniedBy"] == ["adult"]
    before = _bookings()
    alone = _reserve_body(world, unitItems=[{"unitId": "child"}, {"unitId": "child"}])
    refused = octo.post("/bookings", alone, status=400)
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    assert _bookings() == before
    with_adult = _reserve_body(world, unitItems=[{"unitId": "child"}, {"unitId": "adult"}])
    assert octo.post("/bookings", with_adult)["status"] == "ON_HOLD"


def test_a_booking_search_names_what_was_sent_and_does_not_cut_references(octo, world):
    refused = octo.get("/bookings", "/bookings?localDate=2026-02-30", status=400)
    assert (
        "localDate " in refused["errorMessage"] + " "
        and "localDateStart" not in (refused["errorMessage"])
    )
    held = octo.post("/bookings", _reserve_body(world, resellerReference="R" * 100))
    assert held["resellerReference"] == "R" * 100
    # A longer reference is no reference of ours: refused, not matched by its first 100.
    longer = "R" * 101
    too_long = octo.get("/bookings", f"/bookings?resellerReference={longer}", status=400)
    assert too_long["error"] == "BAD_REQUEST"
    found = octo.get("/bookings", f"/bookings?resellerReference={'R' * 100}")
    assert [b["uuid"] for b in found] == [held["uuid"]]
