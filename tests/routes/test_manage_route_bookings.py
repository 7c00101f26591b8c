"""Association staff see the route bookings they have a part in and record that part's cash;
another association's staff cannot."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Departure, LedgerTransaction, Role
from tourism.services.booking.contact_details import ContactDetails
from tourism.services.ledger import checks
from tourism.services.routes import booking, settlement
from tourism.timefmt import local

EN = {"Accept-Language": "en"}


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


@pytest.fixture
def sold(make):
    route = make.route()
    first = db.session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[0].experience_id)
    ).one()
    contact = ContactDetails("Ana Quispe", "ana@example.org", "+593 99 123 4567", "EC", "es")
    db.session.commit()
    with write_transactions():
        rb = booking.book_route(
            db.session,
            booking.RouteBookingRequest(route.id, local(first.starts_at).date(), 2, contact),
            utcnow(),
            ["es", "en"],
        )
    second = route.legs[2].experience.association
    staff = make.user(memberships=[(second, Role.STAFF)])
    outsider = make.user(memberships=[(make.association(), Role.STAFF)])
    db.session.commit()
    return dict(rb=rb, association=second, staff=staff, outsider=outsider)


def test_staff_see_their_part_and_record_it(client, sold):
    rb, association = sold["rb"], sold["association"]
    login(client, sold["staff"])
    url = f"/manage/associations/{association.id}/route-bookings"
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert rb.reference in page and "$140.00" in page  # 2 x 45.00 + 2 nights' beds x 25.00
    response = client.post(f"{url}/{rb.id}/cash", headers=EN)
    assert response.status_code == 303
    db.session.rollback()
    (part,) = [p for p in settlement.community_parts(rb) if p.association.id == association.id]
    assert settlement.part_outstanding_cents(db.session, rb, part) == 0
    assert checks.check(db.session) == []
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "Record cash received" not in page and "Paid" in page


def test_another_associations_staff_cannot_see_or_record(client, sold):
    rb, association = sold["rb"], sold["association"]
    login(client, sold["outsider"])
    url = f"/manage/associations/{association.id}/route-bookings"
    assert client.get(url, headers=EN).status_code in (403, 404)
    before = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert client.post(f"{url}/{rb.id}/cash", headers=EN).status_code in (403, 404)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == before


def test_a_route_booking_without_the_association_is_not_found(client, sold, make):
    login(client, sold["outsider"])
    own = sold["outsider"].memberships[0].association
    response = client.post(
        f"/manage/associations/{own.id}/route-bookings/{sold['rb'].id}/cash", headers=EN
    )
    assert response.status_code == 404
