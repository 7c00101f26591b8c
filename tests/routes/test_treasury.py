"""The treasury pages: balances, recording a batch of payouts, the payout sheet, statements
and CSV exports, each only for those who may see them."""

from __future__ import annotations

import csv
import io
import re
import uuid
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.factories import Factories
from tests.routes.test_manage_access import EN, login, member
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    AccountKind,
    AccountState,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    Refund,
    Role,
    TransactionKind,
)
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.treasury import batches, payouts
from tourism.services.treasury import receipts as payout_receipts

AVAILABLE = AccountState.AVAILABLE


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


class World:
    def __init__(self, make) -> None:
        self.make = make
        self.kallari = make.association(name="Kallari")
        self.winak = make.association(name="Wiñak")
        self.alvarado = make.family(self.kallari, name="Familia Alvarado")
        self.tapuy = make.family(self.kallari, name="Familia Tapuy")
        self.guide = make.user(name="Guía Andi", memberships=[(self.kallari, Role.GUIDE)])
        self.cash = ledger.account(db.session, AccountKind.CASH_HELD, self.kallari)
        experience = make.experience(self.kallari)
        self.booking = make.booking(make.departure(experience))

    def earn(self, member, cents, state=AVAILABLE):
        who = payouts.as_beneficiary(self.kallari, member)
        ledger.post(
            db.session,
            kind=TransactionKind.CASH,
            lines=[(self.cash, cents), (who.account(db.session, state), -cents)],
            booking=self.booking,
        )


@pytest.fixture
def world(make):
    world = World(make)
    world.earn(world.alvarado, 2_500)
    world.earn(world.alvarado, 1_000, AccountState.PENDING)
    world.earn(world.tapuy, 1_200)
    world.earn(world.guide, 800)
    db.session.commit()
    return world


@pytest.fixture
def treasurer(world, make, client):
    user = member(make, world.kallari, Role.ADMIN)
    login(client, user)
    return user


def _counts():
    return (
        db.session.scalar(select(func.count(Payout.id))),
        db.session.scalar(select(func.count(LedgerTransaction.id))),
    )


def _png() -> io.BytesIO:
    image = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(image, format="PNG")
    image.seek(0)
    return image


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert ".csv" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_treasury_lists_balances_with_the_available_amount_prefilled(client, world, treasurer):
    response = client.get(f"/manage/associations/{world.kallari.id}/treasury", headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in ("Familia Alvarado", "Familia Tapuy", "Guía Andi"):
        assert name in body
    assert f'name="amount-f{world.alvarado.id}" size="8"' in body
    assert 'value="25.00"' in body and "$10.00" in body  # available prefilled, pending shown


def test_recording_a_batch_pays_each_selected_person_once(client, world, treasurer, tmp_path):
    a, t = world.alvarado.id, world.tapuy.id
    response = client.post(
        f"/manage/associations/{world.kallari.id}/payouts",
        data={
            "pay": [f"f{a}", f"u{world.guide.id}"],
            "amount-f" + str(a): "20.50",
            "reference-f" + str(a): "TR-1",
            "receipt-f" + str(a): (_png(), "receipt.png"),
            "amount-u" + str(world.guide.id): "8",
            "amount-f" + str(t): "12",  # not selected: not paid
            "method": "bank_transfer",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    made = db.session.scalars(select(Payout).order_by(Payout.id)).all()
    assert [(p.family_id, p.user_id, p.amount_cents) for p in made] == [
        (a, None, 2_050),
        (None, world.guide.id, 800),
    ]
    assert len({p.batch for p in made}) == 1 and made[0].reference == "TR-1"
    assert made[0].receipt_key and made[1].receipt_key is None
    assert (tmp_path / "uploads" / payout_receipts.receipt_file_name(made[0].receipt_key)).is_file()
    assert checks.check(db.session) == []

    sheet = client.get(response.headers["Location"], headers=EN)
    body = sheet.get_data(as_text=True)
    assert sheet.status_code == 200
    assert "Familia Alvarado" in body and "$20.50" in body and "$28.50" in body
    assert body.count('<td class="signature"') == 2
    stylesheet = re.search(r'href="(/static/css/print\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, "the sheet links its print stylesheet (content-hashed name)"
    with client.get(stylesheet[1]) as print_css:  # printable: styles for paper
        assert "@media print" in print_css.get_data(as_text=True)
    receipt = client.get(f"/manage/payouts/{made[0].id}/receipt")
    assert receipt.status_code == 200 and receipt.mimetype == "image/webp"
    assert client.get(f"/manage/payouts/{made[1].id}/receipt").status_code == 404


def test_a_batch_with_one_amount_too_high_records_nothing(client, world, treasurer, tmp_path):
    a, t = world.alvarado.id, world.tapuy.id
    before = _counts()
    response = client.post(
        f"/manage/associations/{world.kallari.id}/payouts",
        data={
            "pay": [f"f{a}", f"f{t}"],
            f"amount-f{a}": "25.00",
            f"receipt-f{a}": (_png(), "receipt.png"),
            f"amount-f{t}": "12.01",
            "method": "cash",
        },
        content_type="multipart/form-data",
        headers=EN,
    )
    assert response.status_code == 409
    assert "Familia Tapuy can be paid at most $12.00" in response.get_data(as_text=True)
    assert _counts() == before
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # the receipt was removed


def _shown_batch(client, world) -> str:
    page = client.get(f"/manage/associations/{world.kallari.id}/treasury", headers=EN)
    found = re.search(r'name="batch" value="([0-9a-f]{32})"', page.get_data(as_text=True))
    assert found, "the payout table carries its own key"
    return found[1]


def test_a_payout_table_sent_twice_pays_once_and_leads_to_its_sheet(
    client, world, treasurer, tmp_path
):
    """A double click on "Record payouts" with part of a balance typed in (what the first
    sending left available would allow a second payout): one settlement, and the second
    sending lands on its sheet, told that nothing was recorded twice."""
    a = world.alvarado.id
    key = _shown_batch(client, world)

    def send(headers=EN):
        return client.post(
            f"/manage/associations/{world.kallari.id}/payouts",
            data={
                "batch": key,
                "pay": [f"f{a}"],
                f"amount-f{a}": "10.00",
                f"receipt-f{a}": (_png(), "receipt.png"),
                "method": "cash",
            },
            content_type="multipart/form-data",
            headers=headers,
        )

    first = send()
    before = _counts()
    second = send()

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Location"].endswith(f"/payouts/{key}/sheet")
    assert _counts() == before
    (payout,) = db.session.scalars(select(Payout)).all()
    assert payout.amount_cents == 1_000 and payout.batch == key
    uploads = tmp_path / "uploads"
    assert [p.name for p in uploads.iterdir()] == [
        payout_receipts.receipt_file_name(payout.receipt_key)
    ], "the second sending's receipt photo is not kept"
    sheet = client.get(second.headers["Location"], headers=EN).get_data(as_text=True)
    assert "already been recorded: nothing was recorded twice" in sheet
    third = send({"Accept-Language": "es"})
    assert third.status_code == 303 and _counts() == before
    es = client.get(third.headers["Location"], headers={"Accept-Language": "es"}).text
    assert "Estos pagos ya estaban registrados: no se registró nada dos veces." in es
    assert checks.check(db.session) == []

    # The next table shown has a key of its own, and pays again.
    assert _shown_batch(client, world) != key


def test_a_refused_payout_table_is_shown_again_with_its_key(client, world, treasurer):
    a = world.alvarado.id
    key = _shown_batch(client, world)
    response = client.post(
        f"/manage/associations/{world.kallari.id}/payouts",
        data={"batch": key, "pay": [f"f{a}"], f"amount-f{a}": "99.00", "method": "cash"},
        headers=EN,
    )
    assert response.status_code == 409
    assert f'name="batch" value="{key}"' in response.get_data(as_text=True)
    fixed = client.post(
        f"/manage/associations/{world.kallari.id}/payouts",
        data={"batch": key, "pay": [f"f{a}"], f"amount-f{a}": "5.00", "method": "cash"},
        headers=EN,
    )
    assert fixed.status_code == 303 and fixed.headers["Location"].endswith(f"/{key}/sheet")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "cash"}, "Select at least one family or guide to pay."),
        ({"pay": "F", "amount-F": "abc", "method": "cash"}, "not a valid amount"),
        ({"pay": "F", "amount-F": "0", "method": "cash"}, "must be more than zero"),
        ({"pay": "F", "amount-F": "1", "method": "gold"}, "choose how the money was paid"),
        (
            {"pay": "F", "amount-F": "1", "reference-F": "ref\x01\x1b[31m", "method": "cash"},
            "must be on one line",
        ),
        (
            {"pay": "F", "amount-F": "1", "reference-F": "TR\r\n1", "method": "cash"},
            "must be on one line",
        ),
    ],
)
def test_bad_payout_input_is_refused_with_a_message(client, world, treasurer, data, message):
    key = f"f{world.alvarado.id}"
    data = {k.replace("F", key): v.replace("F", key) for k, v in data.items()}
    before = _counts()
    response = client.post(
        f"/manage/associations/{world.kallari.id}/payouts", data=data, headers=EN
    )
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert _counts() == before


def test_another_associations_treasury_and_batches_are_not_found(client, world, make):
    other_admin = member(make, world.winak, Role.ADMIN)
    login(client, other_admin)
    k = world.kallari.id
    assert client.get(f"/manage/associations/{k}/treasury").status_code == 404
    before = _counts()
    response = client.post(
        f"/manage/associations/{k}/payouts",
        data={
            "pay": f"f{world.alvarado.id}",
            f"amount-f{world.alvarado.id}": "1",
            "method": "cash",
        },
    )
    assert response.status_code == 404 and _counts() == before
    # a Wiñak form naming a Kallari family is not found either
    response = client.post(
        f"/manage/associations/{world.winak.id}/payouts",
        data={
            "pay": f"f{world.alvarado.id}",
            f"amount-f{world.alvarado.id}": "1",
            "method": "cash",
        },
    )
    assert response.status_code == 404 and _counts() == before

    item = batches.BatchItem(payouts.as_beneficiary(world.kallari, world.tapuy), 100)
    batch, _made = batches.settle_batch(
        db.session, world.kallari, [item], "cash", other_admin, None
    )
    db.session.commit()
    assert client.get(f"/manage/associations/{k}/payouts/{batch}/sheet").status_code == 404
    assert (
        client.get(f"/manage/associations/{world.winak.id}/payouts/{batch}/sheet").status_code
        == 404
    )
    assert client.get(f"/manage/associations/{k}/ledger.csv").status_code == 404


def test_staff_who_are_not_admins_do_not_reach_the_treasury(client, world, make):
    login(client, member(make, world.kallari, Role.STAFF))
    for path in ("treasury", "ledger.csv", "payouts.csv"):
        assert client.get(f"/manage/associations/{world.kallari.id}/{path}").status_code == 404


def test_the_ledger_and_payouts_export_as_csv_with_decimal_amounts(client, world, treasurer):
    payouts.record_payout(
        db.session, world.kallari, world.tapuy, 1_105, "mobile_money", "MM-7", treasurer, utcnow()
    )
    db.session.commit()
    rows = _rows(client.get(f"/manage/associations/{world.kallari.id}/ledger.csv"))
    header, entries = rows[0], rows[1:]
    assert header[-2:] == ["amount", "currency"]
    amounts = [Decimal(row[-2]) for row in entries]
    assert sum(amounts) == 0  # every transaction is within the association's accounts
    payout_rows = [r for r in entries if r[2] == "payout"]
    assert sorted(Decimal(r[-2]) for r in payout_rows) == [Decimal("-11.05"), Decimal("11.05")]

    rows = _rows(client.get(f"/manage/associations/{world.kallari.id}/payouts.csv"))
    assert rows[0][3] == "beneficiary" and len(rows) == 2
    assert rows[1][3] == "Familia Tapuy" and rows[1][6] == "mobile_money"
    assert rows[1][7] == "MM-7" and rows[1][8] == "11.05"


def test_a_family_statement_is_reached_by_its_private_token_only(client, world, treasurer):
    assert world.alvarado.statement_token is None
    response = client.post(f"/manage/families/{world.alvarado.id}/statement-link")
    assert response.status_code == 303
    db.session.refresh(world.alvarado)
    token = world.alvarado.statement_token
    assert token and len(token) >= 43
    payouts.record_payout(
        db.session, world.kallari, world.alvarado, 2_000, "cash", "R-9", treasurer, utcnow()
    )
    db.session.commit()

    anonymous = client.application.test_client()
    page = anonymous.get(f"/statements/families/{token}", headers=EN)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Familia Alvarado" in body and world.booking.reference in body and "R-9" in body
    assert "Familia Tapuy" not in body
    for wrong in (token[:-1] + ("a" if token[-1] != "a" else "b"), "x"):
        assert anonymous.get(f"/statements/families/{wrong}").status_code == 404
        assert anonymous.get(f"/statements/families/{wrong}/statement.csv").status_code == 404

    rows = _rows(anonymous.get(f"/statements/families/{token}/statement.csv"))
    totals = {row[0]: Decimal(row[4]) for row in rows[1:] if row[0].startswith(("total", "owed"))}
    assert totals == {
        "total_earned": Decimal("35.00"),
        "total_paid": Decimal("20.00"),
        "owed_pending": Decimal("10.00"),
        "owed_available": Decimal("5.00"),
    }
    lines = [row for row in rows[1:] if row[0] in ("credited", "payout")]
    assert (
        sum(Decimal(row[4]) for row in lines) == totals["owed_pending"] + totals["owed_available"]
    )


def test_a_guide_sees_only_their_own_statement(client, world, make):
    other_guide = make.user(name="Otro Guía", memberships=[(world.kallari, Role.GUIDE)])
    world.earn(other_guide, 999)
    db.session.commit()
    login(client, world.guide)
    page = client.get("/guide/statement", headers=EN)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Guía Andi" in body and "$8.00" in body and "$9.99" not in body
    rows = _rows(client.get(f"/guide/statement/{world.kallari.id}/statement.csv"))
    assert ["total_earned", "", "", "", "8.00", "USD"] in rows
    assert client.get(f"/guide/statement/{world.winak.id}/statement.csv").status_code == 404


def _mismatch(world, booking) -> Payment:
    payment = Payment(
        booking_id=booking.id,
        provider="stripe",
        provider_ref="pi_" + uuid.uuid4().hex[:20],
        amount_cents=9_000,
        currency="USD",
        received_cents=100,
        received_currency="USD",
        status=PaymentStatus.MISMATCH,
        created_at=utcnow(),
    )
    db.session.add(payment)
    db.session.flush()
    db.session.add(
        Refund(payment_id=payment.id, amount_cents=100, reason="mismatch", status="pending")
    )
    db.session.commit()
    return payment


def test_the_treasury_shows_its_own_mismatched_payments_only(client, world, treasurer, make):
    before = client.get(f"/manage/associations/{world.kallari.id}/treasury", headers=EN)
    assert "did not match" not in before.get_data(as_text=True)  # control: none yet
    _mismatch(world, world.booking)
    other = make.booking(make.departure(make.experience(world.winak)))
    _mismatch(world, other)
    html = client.get(f"/manage/associations/{world.kallari.id}/treasury", headers=EN).get_data(
        as_text=True
    )
    assert "Payments refused because they did not match" in html
    assert world.booking.reference in html and other.reference not in html
    assert "$90.00" in html and "$1.00" in html
