"""Net rates: a reseller pays us a net amount per ticket and keeps the rest of the retail
price. Its share (retail less net, per ticket) is its party of the split, posted to the cent
for cash and prepaid sales alike, priced so in OCTO and shown on its statement; later sales
only; a net above the cheapest ticket is refused."""

from __future__ import annotations

import pytest

from tests.services.channels.test_reseller_money import _cash, _entries, _prepaid, _sell, world
from tourism.database import utcnow, write_transactions
from tourism.errors import DomainError
from tourism.extensions import db
from tourism.models import ResellerRate
from tourism.models.ledger import AccountKind, TransactionKind
from tourism.services.channels import products, representation, resellers
from tourism.services.ledger import checks, reseller_postings
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.shares import booking_commission, unit_commission

__all__ = ["world"]  # the fixture, shared


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


NET = 2_000  # per ticket; the tickets are $45.99 (adult) and $23.33 (child)


def _net_rate(world, cents=NET):
    resellers.set_rate(
        db.session, world["admin"], world["reseller"], world["experience"], 0, utcnow(), cents
    )
    db.session.commit()


def test_the_share_is_retail_less_net_per_ticket_never_below_zero():
    assert unit_commission(4_599, 1_250) == 575
    assert unit_commission(4_599, 1_250, 3_000) == 1_599  # the commission is ignored
    assert unit_commission(2_333, 0, 3_000) == 0
    assert products.price(4_599, "USD", 0, 3_000)["net"] == 3_000
    assert products.line_price(4_599, 3, "USD", 0, 3_000)["net"] == 9_000


def test_a_net_rate_applies_to_later_sales_and_prices_octo(world):
    reseller, experience = world["reseller"], world["experience"]
    before = _sell(world)
    _net_rate(world, 2_000)
    assert resellers.net_rate_for(reseller, experience) == 2_000
    assert resellers.commission_for(reseller, experience) == 0
    assert resellers.net_rate_for(reseller, world["other"]) is None
    after = _sell(world)
    assert (before.commission_bp, before.net_cents) == (1_250, None)
    assert (after.commission_bp, after.net_cents) == (0, 2_000)
    booking = after.booking
    assert booking_commission(booking, 0, 2_000) == 2 * (4_599 - 2_000) + (2_333 - 2_000)
    caps = products.Capabilities(pricing=True)
    shown = representation.booking_object(after, caps, utcnow(), str, "en", "https://x.example")
    assert [item["pricing"]["net"] for item in shown["unitItems"]] == [2_000] * 3
    assert shown["pricing"]["net"] == 3 * 2_000
    assert shown["pricing"]["retail"] == booking.total_cents


@pytest.mark.parametrize("cents", [-1, 2_334, "30"])
def test_a_net_rate_above_the_cheapest_ticket_is_refused(world, cents):
    with pytest.raises(DomainError) as raised:
        resellers.set_rate(
            db.session, world["admin"], world["reseller"], world["experience"], 0, utcnow(), cents
        )
    assert raised.value.status_code == 400
    db.session.rollback()
    assert db.session.query(ResellerRate).count() == 0


def test_cash_paid_net_rate_booking_splits_to_the_cent(world):
    _net_rate(world)
    booking = _sell(world).booking
    share = 2 * (4_599 - NET) + (2_333 - NET)
    payment = _cash(world, booking, booking.total_cents)
    found, transaction = _entries(payment)
    assert found[(AccountKind.RESELLER_COMMISSION, world["reseller"].id)] == -share
    credits = -sum(e.amount_cents for e in transaction.entries if e.amount_cents < 0)
    assert credits == booking.total_cents
    assert checks.check(db.session) == []


def test_a_prepaid_net_rate_sale_owes_the_net_and_the_statement_shows_it(world):
    _prepaid(world)
    _net_rate(world)
    booking = _sell(world).booking
    share = 2 * (4_599 - NET) + (2_333 - NET)
    owed = booking.total_cents - share
    assert owed == 3 * NET
    assert reseller_postings.owed(db.session, world["reseller"]) == owed
    commission = ledger.account(
        db.session, AccountKind.RESELLER_COMMISSION, reseller=world["reseller"]
    )
    sale = ledger.find_transaction(db.session, TransactionKind.RESELLER_SALE, booking_id=booking.id)
    assert sum(e.amount_cents for e in sale.entries) == 0
    assert ledger.balance(db.session, commission) == 0  # kept out of the money it collected
    (line,) = reseller_postings.statement(db.session, world["reseller"]).lines
    assert (line.net_rate_cents, line.commission_cents, line.owed_cents) == (NET, share, owed)
    assert checks.check(db.session) == []
