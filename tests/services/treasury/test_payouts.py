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
    BatchSentAgain,
    DuplicateBeneficiary,
    EmptyBatch,
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


def test_a_batch_pays_everyone_in_one_settlement(books, session):
    alvarado, tapuy = books.families
    books.earn(alvarado, 2_500, released=True)
    books.earn(tapuy, 1_200, released=True)
    books.earn(books.guide, 800, released=True)
    items = [
        BatchItem(books.who(alvarado), 2_500, "A-1"),
        BatchItem(books.who(tapuy), 1_000, "T-1"),
        BatchItem(books.who(books.guide), 800),
    ]

    batch, made = batches.settle_batch(
        session, books.association, items, "mobile_money", books.admin, utcnow()
    )

    assert len(made) == 3 and {p.batch for p in made} == {batch}
    assert batches.batch_payouts(session, books.association, batch) == made
    available = {
        line.beneficiary.name: line.available_cents
        for line in payouts.beneficiary_balances(session, books.association)
    }
    assert available == {"Alvarado": 0, "Tapuy": 200, books.guide.name: 0}
    assert checks.check(session) == []


def test_a_batch_with_one_refused_item_writes_nothing(books, session):
    alvarado, tapuy = books.families
    books.earn(alvarado, 2_500, released=True)
    books.earn(tapuy, 1_200, released=True)
    session.flush()
    before = _ledger_size(session)
    items = [
        BatchItem(books.who(alvarado), 2_500),
        BatchItem(books.who(tapuy), 1_201),  # one cent too many
    ]

    with pytest.raises(AmountAboveAvailable):
        batches.settle_batch(session, books.association, items, "cash", books.admin, utcnow())

    assert _ledger_size(session) == before
    session.commit()  # the caller's transaction is still usable, and the first item is gone
    assert _ledger_size(session) == before
    line = _line(payouts.beneficiary_balances(session, books.association), alvarado)
    assert line.available_cents == 2_500


def test_a_batch_refuses_nobody_and_the_same_person_twice(books, session):
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    with pytest.raises(EmptyBatch):
        batches.settle_batch(session, books.association, [], "cash", books.admin, utcnow())
    twice = [BatchItem(books.who(alvarado), 100), BatchItem(books.who(alvarado), 100)]
    with pytest.raises(DuplicateBeneficiary):
        batches.settle_batch(session, books.association, twice, "cash", books.admin, utcnow())


def test_a_payout_table_sent_twice_records_one_settlement(books, session):
    """A treasurer paying part of a balance double-clicks: the second sending, with the key
    the table was shown with, records nothing and names the first sending's batch."""
    alvarado, tapuy = books.families
    books.earn(alvarado, 2_500, released=True)
    books.earn(tapuy, 1_200, released=True)
    shown = batches.shown_batch_id()
    items = [BatchItem(books.who(alvarado), 1_000, "A-1"), BatchItem(books.who(tapuy), 500)]
    batch, made = batches.settle_batch(
        session, books.association, items, "cash", books.admin, utcnow(), batch=shown
    )
    session.commit()
    before = _ledger_size(session)

    with pytest.raises(BatchSentAgain) as sent:
        batches.settle_batch(
            session, books.association, items, "cash", books.admin, utcnow(), batch=shown
        )

    assert batch == shown and sent.value.batch == shown and sent.value.status_code == 303
    assert _ledger_size(session) == before
    assert session.scalar(select(func.count()).select_from(Payout)) == len(made) == 2
    line = _line(payouts.beneficiary_balances(session, books.association), alvarado)
    assert line.available_cents == 1_500  # paid once: 1,000 of 2,500
    # Another table page (its own key) pays again, as the treasurer means it to.
    again, _ = batches.settle_batch(
        session,
        books.association,
        items[:1],
        "cash",
        books.admin,
        utcnow(),
        batch=batches.shown_batch_id(),
    )
    assert again != shown
    assert checks.check(session) == []


@pytest.mark.parametrize(
    "sent", [None, "", "0" * 31, "G" * 32, "A" * 32, "0" * 33, "'; drop table payouts; --", 42]
)
def test_a_payout_table_without_one_of_our_keys_records_a_new_batch(books, session, sent):
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    batch, _ = books.pay_one(alvarado, 100, batch=sent)
    assert batch != sent and batches.BATCH_ID.fullmatch(batch)


def test_another_associations_batch_key_is_not_a_repeat(books, session, make):
    """A key already used by another association is neither refused as a repeat nor shared:
    the batch gets a key of its own, and each association's sheet shows its own payouts."""
    alvarado = books.families[0]
    books.earn(alvarado, 2_500, released=True)
    other = Books(session, make)
    theirs = other.families[0]
    other.earn(theirs, 900, released=True)
    key = batches.shown_batch_id()
    other.pay_one(theirs, 900, batch=key)

    batch, ours = books.pay_one(alvarado, 100, batch=key)

    assert batch != key
    assert batches.batch_payouts(session, books.association, batch) == [ours]
    assert len(batches.batch_payouts(session, other.association, key)) == 1


def test_a_shown_batch_id_keeps_a_valid_sent_one_only():
    key = batches.new_batch_id()
    assert batches.shown_batch_id(key) == key
    assert batches.shown_batch_id("nope") != "nope"
    assert batches.shown_batch_id() != batches.shown_batch_id()


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
