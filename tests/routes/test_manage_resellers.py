"""Resellers, kept by an association's admins: a key shown once and stored as a hash, a
commission, the experiences it may sell; revoking a key stops it at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES, login, member
from tourism.extensions import db
from tourism.models import AuditEvent, Reseller, Role
from tourism.services.access.accounts import hash_token

#: Fixtures shared with the other management tests (found by pytest under these names).
admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


def _form(experiences, **extra) -> dict:
    return {
        "name": "Selva Tours",
        "contact_email": "desk@selva.example",
        "contact_phone": "+593 2 555 0101",
        "commission": "12,5",
        "experiences": [str(e.id) for e in experiences],
        **extra,
    }


def _key(response) -> str:
    found = re.search(r"chk_[A-Za-z0-9_-]{40,}", response.get_data(as_text=True))
    assert found, "the new key is on the page"
    return found.group(0)


def test_an_admin_adds_a_reseller_and_its_key_works_once_shown(client, admin, kallari, make):
    cacao = make.experience(association=kallari)
    make.experience(association=kallari)  # not given to it
    response = client.post(
        f"/manage/associations/{kallari.id}/resellers/new", data=_form([cacao]), headers=EN
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    key = _key(response)
    reseller = db.session.scalars(select(Reseller)).one()
    assert reseller.commission_bp == 1250 and [e.id for e in reseller.experiences] == [cacao.id]
    # Only a hash is kept, and the list shows only the key's first characters.
    assert reseller.key_hash == hash_token(key) and key not in reseller.key_prefix + "…"
    listing = client.get(f"/manage/associations/{kallari.id}/resellers", headers=EN)
    assert listing.status_code == 200 and key not in listing.get_data(as_text=True)
    assert "12.5 percent" in listing.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reseller.created"))

    octo = {"Authorization": f"Bearer {key}"}
    products = client.get("/octo/products", headers=octo).get_json()
    assert [p["id"] for p in products] == [cacao.slug]

    # Revoking stops the key at the next request.
    assert client.post(f"/manage/resellers/{reseller.id}/revoke").status_code == 303
    refused = client.get("/octo/products", headers=octo)
    assert refused.status_code == 403 and refused.get_json()["error"] == "FORBIDDEN"
    # A new key works; the revoked one is unknown from then on.
    renewed = client.post(f"/manage/resellers/{reseller.id}/key", headers=EN)
    new_key = _key(renewed)
    assert new_key != key
    renewed_headers = {"Authorization": f"Bearer {new_key}"}
    assert client.get("/octo/supplier", headers=renewed_headers).status_code == 200
    assert client.get("/octo/supplier", headers=octo).status_code == 401


def test_editing_a_reseller_and_refusing_bad_input(client, admin, kallari, winak, make):
    cacao = make.experience(association=kallari)
    elsewhere = make.experience(association=winak)
    reseller, _ = make.reseller(association=kallari, experiences=[cacao], commission_bp=1000)
    db.session.commit()
    page = client.get(f"/manage/resellers/{reseller.id}/edit", headers=EN)
    assert page.status_code == 200 and 'value="10"' in page.get_data(as_text=True)
    for bad in ("101", "-1", "12.345", "diez", "NaN", "1e1", "1_0", "١٠", "٥", "+5", "5%"):
        response = client.post(
            f"/manage/resellers/{reseller.id}/edit", data=_form([cacao], commission=bad), headers=ES
        )
        assert response.status_code == 400, bad
        assert "Un porcentaje de 0 a 100" in response.get_data(as_text=True)
    # Its contact stands in every reservation until a guest is named: it must be one a
    # booking would take.
    for field, bad, message in (
        ("contact_email", "not-email", "Indica un correo electrónico válido"),
        ("contact_phone", "abc", "Indica un número de teléfono al que"),
    ):
        response = client.post(
            f"/manage/resellers/{reseller.id}/edit", data=_form([cacao], **{field: bad}), headers=ES
        )
        assert response.status_code == 400, field
        assert message in response.get_data(as_text=True), field
    db.session.expire_all()
    assert reseller.commission_bp == 1000
    # Another association's experience is not among the choices.
    response = client.post(
        f"/manage/resellers/{reseller.id}/edit", data=_form([elsewhere]), headers=EN
    )
    assert response.status_code == 400
    response = client.post(
        f"/manage/resellers/{reseller.id}/edit", data=_form([], commission="0"), headers=EN
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert reseller.commission_bp == 0 and reseller.experiences == []


def test_only_the_associations_admins_reach_its_resellers(client, make, kallari, winak):
    reseller, _ = make.reseller(association=kallari)
    theirs = member(make, winak, Role.ADMIN)
    login(client, theirs)
    urls = [
        ("GET", f"/manage/associations/{kallari.id}/resellers"),
        ("GET", f"/manage/associations/{kallari.id}/resellers/new"),
        ("GET", f"/manage/resellers/{reseller.id}/edit"),
        ("POST", f"/manage/resellers/{reseller.id}/revoke"),
        ("POST", f"/manage/resellers/{reseller.id}/key"),
    ]
    for method, url in urls:
        assert client.open(url, method=method).status_code == 404, url
    login(client, member(make, kallari, Role.STAFF))  # staff, not admin
    for method, url in urls:
        assert client.open(url, method=method).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(Reseller, reseller.id).is_active
    # Negative control: Kallari's admin reaches every page.
    login(client, member(make, kallari, Role.ADMIN))
    assert client.get(f"/manage/associations/{kallari.id}/resellers").status_code == 200
    assert client.get(f"/manage/resellers/{reseller.id}/edit").status_code == 200
