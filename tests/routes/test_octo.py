"""The OCTO supplier API: a reseller's whole session, every answer checked against the OCTO
document (``tests/octo_spec.py``), and every kind of refusal in OCTO's error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import octo_spec
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, DepartureStatus
from tourism.services.booking import availability as seats
from tourism.services.operations.manifest import manifest
from tourism.timefmt import local

CAPS = "octo/pricing, octo/content"


class Octo:
    """A reseller's client: its key on every request, every answer validated."""

    def __init__(self, client, key: str, caps: str = CAPS) -> None:
        self.client, self.key, self.caps = client, key, caps

    def headers(self) -> dict:
        headers = {"Authorization": f"Bearer {self.key}", "Accept-Language": "en"}
        if self.caps:
            headers["Octo-Capabilities"] = self.caps
        return headers

    def call(self, method: str, path: str, url: str | None = None, status=200, **kw):
        response = self.client.open(
            "/octo" + (url or path), method=method, headers=self.headers(), **kw
        )
        assert response.status_code == status, (url or path, response.get_json())
        return octo_spec.check(path, method, response)

    def get(self, path, url=None, status=200):
        return self.call("GET", path, url, status)

    def post(self, path, body, url=None, status=200):
        return self.call("POST", path, url, status, json=body)


@pytest.fixture
def world(app, make):
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    make.stop(experience, family=make.family(experience.association))
    open_ = make.departure(experience, capacity=8, starts_in=timedelta(days=3))
    full = make.departure(experience, capacity=2, starts_in=timedelta(days=4))
    make.booking(full, quantities={"adult": 2})
    cancelled = make.departure(
        experience, capacity=8, starts_in=timedelta(days=5), status=DepartureStatus.CANCELLED
    )
    not_sold = make.experience(association=experience.association)
    reseller, key = make.reseller(experiences=[experience], commission_bp=1_500)
    db.session.commit()
    return {
        "experience": experience,
        "open": open_,
        "full": full,
        "cancelled": cancelled,
        "not_sold": not_sold,
        "reseller": reseller,
        "key": key,
    }


@pytest.fixture
def octo(client, world):
    return Octo(client, world["key"])


def _reserve_body(world, **extra):
    return {
        "productId": world["experience"].slug,
        "optionId": "DEFAULT",
        "availabilityId": str(world["open"].id),
        "unitItems": [{"unitId": "adult"}, {"unitId": "adult"}, {"unitId": "child"}],
        **extra,
    }


GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
    "locales": ["es-EC", "en"],
}


def test_a_reseller_session_from_products_to_cancellation(octo, world, app):
    experience, open_ = world["experience"], world["open"]
    supplier = octo.get("/supplier")
    assert supplier["name"] == experience.association.name

    listed = octo.get("/products")
    assert [p["id"] for p in listed] == [experience.slug]  # not the one it may not sell
    product = octo.get("/products/{id}", f"/products/{experience.slug}")
    option = product["options"][0]
    assert option["id"] == "DEFAULT" and product["availabilityType"] == "START_TIME"
    adult = next(u for u in option["units"] if u["id"] == "adult")
    assert adult["type"] == "ADULT"
    # octo/pricing: integer cents; net is the retail price less the 15 % commission.
    assert adult["pricingFrom"][0] | {} == {
        "original": 4500,
        "retail": 4500,
        "net": 3825,
        "currency": "USD",
        "currencyPrecision": 2,
        "includedTaxes": [],
    }
    assert product["title"].startswith("Test route")  # octo/content, in English

    first_day = local(open_.starts_at).date()
    calendar = octo.post(
        "/availability/calendar",
        {
            "productId": experience.slug,
            "optionId": "DEFAULT",
            "localDateStart": first_day.isoformat(),
            "localDateEnd": (first_day + timedelta(days=2)).isoformat(),
        },
    )
    assert [day["status"] for day in calendar] == ["AVAILABLE", "SOLD_OUT", "CLOSED"]
    assert calendar[0]["vacancies"] == 8

    slots = octo.post(
        "/availability",
        {
            "productId": experience.slug,
            "optionId": "DEFAULT",
            "localDateStart": first_day.isoformat(),
            "localDateEnd": (first_day + timedelta(days=2)).isoformat(),
            "units": [{"id": "adult", "quantity": 2}],
        },
    )
    by_id = {slot["id"]: slot for slot in slots}
    assert by_id[str(open_.id)]["available"] and by_id[str(open_.id)]["vacancies"] == 8
    assert by_id[str(open_.id)]["pricing"]["retail"] == 9000
    assert by_id[str(world["full"].id)]["status"] == "SOLD_OUT"
    assert by_id[str(world["cancelled"].id)]["status"] == "CLOSED"

    held = octo.post(
        "/bookings", _reserve_body(world, expirationMinutes=10, resellerReference="VX-1")
    )
    assert held["status"] == "ON_HOLD" and held["utcExpiresAt"]
    assert len(held["unitItems"]) == 3 and held["voucher"] is None
    assert held["pricing"]["retail"] == 11500 and held["pricing"]["net"] == 9775
    uuid = held["uuid"]
    # The hold takes seats like a web hold: the website sees 5 left.
    assert seats.seats_left(db.session, db.session.get(type(open_), open_.id), utcnow()) == 5

    extended = octo.post(
        "/bookings/{uuid}/extend", {"expirationMinutes": 20}, f"/bookings/{uuid}/extend"
    )
    assert extended["utcExpiresAt"] > held["utcExpiresAt"]

    confirmed = octo.post(
        "/bookings/{uuid}/confirm",
        {"contact": GUEST, "resellerReference": "VX-1b"},
        f"/bookings/{uuid}/confirm",
    )
    assert confirmed["status"] == "CONFIRMED" and confirmed["utcExpiresAt"] is None
    assert confirmed["contact"]["emailAddress"] == "ana@example.org"
    reference = confirmed["supplierReference"]
    assert confirmed["voucher"]["deliveryOptions"] == [
        {"deliveryFormat": "QRCODE", "deliveryValue": reference}
    ]
    assert "/bookings/" in confirmed["voucher"]["manageUrl"]

    # Our booking: pay on arrival, on the manifest with what is due, the guest's language.
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_method == "on_arrival"
    assert booking.language == "es" and booking.due_on_arrival_cents == 11500
    sheet = manifest(db.session, booking.departure, "en")
    assert reference in str(sheet.as_data())

    assert octo.get("/bookings/{uuid}", f"/bookings/{uuid}")["resellerReference"] == "VX-1b"
    for query in (
        "resellerReference=VX-1b",
        f"supplierReference={reference}",
        f"localDate={local(open_.starts_at).date()}",
    ):
        found = octo.get("/bookings", f"/bookings?{query}")
        assert [b["uuid"] for b in found] == [uuid], query
    assert octo.get("/bookings", "/bookings?resellerReference=other") == []

    patched = octo.call(
        "PATCH", "/bookings/{uuid}", f"/bookings/{uuid}", json={"notes": "Vegetarian lunch"}
    )
    assert patched["notes"] == "Vegetarian lunch"

    cancelled = octo.post(
        "/bookings/{uuid}/cancel", {"reason": "Customer Requested"}, f"/bookings/{uuid}/cancel"
    )
    assert cancelled["status"] == "CANCELLED" and not cancelled["cancellable"]
    assert cancelled["cancellation"]["reason"] == "Customer Requested"
    again = octo.post("/bookings/{uuid}/cancel", {}, f"/bookings/{uuid}/cancel")
    assert again["status"] == "CANCELLED"  # cancelling twice is harmless
    assert seats.seats_left(db.session, db.session.get(type(open_), open_.id), utcnow()) == 8


def test_without_capabilities_there_are_no_prices_or_content(client, world):
    plain = Octo(client, world["key"], caps="")
    response = client.get(f"/octo/products/{world['experience'].slug}", headers=plain.headers())
    product = octo_spec.check("/products/{id}", "GET", response)
    assert response.headers["Octo-Capabilities"] == ""
    assert "title" not in product and "pricingFrom" not in product["options"][0]["units"][0]
    assert "defaultCurrency" not in product


def test_a_hold_is_bounded_by_ours_and_expires_like_a_web_hold(octo, world, app):
    limit = app.config["HOLD_MINUTES"]
    before = utcnow()
    held = octo.post("/bookings", _reserve_body(world, expirationMinutes=10_000))
    booking = db.session.scalar(
        select(Booking).where(Booking.reference == held["supplierReference"])
    )
    assert booking.hold_expires_at <= utcnow() + timedelta(minutes=limit)
    assert booking.hold_expires_at >= before + timedelta(minutes=limit) - timedelta(seconds=5)
    # Let it lapse: its seats are free at once and it cannot be confirmed any more.
    booking.hold_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    uuid = held["uuid"]
    assert octo.get("/bookings/{uuid}", f"/bookings/{uuid}")["status"] == "EXPIRED"
    refused = octo.post(
        "/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm", status=400
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"
    refused = octo.post(
        "/bookings/{uuid}/extend", {"expirationMinutes": 5}, f"/bookings/{uuid}/extend", 400
    )
    assert refused["error"] == "UNPROCESSABLE_ENTITY"


def _error(octo, method, path, url=None, body=None, status=400, code=None):
    data = (
        octo.call(method, path, url, status, json=body)
        if body is not None
        else octo.call(method, path, url, status)
    )
    if code:
        assert data["error"] == code, data
    return data


def test_every_refusal_is_an_octo_error(octo, world, client):
    slug, open_id = world["experience"].slug, str(world["open"].id)
    reserve = "/bookings"
    cases = [
        ("GET", "/products/{id}", "/products/nothing-here", None, "INVALID_PRODUCT_ID"),
        (
            "GET",
            "/products/{id}",
            f"/products/{world['not_sold'].slug}",
            None,
            "INVALID_PRODUCT_ID",
        ),
        (
            "POST",
            "/availability",
            None,
            {"productId": slug, "optionId": "OTHER", "localDate": "2030-01-01"},
            "INVALID_OPTION_ID",
        ),
        ("POST", "/availability", None, {"productId": slug, "optionId": "DEFAULT"}, "BAD_REQUEST"),
        (
            "POST",
            "/availability/calendar",
            None,
            {
                "productId": slug,
                "optionId": "DEFAULT",
                "localDateStart": "2030-01-01",
                "localDateEnd": "2032-01-01",
            },
            "BAD_REQUEST",
        ),
        (
            "POST",
            "/availability/calendar",
            None,
            {
                "productId": slug,
                "optionId": "DEFAULT",
                "localDateStart": "1 May",
                "localDateEnd": "2030-01-01",
            },
            "BAD_REQUEST",
        ),
        (
            "POST",
            reserve,
            None,
            _reserve_body(world, availabilityId="999999"),
            "INVALID_AVAILABILITY_ID",
        ),
        (
            "POST",
            reserve,
            None,
            _reserve_body(world, unitItems=[{"unitId": "senior"}]),
            "INVALID_UNIT_ID",
        ),
        ("POST", reserve, None, _reserve_body(world, unitItems=[]), "UNPROCESSABLE_ENTITY"),
        (
            "POST",
            reserve,
            None,
            _reserve_body(world, availabilityId=str(world["full"].id)),
            "UNPROCESSABLE_ENTITY",
        ),
        (
            "POST",
            reserve,
            None,
            _reserve_body(world, availabilityId=str(world["cancelled"].id)),
            "UNPROCESSABLE_ENTITY",
        ),
        ("POST", reserve, None, _reserve_body(world, uuid="not-a-uuid"), "BAD_REQUEST"),
        ("POST", reserve, None, _reserve_body(world, notes="a\x00b"), "BAD_REQUEST"),
        ("POST", reserve, None, ["a", "list"], "BAD_REQUEST"),
        (
            "GET",
            "/bookings/{uuid}",
            "/bookings/00000000-0000-4000-8000-000000000000",
            None,
            "INVALID_BOOKING_UUID",
        ),
        (
            "POST",
            "/bookings/{uuid}/confirm",
            "/bookings/nope/confirm",
            {"contact": GUEST},
            "INVALID_BOOKING_UUID",
        ),
        ("GET", "/bookings", "/bookings", None, "BAD_REQUEST"),
        ("GET", "/bookings", "/bookings?localDate=yesterday", None, "BAD_REQUEST"),
    ]
    for method, path, url, body, code in cases:
        _error(octo, method, path, url, body, code=code)
    assert open_id  # the open departure was there to be refused for the other reasons

    # Not JSON at all, and a contact our bookings cannot take.
    response = client.post("/octo/bookings", data="{oops", headers=octo.headers())
    assert octo_spec.check(reserve, "POST", response)["error"] == "BAD_REQUEST"
    held = octo.post(reserve, _reserve_body(world))
    bad_guest = GUEST | {"emailAddress": "not an address"}
    url = f"/bookings/{held['uuid']}/confirm"
    _error(
        octo, "POST", "/bookings/{uuid}/confirm", url, {"contact": bad_guest}, code="BAD_REQUEST"
    )
    again = _reserve_body(world, uuid=held["uuid"])
    _error(octo, "POST", reserve, None, again, code="INVALID_BOOKING_UUID")


def test_who_is_asking_and_paths_that_do_not_exist(client, world, make):
    def answer(method, url, key, path="/supplier", status=401, code="UNAUTHORIZED"):
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        response = client.open("/octo" + url, method=method, headers=headers)
        assert response.status_code == status, response.data[:300]
        assert octo_spec.check(path, "GET", response)["error"] == code

    answer("GET", "/supplier", None)
    answer("GET", "/supplier", "chk_wrong")
    answer("GET", "/products", "")
    response = client.get("/octo/supplier", headers={"Authorization": f"Basic {world['key']}"})
    assert response.status_code == 401 and response.get_json()["error"] == "UNAUTHORIZED"
    # A path or method the API does not have: OCTO's error object, never an HTML page.
    answer("GET", "/nowhere", world["key"], status=404, code="BAD_REQUEST")
    answer("DELETE", "/bookings", world["key"], path="/supplier", status=405, code="BAD_REQUEST")


def test_a_revoked_key_stops_at_once(client, world, make):
    from tourism.services.channels import resellers

    octo = Octo(client, world["key"])
    assert octo.get("/supplier")["name"]
    user = make.user()
    resellers.revoke_key(db.session, user, world["reseller"], utcnow())
    db.session.commit()
    refused = octo.get("/supplier", status=403)
    assert refused["error"] == "FORBIDDEN"
    new_key = resellers.issue_key(db.session, user, world["reseller"], utcnow())
    db.session.commit()
    assert Octo(client, new_key).get("/supplier")["name"]
    assert octo.get("/supplier", status=401)["error"] == "UNAUTHORIZED"  # the old key is gone


def test_a_server_fault_is_an_octo_error(make_app, world, monkeypatch):
    from tourism.services.channels import products

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(products, "sellable_products", broken)
    with app.app_context():
        response = app.test_client().get(
            "/octo/products", headers={"Authorization": f"Bearer {world['key']}"}
        )
    assert response.status_code == 500
    assert octo_spec.check("/products", "GET", response)["error"] == "INTERNAL_SERVER_ERROR"


def test_the_validation_catches_an_answer_that_strays(octo, world):
    """Negative control: the checks above really compare shapes."""
    product = octo.get("/products/{id}", f"/products/{world['experience'].slug}")
    assert octo_spec.is_valid("/products/{id}", "GET", 200, product)
    assert not octo_spec.is_valid("/products/{id}", "GET", 200, product | {"options": "x"})
    broken = {k: v for k, v in product.items() if k != "availabilityType"}
    assert not octo_spec.is_valid("/products/{id}", "GET", 200, broken)
    assert not octo_spec.is_valid("/supplier", "GET", 401, {"error": "X", "extra": 1})


def test_a_channel_booking_is_in_the_transparency_line_and_the_ledger(octo, world, make):
    """Pay on arrival: the breakdown plans the cash; the guide's cash is split in the ledger
    like any other booking's."""
    from tests.factories import SPLIT_PARTS
    from tourism.models import LedgerEntry, LedgerTransaction, Role
    from tourism.services.ledger import split_rules
    from tourism.services.ledger.transparency import FeeEstimate, booking_breakdown
    from tourism.services.operations.checkin import record_cash
    from tourism.unit_of_work import unit_of_work

    experience = world["experience"]
    admin = make.user(memberships=[(experience.association, Role.ADMIN)])
    now = utcnow()
    split_rules.approve_rule(db.session, experience, SPLIT_PARTS, admin, now, now)
    guide = make.guide(experience.association)
    make.assign(world["open"], guide)
    db.session.commit()
    held = octo.post("/bookings", _reserve_body(world))
    uuid = held["uuid"]
    octo.post("/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm")
    booking = db.session.scalar(
        select(Booking).where(Booking.reference == held["supplierReference"])
    )
    breakdown = booking_breakdown(db.session, booking, FeeEstimate(0, 0))
    assert breakdown is not None and breakdown.sentences()
    db.session.commit()
    with unit_of_work():
        booking = db.session.get(Booking, booking.id)
        payment, _ = record_cash(db.session, booking, booking.total_cents, guide, utcnow())
    transaction = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.payment_id == payment.id)
    )
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id)
    ).all()
    assert sum(e.amount_cents for e in entries) == 0 and len(entries) > 2


def test_a_booking_staff_move_to_another_date_shows_its_new_slot(octo, world, make):
    """Staff move a reseller's booking to another date: its GET shows the new availability
    and start, its webhook is queued, and the manifests follow (the new one lists it)."""
    import json

    from tourism.database import write_transactions
    from tourism.models import WebhookDelivery
    from tourism.services.booking import rebooking

    later = make.departure(world["experience"], capacity=8, starts_in=timedelta(days=9))
    world["reseller"].webhook_url = "https://reseller.example/hooks"
    db.session.commit()
    held = octo.post("/bookings", _reserve_body(world, expirationMinutes=10))
    uuid = held["uuid"]
    octo.post("/bookings/{uuid}/confirm", {"contact": GUEST}, f"/bookings/{uuid}/confirm")
    booking = db.session.scalar(
        select(Booking).where(
            Booking.departure_id == world["open"].id, Booking.status == "confirmed"
        )
    )
    with write_transactions():
        db.session.rollback()
        rebooking.change_date(db.session, booking, later.id, None, utcnow())
        db.session.commit()
    found = octo.get("/bookings/{uuid}", f"/bookings/{uuid}")
    assert found["availabilityId"] == str(later.id)
    assert found["availability"]["id"] == str(later.id)
    assert found["availability"]["localDateTimeStart"].startswith(
        local(later.starts_at).date().isoformat()
    )
    (delivery,) = db.session.scalars(select(WebhookDelivery)).all()
    assert json.loads(delivery.payload)["booking"]["availabilityId"] == str(later.id)
    assert booking.reference in str(manifest(db.session, later, "en").as_data())
    old = db.session.get(type(later), world["open"].id)
    assert booking.reference not in str(manifest(db.session, old, "en").as_data())
