"""The pages of a reseller's money: its commission per experience (admins) and, for a
prepaid reseller, the treasurer's statement (page and CSV) and the payments received."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES, login, member
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import ResellerRate, ResellerReceipt, Role
from tourism.services.channels import reservations
from tourism.services.ledger import reseller_postings
from tourism.unit_of_work import unit_of_work

admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)

TERMS = reservations.Terms(hold_max=timedelta(minutes=30), languages=["es", "en"])
GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
}


def _sell(reseller, experience, departure):
    body = {
        "productId": experience.slug,
        "optionId": "DEFAULT",
        "availabilityId": str(departure.id),
        "unitItems": [{"unitId": "adult"}, {"unitId": "adult"}],
    }
    db.session.commit()
    with write_transactions(), unit_of_work():
        channel = reservations.reserve(db.session, reseller, body, utcnow(), TERMS)
        reservations.confirm(db.session, channel, {"contact": GUEST}, utcnow(), TERMS)
    return channel


def test_an_admin_sets_a_commission_per_experience(client, admin, kallari, make):
    cacao = make.experience(association=kallari)
    reseller, _ = make.reseller(kallari, experiences=[cacao], commission_bp=1_000)
    db.session.commit()
    page = client.get(f"/manage/resellers/{reseller.id}/rates", headers=EN)
    assert page.status_code == 200 and "10 percent (usual)" in page.get_data(as_text=True)
    url = f"/manage/resellers/{reseller.id}/rates/{cacao.id}"
    assert client.post(url, data={"commission": "17,5"}, headers=EN).status_code == 303
    rate = db.session.scalars(select(ResellerRate)).one()
    assert rate.commission_bp == 1_750
    # Bad input: a clear message in the visitor's language, nothing changed.
    for bad in ("101", "abc", "-1", "1.234"):
        refused = client.post(url, data={"commission": bad}, headers=ES)
        assert refused.status_code == 400
        assert "porcentaje" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ResellerRate, rate.id).commission_bp == 1_750
    # Empty: back to the usual commission.
    assert client.post(url, data={"commission": ""}, headers=EN).status_code == 303
    assert db.session.scalars(select(ResellerRate)).all() == []


def test_a_rate_only_for_an_experience_the_reseller_sells(client, admin, kallari, winak, make):
    cacao = make.experience(association=kallari)
    other = make.experience(association=kallari)
    elsewhere = make.experience(association=winak)
    reseller, _ = make.reseller(kallari, experiences=[cacao])
    db.session.commit()
    for experience in (other, elsewhere):
        url = f"/manage/resellers/{reseller.id}/rates/{experience.id}"
        assert client.post(url, data={"commission": "5"}, headers=EN).status_code == 404
    assert db.session.scalars(select(ResellerRate)).all() == []


def test_only_the_associations_admins_reach_the_money_pages(client, make, kallari, winak):
    cacao = make.experience(association=kallari)
    reseller, _ = make.reseller(kallari, experiences=[cacao], prepaid=True)
    db.session.commit()
    paths = [
        f"/manage/resellers/{reseller.id}/rates",
        f"/manage/resellers/{reseller.id}/statement",
        f"/manage/resellers/{reseller.id}/statement.csv",
    ]
    for user in (member(make, winak, Role.ADMIN), member(make, kallari, Role.STAFF)):
        login(client, user)
        for path in paths:
            assert client.get(path).status_code == 404, path
        post = client.post(
            f"/manage/resellers/{reseller.id}/receipts", data={"amount": "1", "token": "t"}
        )
        assert post.status_code == 404
    assert db.session.scalars(select(ResellerReceipt)).all() == []


def test_the_treasurer_settles_a_prepaid_reseller(client, admin, kallari, make):
    cacao = make.experience(association=kallari, prices={"adult": 4_000})
    departure = make.departure(cacao, capacity=10, starts_in=timedelta(days=3))
    reseller, _ = make.reseller(kallari, experiences=[cacao], commission_bp=1_500, prepaid=True)
    channel = _sell(reseller, cacao, departure)
    # 2 x 40.00, less 15 % per ticket (6.00): 68.00 owed.
    page = client.get(f"/manage/resellers/{reseller.id}/statement", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and channel.booking.reference in html and "$68.00" in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    csv = client.get(f"/manage/resellers/{reseller.id}/statement.csv").get_data(as_text=True)
    assert f"{channel.booking.reference},," in csv and ",80.00,12.00,68.00" in csv

    url = f"/manage/resellers/{reseller.id}/receipts"
    too_much = client.post(url, data={"amount": "68.01", "token": token}, headers=EN)
    assert too_much.status_code == 400
    assert "more than the reseller owes" in too_much.get_data(as_text=True)
    not_money = client.post(url, data={"amount": "12.345", "token": token}, headers=EN)
    assert not_money.status_code == 422
    # A reference ends up in the statement's CSV cells: one line, no control characters.
    for bad in ("a\x1b[31mb", "TR\r\n889"):
        refused = client.post(
            url, data={"amount": "1", "reference": bad, "token": token}, headers=ES
        )
        assert refused.status_code == 422, repr(bad)
        assert "en una sola línea" in refused.get_data(as_text=True)
    assert db.session.scalars(select(ResellerReceipt)).all() == []
    form = {"amount": "50", "reference": "TR-889", "token": token}
    assert client.post(url, data=form, headers=EN).status_code == 303
    assert client.post(url, data=form, headers=EN).status_code == 303  # sent twice
    assert db.session.scalars(select(ResellerReceipt)).one().amount_cents == 5_000
    assert reseller_postings.owed(db.session, reseller) == 1_800
    html = client.get(f"/manage/resellers/{reseller.id}/statement", headers=EN).get_data(
        as_text=True
    )
    assert "$18.00" in html and "TR-889" in html


def test_an_admin_sets_the_webhook_and_sees_the_secret_once(client, admin, kallari, winak, make):
    cacao = make.experience(association=kallari)
    reseller, _ = make.reseller(kallari, experiences=[cacao])
    theirs, _ = make.reseller(winak)
    db.session.commit()
    url = f"/manage/resellers/{reseller.id}/webhook"
    refused = client.post(url, data={"url": "https://127.0.0.1/hook"}, headers=ES)
    assert refused.status_code == 400 and "https" in refused.get_data(as_text=True)
    saved = client.post(url, data={"url": "https://93.184.216.34/hook"}, headers=EN)
    assert saved.status_code == 201 and saved.headers["Cache-Control"] == "no-store"
    secret = re.search(r"whsec_[A-Za-z0-9_-]+", saved.get_data(as_text=True)).group(0)
    db.session.expire_all()
    assert db.session.get(type(reseller), reseller.id).webhook_secret == secret
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "93.184.216.34" in page and secret not in page
    # Another association's reseller is not found.
    assert client.get(f"/manage/resellers/{theirs.id}/webhook").status_code == 404
    other = client.post(
        f"/manage/resellers/{theirs.id}/webhook", data={"url": "https://93.184.216.34/x"}
    )
    assert other.status_code == 404
    assert client.post(f"{url}/remove").status_code == 303
    db.session.expire_all()
    assert db.session.get(type(reseller), reseller.id).webhook_url is None


def test_the_reseller_form_marks_a_reseller_prepaid(client, admin, kallari, make):
    cacao = make.experience(association=kallari)
    reseller, _ = make.reseller(kallari, experiences=[cacao])
    db.session.commit()
    form = {
        "name": reseller.name,
        "contact_email": reseller.contact_email,
        "contact_phone": reseller.contact_phone,
        "commission": "10",
        "experiences": [str(cacao.id)],
        "prepaid": "y",
    }
    assert client.post(f"/manage/resellers/{reseller.id}/edit", data=form).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(reseller), reseller.id).prepaid is True
    listing = client.get(f"/manage/associations/{kallari.id}/resellers", headers=EN)
    assert f"/manage/resellers/{reseller.id}/statement" in listing.get_data(as_text=True)
