"""The net rate through the pages: an admin sets it per experience (bad input: a clear
message in the visitor's language, nothing changed), and the prepaid reseller's statement
shows the net rate and what it owes, the net per ticket."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES
from tests.routes.test_reseller_money_pages import _sell
from tourism.extensions import db
from tourism.models import ResellerRate

admin, app, kallari, make = shared.admin, shared.app, shared.kallari, shared.make


def test_an_admin_sets_a_net_rate_and_the_statement_shows_it(client, admin, kallari, make):
    cacao = make.experience(association=kallari, prices={"adult": 4_000})
    departure = make.departure(cacao, capacity=10, starts_in=timedelta(days=3))
    reseller, _ = make.reseller(kallari, experiences=[cacao], commission_bp=1_500, prepaid=True)
    db.session.commit()
    url = f"/manage/resellers/{reseller.id}/rates/{cacao.id}"
    for data, message in (
        ({"commission": "", "net_rate": "40.01"}, "La tarifa neta debe estar entre 0"),
        ({"commission": "", "net_rate": "veinte"}, "Escribe un monto como 25 o 25.50."),
        ({"commission": "10", "net_rate": "20"}, "Indica una comisión o una tarifa neta"),
    ):
        refused = client.post(url, data=data, headers=ES)
        assert refused.status_code == 400
        assert message in refused.get_data(as_text=True)
        assert db.session.scalars(select(ResellerRate)).all() == []
    saved = client.post(url, data={"commission": "", "net_rate": "31.50"}, headers=EN)
    assert saved.status_code == 303
    rate = db.session.scalars(select(ResellerRate)).one()
    assert (rate.net_cents, rate.commission_bp) == (3_150, 0)
    page = client.get(f"/manage/resellers/{reseller.id}/rates", headers=EN)
    assert "net rate $31.50 per ticket" in page.get_data(as_text=True)

    channel = _sell(reseller, cacao, departure)  # 2 adults at $40.00
    assert channel.net_cents == 3_150
    html = client.get(f"/manage/resellers/{reseller.id}/statement", headers=EN).get_data(
        as_text=True
    )
    assert channel.booking.reference in html
    assert "net rate $31.50 per ticket" in html
    assert "$17.00" in html and "$63.00" in html  # its share 2 x 8.50; owed 2 x 31.50
    csv = client.get(f"/manage/resellers/{reseller.id}/statement.csv").get_data(as_text=True)
    assert csv.splitlines()[0].endswith(",commission,owed,net_rate")
    assert ",80.00,17.00,63.00,31.50" in csv
