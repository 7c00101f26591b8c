"""An association's admins keep its identity and contact (legal name, RUC, address, phone,
email) up to date themselves; staff and other associations cannot."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, login, member
from tourism.database import utcnow
from tourism.errors import InvalidRequest, NotFound
from tourism.extensions import db
from tourism.models import AuditEvent, Role
from tourism.services.associations import management

#: Fixtures shared with the other management tests (found by pytest under these names).
admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)

DETAILS = {
    "name": "Kallari",
    "legal_name": "Asociación Kallari",
    "tax_id": "1591234567001",
    "address": "Av. 15 de Noviembre, Tena, Napo",
    "contact_email": "turismo@kallari.example",
    "contact_phone": "+593 98 111 2222",
    "founded_year": "1997",
    "description_es": "Asociación kichwa.",
    "description_en": "Kichwa association.",
}


def test_an_admin_edits_the_associations_identity(client, admin, kallari):
    kallari.identity_is_demo = True
    db.session.commit()
    form = client.get(f"/manage/associations/{kallari.id}/edit", headers=EN)
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "These are demo details" in page
    assert 'name="legal_name"' in page and 'name="tax_id"' in page and "novalidate" in page
    response = client.post(f"/manage/associations/{kallari.id}/edit", data=DETAILS, headers=EN)
    assert response.status_code == 303
    db.session.refresh(kallari)
    assert (kallari.legal_name, kallari.tax_id, kallari.address) == (
        "Asociación Kallari",
        "1591234567001",
        "Av. 15 de Noviembre, Tena, Napo",
    )
    assert kallari.contact_phone == "+593 98 111 2222"
    assert kallari.whatsapp_number == "593981112222"
    assert kallari.identity_is_demo is False
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "association.updated")
    ).one()
    assert "tax_id" in event.detail and event.association_id == kallari.id
    # The dashboard links to the form.
    dashboard = client.get("/manage/", headers=EN).get_data(as_text=True)
    assert f'href="/manage/associations/{kallari.id}/edit"' in dashboard


def test_a_wrong_ruc_is_refused_and_nothing_changes(client, admin, kallari):
    response = client.post(
        f"/manage/associations/{kallari.id}/edit",
        data=DETAILS | {"tax_id": "12345"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "The RUC has 13 digits." in response.get_data(as_text=True)
    db.session.refresh(kallari)
    assert kallari.tax_id == ""


def test_staff_and_other_associations_cannot_edit(client, make, kallari, winak):
    login(client, member(make, kallari, Role.STAFF))
    assert client.get(f"/manage/associations/{kallari.id}/edit").status_code == 404
    login(client, member(make, winak, Role.ADMIN))
    assert client.get(f"/manage/associations/{kallari.id}/edit").status_code == 404
    posted = client.post(f"/manage/associations/{kallari.id}/edit", data=DETAILS)
    assert posted.status_code == 404
    db.session.refresh(kallari)
    assert kallari.legal_name == ""


def test_the_service_refuses_anyone_but_the_associations_admins(session, make, kallari):
    details = management.AssociationDetails(name="Kallari", tax_id="1591234567001")
    staff = member(make, kallari, Role.STAFF)
    with pytest.raises(NotFound):
        management.update_association(session, staff, kallari, details, utcnow())
    root = make.user(password="", is_platform_admin=True)
    management.update_association(session, root, kallari, details, utcnow())
    assert kallari.tax_id == "1591234567001"
    with pytest.raises(InvalidRequest):
        management.update_association(
            session, root, kallari, management.AssociationDetails(name=""), utcnow()
        )


@pytest.mark.parametrize(
    ("phone", "number"),
    [
        ("+593 99 000 0001", "593990000001"),
        ("099 123 4567", "593991234567"),  # written the Ecuadorian way
        ("+1 (555) 010-2030", "15550102030"),
        ("2 123", ""),  # too short to be anyone's
        ("", ""),
    ],
)
def test_whatsapp_links_need_the_country_code(make, phone, number):
    assert make.association(contact_phone=phone).whatsapp_number == number
