"""A reseller's own details, as the service takes them whatever form sent them."""

from __future__ import annotations

import pytest

from tests.services.channels.test_reseller_money import world
from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest
from tourism.extensions import db
from tourism.services.booking.contact_details import validate_contact
from tourism.services.channels import resellers, reservations

__all__ = ["world"]  # the fixture, shared


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.mark.parametrize(
    ("email", "phone"),
    [("not-email", "+593 2 555 0101"), ("desk@selva.example", ""), ("desk@selva.example", "abc")],
)
def test_a_reseller_whose_contact_no_booking_would_take_is_refused(world, email, phone):
    """Its email and phone stand as each reservation's contact until a guest is named: a
    reseller created without them could never hold a seat."""
    association = world["experience"].association
    data = resellers.ResellerInput("Selva Tours", email, phone, 1_000, [world["experience"].id])
    with pytest.raises(InvalidRequest):
        resellers.create_reseller(db.session, world["admin"], association, data, utcnow())
    with pytest.raises(InvalidRequest):
        resellers.update_reseller(db.session, world["admin"], world["reseller"], data, utcnow())


def test_a_reseller_with_a_good_contact_can_hold_seats_without_naming_a_guest(world):
    association = world["experience"].association
    data = resellers.ResellerInput(
        "Selva Tours", "desk@selva.example", "+593 2 555 0101", 1_000, [world["experience"].id]
    )
    reseller, _key = resellers.create_reseller(
        db.session, world["admin"], association, data, utcnow()
    )
    contact = reservations.placeholder_contact(reseller, ["es", "en"])
    assert validate_contact(contact, ["es", "en"]).phone == "+593 2 555 0101"
