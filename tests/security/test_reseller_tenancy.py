"""Each reseller sees only its own bookings and sells only what it was given.

Two resellers of one association and one of another: every booking operation one reseller
tries on another's booking is answered as if the booking did not exist, and changes nothing.
The owner doing the same is the negative control: it works, so the refusals are not
accidents of a broken request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import octo_spec
from tourism.extensions import db
from tourism.models import BookingStatus, ChannelBooking

GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
}


def _call(client, key, method, path, url, body=None):
    response = client.open(
        "/octo" + url, method=method, json=body, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code, octo_spec.check(path, method, response)


@pytest.fixture
def world(app, make):
    experience = make.experience()
    departure = make.departure(experience, capacity=10, starts_in=timedelta(days=3))
    other_experience = make.experience()  # another association's
    _, owner = make.reseller(experiences=[experience])
    _, neighbour = make.reseller(association=experience.association, experiences=[experience])
    _, stranger = make.reseller(experiences=[other_experience])
    db.session.commit()
    return {
        "experience": experience,
        "departure": departure,
        "other": other_experience,
        "owner": owner,
        "neighbour": neighbour,
        "stranger": stranger,
    }


def _reserve(client, world, key):
    status, held = _call(
        client,
        key,
        "POST",
        "/bookings",
        "/bookings",
        {
            "productId": world["experience"].slug,
            "optionId": "DEFAULT",
            "availabilityId": str(world["departure"].id),
            "unitItems": [{"unitId": "adult"}],
            "resellerReference": "SHARED-REF",
        },
    )
    assert status == 200, held
    return held


OPERATIONS = [
    ("GET", "/bookings/{uuid}", "/bookings/{uuid}", None),
    ("PATCH", "/bookings/{uuid}", "/bookings/{uuid}", {"notes": "mine now"}),
    ("POST", "/bookings/{uuid}/extend", "/bookings/{uuid}/extend", {"expirationMinutes": 5}),
    ("POST", "/bookings/{uuid}/confirm", "/bookings/{uuid}/confirm", {"contact": GUEST}),
    ("POST", "/bookings/{uuid}/cancel", "/bookings/{uuid}/cancel", {"reason": "no"}),
]


def test_another_resellers_booking_does_not_exist(client, world):
    held = _reserve(client, world, world["owner"])
    uuid, reference = held["uuid"], held["supplierReference"]
    for other in ("neighbour", "stranger"):
        for method, path, url, body in OPERATIONS:
            status, answer = _call(client, world[other], method, path, url.format(uuid=uuid), body)
            assert status == 400 and answer["error"] == "INVALID_BOOKING_UUID", (other, url)
        for query in (f"supplierReference={reference}", "resellerReference=SHARED-REF"):
            status, found = _call(client, world[other], "GET", "/bookings", f"/bookings?{query}")
            assert status == 200 and found == [], (other, query)
    channel = db.session.query(ChannelBooking).filter_by(uuid=uuid).one()
    assert channel.notes == "" and channel.booking.status == BookingStatus.HELD

    # Negative control: the owner does all of it.
    for method, path, url, body in OPERATIONS:
        status, answer = _call(client, world["owner"], method, path, url.format(uuid=uuid), body)
        assert status == 200, (url, answer)
    status, found = _call(
        client, world["owner"], "GET", "/bookings", f"/bookings?supplierReference={reference}"
    )
    assert [b["uuid"] for b in found] == [uuid]


def test_a_reseller_sees_only_the_products_it_was_given(client, world):
    slug, other = world["experience"].slug, world["other"].slug
    _, listed = _call(client, world["stranger"], "GET", "/products", "/products")
    assert [p["id"] for p in listed] == [other]
    status, answer = _call(client, world["stranger"], "GET", "/products/{id}", f"/products/{slug}")
    assert status == 400 and answer["error"] == "INVALID_PRODUCT_ID"
    status, answer = _call(
        client,
        world["stranger"],
        "POST",
        "/bookings",
        "/bookings",
        {
            "productId": slug,
            "optionId": "DEFAULT",
            "availabilityId": str(world["departure"].id),
            "unitItems": [{"unitId": "adult"}],
        },
    )
    assert status == 400 and answer["error"] == "INVALID_PRODUCT_ID"
    # Negative control: the owner may sell it.
    status, _ = _call(client, world["owner"], "GET", "/products/{id}", f"/products/{slug}")
    assert status == 200
    _, supplier = _call(client, world["stranger"], "GET", "/supplier", "/supplier")
    assert supplier["id"] == world["other"].association.slug
