"""Payouts: balances from the ledger, payouts limited to what is available, batches that
are all-or-nothing, and statements that add up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism.database import utcnow
from tourism.models import (
    AccountKind,
    AccountState,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutMethod,
    Role,
    TransactionKind,
)
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.treasury import batches, payouts, statements
from tourism.services.treasury.batches import (
    BatchItem,
)
from tourism.services.treasury.payouts import AmountAboveAvailable, AmountNotPositive

PENDING = AccountState.PENDING
AVAILABLE = AccountState.AVAILABLE


class Books:
    """An association with two families and a guide, and helpers that post their shares."""

    def __init__(self, session, make) -> None:
        self.session = session
        self.make = make
        self.association = make.association()
        self.families = [make.family(self.association, name=n) for n in ("Alvarado", "Tapuy")]
        self.guide = make.user(memberships=[(self.association, Role.GUIDE)])
        self.admin = make.user(memberships=[(self.association, Role.ADMIN)])
        self.cash = ledger.account(session, AccountKind.CASH_HELD, self.association)
        self.experience = make.experience(self.association)
        self.days = 0

    def who(self, member):
        return payouts.as_beneficiary(self.association, member)

    def pay_one(self, member, cents: int, batch: str | None = None):
        """One payout in cash to ``member``, as a batch sent with ``batch``: (batch, payout)."""
        made, (payout,) = batches.settle_batch(
            self.session,
            self.association,
            [BatchItem(self.who(member), cents)],
            "cash",
            self.admin,
            utcnow(),
            batch=batch,
        )
        return made, payout

    def earn(self, member, cents: int, *, released: bool, departure=None):
        """A cash booking crediting ``member`` ``cents`` (pending), optionally released."""
        self.days += 1
        departure = departure or self.make.departure(
            self.experience, starts_in=timedelta(days=self.days)
        )
        booking = self.make.booking(departure)
        who = self.who(member)
        pending = who.account(self.session, PENDING)
        ledger.post(
            self.session,
            kind=TransactionKind.CASH,
            lines=[(self.cash, cents), (pending, -cents)],
            booking=booking,
        )
        if released:
            ledger.post(
                self.session,
                kind=TransactionKind.RELEASE,
                lines=[(pending, cents), (who.account(self.session, AVAILABLE), -cents)],
                booking=booking,
            )
        return booking

    def claw_back(self, member, booking, cents: int):
        """Part of a released share reversed (a late refund)."""
        ledger.post(
            self.session,
            kind=TransactionKind.ADJUSTMENT,
            lines=[(self.who(member).account(self.session, AVAILABLE), cents), (self.cash, -cents)],
            booking=booking,
        )


@pytest.fixture
def books(session, make):
    return Books(session, make)


def _line(lines, member):
    return next(
        line
        for line in lines
        if (line.beneficiary.family or line.beneficiary.user).id == member.id
        and isinstance(line.beneficiary.family or line.beneficiary.user, type(member))
    )


def _ledger_size(session):
    return (
        session.scalar(select(func.count(LedgerTransaction.id))),
        session.scalar(select(func.count(LedgerEntry.id))),
        session.scalar(select(func.count(Payout.id))),
    )


def test_balances_split_pending_from_available(books, session):
    alvarado, tapuy = books.families
    books.earn(alvarado, 2_500, released=True)
    books.earn(alvarado, 1_000, released=False)
    books.earn(books.guide, 700, released=True)
    other = books.make.association()
    books.make.family(other)  # another association's family is not listed

    lines = payouts.beneficiary_balances(session, books.association)

    assert [line.beneficiary.name for line in lines] == [
        "Alvarado",
        "Tapuy",
        books.guide.name,
    ]
    assert (_line(lines, alvarado).pending_cents, _line(lines, alvarado).available_cents) == (
        1_000,
        2_500,
    )
    assert (_line(lines, tapuy).pending_cents, _line(lines, tapuy).available_cents) == (0, 0)
    assert _line(lines, books.guide).available_cents == 700


def test_a_payout_moves_available_money_and_keeps_the_books_sound(books, session):
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    books.earn(alvarado, 1_000, released=False)
    now = utcnow()

    payout = payouts.record_payout(
        session, books.association, alvarado, 2_000, "bank_transfer", " TR-991 ", books.admin, now
    )

    assert payout.amount_cents == 2_000 and payout.reference == "TR-991"
    assert payout.method == PayoutMethod.BANK_TRANSFER and payout.family_id == alvarado.id
    transaction = payout.ledger_transaction
    assert transaction.kind == TransactionKind.PAYOUT
    assert {(e.account.kind, e.account.state, e.amount_cents) for e in transaction.entries} == {
        (AccountKind.FAMILY, AVAILABLE, 2_000),
        (AccountKind.BANK, None, -2_000),
    }
    line = _line(payouts.beneficiary_balances(session, books.association), alvarado)
    assert (line.pending_cents, line.available_cents) == (1_000, 500)
    assert checks.check(session) == []


def test_cash_payouts_come_out_of_the_office_cash(books, session):
    books.earn(books.guide, 900, released=True)
    payout = payouts.record_payout(
        session, books.association, books.guide, 900, "cash", "", books.admin, utcnow()
    )
    accounts = {e.account.kind for e in payout.ledger_transaction.entries}
    assert accounts == {AccountKind.GUIDE, AccountKind.CASH_HELD}
    assert ledger.balance(session, books.cash) == 0
    assert checks.check(session) == []


@pytest.mark.parametrize("amount", [0, -100, 2_501])
def test_a_payout_outside_the_available_balance_is_refused_and_writes_nothing(
    books, session, amount
):
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    books.earn(alvarado, 5_000, released=False)  # pending money is not payable
    session.flush()
    before = _ledger_size(session)

    expected = AmountNotPositive if amount <= 0 else AmountAboveAvailable
    with pytest.raises(expected) as caught:
        payouts.record_payout(
            session, books.association, alvarado, amount, "cash", "", books.admin, utcnow()
        )

    assert "Alvarado" in str(caught.value)
    if amount > 0:
        assert "$25,00" in str(caught.value)  # the default locale is Spanish (Ecuador)
    assert _ledger_size(session) == before


def test_another_associations_family_is_not_a_beneficiary(books, make):
    stranger = make.family(make.association())
    with pytest.raises(payouts.NotFound):
        payouts.as_beneficiary(books.association, stranger)


def test_a_statement_lists_visits_payouts_and_totals(books, session):
    alvarado, tapuy = books.families
    first = books.earn(alvarado, 2_500, released=True)
    second = books.earn(alvarado, 1_500, released=True)
    books.earn(alvarado, 400, released=False)
    books.earn(tapuy, 9_999, released=True)  # someone else's money is not on it
    books.claw_back(alvarado, second, 500)
    payouts.record_payout(
        session, books.association, alvarado, 3_000, "cash", "R-1", books.admin, utcnow()
    )

    result = statements.statement(session, books.who(alvarado))

    by_reference = {v.booking_reference: v for v in result.visits}
    assert set(by_reference) == {first.reference, second.reference} | {
        v.booking_reference for v in result.visits if v.credited_cents == 400
    }
    assert len(result.visits) == 3
    assert (
        by_reference[first.reference].credited_cents,
        by_reference[first.reference].reversed_cents,
    ) == (2_500, 0)
    assert by_reference[second.reference].net_cents == 1_000
    assert by_reference[first.reference].experience
    assert result.credited_cents == 4_400 and result.reversed_cents == 500
    assert result.earned_cents == 3_900
    assert [p.amount_cents for p in result.payouts] == [3_000] and result.paid_cents == 3_000
    # what is still owed = earned - paid
    assert result.pending_cents == 400 and result.available_cents == 500
    assert result.earned_cents - result.paid_cents == result.pending_cents + result.available_cents


def test_a_statement_for_a_period_leaves_out_what_came_after(books, session):
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    session.flush()
    cut = utcnow() + timedelta(seconds=1)
    result = statements.statement(session, books.who(alvarado), (None, cut - timedelta(days=1)))
    assert result.visits == [] and result.earned_cents == 0 and result.available_cents == 0
    result = statements.statement(session, books.who(alvarado), (cut - timedelta(days=1), cut))
    assert result.earned_cents == 2_500


def test_a_statement_writes_nothing(books, session):
    tapuy = books.families[1]
    session.flush()
    before = session.scalar(select(func.count()).select_from(ledger.LedgerAccount))
    result = statements.statement(session, books.who(tapuy))
    assert result.visits == [] and result.paid_cents == 0
    session.flush()
    assert session.scalar(select(func.count()).select_from(ledger.LedgerAccount)) == before


def test_the_statement_token_is_private_and_stable(books, session):
    alvarado = books.families[0]
    token = statements.statement_link_token(session, alvarado)
    assert len(token) >= 43
    assert statements.statement_link_token(session, alvarado) == token
    assert statements.family_by_statement_token(session, token) is alvarado
    for wrong in ("", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 100):
        with pytest.raises(payouts.NotFound):
            statements.family_by_statement_token(session, wrong)
