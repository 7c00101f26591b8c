"""The ledger: balanced postings, reversals, balances as sums, a database that refuses edits,
and a check that finds a broken history."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import is_postgres
from tourism.database import utcnow
from tourism.models import (
    AccountKind,
    AccountState,
    AppendOnlyViolation,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    TransactionKind,
)
from tourism.models.payment import Dispute
from tourism.money import allocate
from tourism.services.ledger import checks
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.splits import Member, Party, Share, SplitRule, split_payment

PENDING = AccountState.PENDING
AVAILABLE = AccountState.AVAILABLE

RULE = SplitRule(
    (
        Share(Party.FAMILIES, basis_points=5_000),
        Share(Party.GUIDES, basis_points=2_000, cents_per_participant=300),
        Share(Party.ASSOCIATION_FUND, basis_points=1_500),
        Share(Party.CONSERVATION_FUND, basis_points=500),
        Share(Party.PLATFORM, basis_points=1_000),
    )
)


class Books:
    """One association's accounts, and postings in the shape later services will use."""

    def __init__(self, session, make) -> None:
        self.session = session
        self.association = make.association()
        self.families = [make.family(self.association) for _ in range(3)]
        self.guides = [make.guide(self.association) for _ in range(2)]
        account = ledger.account
        a = self.association
        self.clearing = account(session, AccountKind.STRIPE_CLEARING, a)
        self.fees = account(session, AccountKind.PROCESSOR_FEES, a)
        self.cash = account(session, AccountKind.CASH_HELD, a, user=self.guides[0])
        self.bank = account(session, AccountKind.BANK, a)
        self.refunds_owed = account(session, AccountKind.TOURIST_REFUNDS, a)
        self.shares = {
            (Party.FAMILIES, f.id): account(session, AccountKind.FAMILY, family=f, state=PENDING)
            for f in self.families
        } | {
            (Party.GUIDES, g.id): account(session, AccountKind.GUIDE, a, user=g, state=PENDING)
            for g in self.guides
        }
        for party, kind in (
            (Party.ASSOCIATION_FUND, AccountKind.ASSOCIATION_FUND),
            (Party.CONSERVATION_FUND, AccountKind.CONSERVATION_FUND),
            (Party.PLATFORM, AccountKind.PLATFORM),
        ):
            self.shares[party, None] = account(session, kind, a, state=PENDING)

    def pay(self, booking, gross: int, fee: int, participants: int = 2) -> Payment:
        """A card payment that succeeded, posted: the processor holds the gross, keeps its
        fee, and every share is credited pending."""
        payment = Payment(
            booking=booking,
            provider="stripe",
            amount_cents=gross,
            fee_cents=fee,
            status=PaymentStatus.SUCCEEDED,
        )
        self.session.add(payment)
        split = split_payment(
            gross,
            fee,
            participants,
            RULE,
            families=[Member(f.id) for f in self.families],
            guides=[Member(g.id) for g in self.guides],
        )
        lines = [(self.clearing, gross), (self.fees, -fee)]
        lines += [(self.shares[p.party, p.member_id], -p.cents) for p in split.portions]
        ledger.post(self.session, kind=TransactionKind.PAYMENT, lines=lines, payment=payment)
        return payment

    def refund(self, payment: Payment, amount: int) -> Refund:
        """A refund: the shares give it back in proportion to what they got."""
        refund = Refund(
            payment=payment,
            amount_cents=amount,
            reason="tourist_cancelled",
            status=RefundStatus.SUCCEEDED,
        )
        self.session.add(refund)
        self.session.flush()
        accounts = list(self.shares.values())
        held = ledger.balances(self.session, accounts)
        weights = [max(-held[a], 0) for a in accounts]
        if any(weights):
            lines = list(zip(accounts, allocate(amount, weights), strict=True))
        else:
            lines = [(self.shares[Party.ASSOCIATION_FUND, None], amount)]
        lines.append((self.clearing, -amount))
        ledger.post(self.session, kind=TransactionKind.REFUND, lines=lines, refund=refund)
        return refund


@pytest.fixture
def books(session, make) -> Books:
    return Books(session, make)


def _lines(transaction) -> list[tuple[int, int]]:
    return [(e.account_id, e.amount_cents) for e in transaction.entries]


# The database refuses to change the past ----------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount_cents = amount_cents + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET memo = 'rewritten'",
        "DELETE FROM ledger_transactions",
    ],
)
def test_the_database_refuses_updates_and_deletes(session, books, statement):
    ledger.post(session, kind="adjustment", lines=[(books.bank, 100), (books.refunds_owed, -100)])
    session.commit()

    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()

    assert session.scalar(select(func.count(LedgerEntry.id))) == 2
    assert session.scalar(select(func.sum(LedgerEntry.amount_cents))) == 0


@pytest.mark.skipif(not is_postgres(), reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize("table", ["ledger_entries", "ledger_transactions"])
def test_postgres_refuses_truncate(session, books, table):
    ledger.post(session, kind="adjustment", lines=[(books.bank, 1), (books.refunds_owed, -1)])
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(f"TRUNCATE {table} CASCADE"))
    session.rollback()
    assert session.scalar(select(func.count(LedgerEntry.id))) == 2


def test_the_orm_refuses_before_the_database_does(session, books):
    transaction = ledger.post(
        session, kind="adjustment", lines=[(books.bank, 100), (books.refunds_owed, -100)]
    )
    session.commit()

    transaction.entries[0].amount_cents = 99
    with pytest.raises(AppendOnlyViolation, match="amount_cents"):
        session.flush()
    session.rollback()

    transaction.memo = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()

    session.delete(transaction.entries[0])
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    assert [e.amount_cents for e in transaction.entries] == [100, -100]


# Posting ------------------------------------------------------------------------------------


def test_post_records_a_balanced_transaction_and_skips_zero_lines(session, books, make):
    booking = make.booking()
    transaction = ledger.post(
        session,
        kind=TransactionKind.CASH,
        lines=[(books.cash, 4_500), (books.bank, 0), (books.refunds_owed, -4_500)],
        booking=booking,
        memo="cash at the meeting point",
    )
    assert transaction.id is not None
    assert transaction.booking_id == booking.id
    assert _lines(transaction) == [(books.cash.id, 4_500), (books.refunds_owed.id, -4_500)]
    assert {e.currency for e in transaction.entries} == {"USD"}


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([], ledger.EmptyTransaction),
        ([("bank", 0), ("refunds_owed", 0)], ledger.EmptyTransaction),
        ([("bank", 100), ("refunds_owed", -99)], ledger.UnbalancedTransaction),
        ([("bank", 100)], ledger.UnbalancedTransaction),
        ([("bank", 1.5), ("refunds_owed", -1.5)], TypeError),
    ],
)
def test_post_refuses_what_does_not_balance(session, books, lines, error):
    lines = [(getattr(books, name), amount) for name, amount in lines]
    with pytest.raises(error):
        ledger.post(session, kind="adjustment", lines=lines)
    assert session.scalar(select(func.count(LedgerTransaction.id))) == 0


def test_unbalanced_error_says_by_how_much(session, books):
    with pytest.raises(ledger.UnbalancedTransaction) as caught:
        ledger.post(session, kind="adjustment", lines=[(books.bank, 5), (books.cash, 2)])
    assert caught.value.total == 7
    assert "+7" in str(caught.value)


def test_a_refund_names_its_payment_and_booking(session, books, make):
    booking = make.booking()
    payment = books.pay(booking, 10_000, 320)
    refund = books.refund(payment, 2_500)
    transaction = session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.refund_id == refund.id)
    )
    assert (transaction.payment_id, transaction.booking_id) == (payment.id, booking.id)
    other = make.booking()
    with pytest.raises(ledger.LedgerError):
        ledger.post(
            session,
            kind="refund",
            lines=[(books.bank, 1), (books.cash, -1)],
            refund=refund,
            booking=other,
        )


# Accounts -----------------------------------------------------------------------------------


def test_account_is_created_once(session, make):
    association = make.association()
    family = make.family(association)
    first = ledger.account(session, "family", family=family, state="pending")
    assert first.association_id == association.id
    assert ledger.account(session, AccountKind.FAMILY, association, family, state=PENDING) is first
    assert ledger.account(session, "family", family=family, state="available") is not first
    platform = ledger.account(session, "platform", state="available")
    assert ledger.account(session, "platform", state="available") is platform
    assert platform.association_id is None
    session.commit()
    assert session.scalar(select(func.count(LedgerAccount.id))) == 3


class _LookupMissesOnce:
    """A session whose first lookup misses, as if another transaction inserted the same
    account between our SELECT and our INSERT."""

    def __init__(self, session) -> None:
        self._session = session
        self._missed = False

    def __getattr__(self, name):
        return getattr(self._session, name)

    def scalar(self, *args, **kwargs):
        if not self._missed:
            self._missed = True
            return None
        return self._session.scalar(*args, **kwargs)


def test_account_uses_the_one_a_concurrent_transaction_created(session, make):
    association = make.association()
    theirs = ledger.account(session, AccountKind.BANK, association)
    session.commit()

    ours = ledger.account(_LookupMissesOnce(session), AccountKind.BANK, association)

    assert ours is theirs
    session.commit()  # the failed insert was undone alone, in its savepoint
    assert session.scalar(select(func.count(LedgerAccount.id))) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda s, a, f, u: ledger.account(s, "family", family=f),  # no state
        lambda s, a, f, u: ledger.account(s, "bank", a, state="pending"),  # state on an asset
        lambda s, a, f, u: ledger.account(s, "guide", a, family=f, state="pending"),
        lambda s, a, f, u: ledger.account(s, "bank", a, user=u),
        lambda s, a, f, u: ledger.account(s, "cash_held"),  # no association
        lambda s, a, f, u: ledger.account(
            s, "family", u.memberships[0].association, f, state="pending"
        ),
    ],
)
def test_account_refuses_shapes_that_make_no_sense(session, make, call):
    association = make.association()
    family = make.family(association)
    user = make.guide(make.association())
    with pytest.raises(ledger.InvalidAccount):
        call(session, association, family, user)


def test_the_database_refuses_shapes_that_make_no_sense_too(session, make):
    family = make.family()
    session.add(
        LedgerAccount(
            key="bad", kind=AccountKind.BANK, family=family, association=family.association
        )
    )
    with pytest.raises(DBAPIError):
        session.flush()
    session.rollback()


# Reversals and balances ---------------------------------------------------------------------


def test_reverse_negates_once(session, books, make):
    payment = books.pay(make.booking(), 9_000, 291)
    original = session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.payment_id == payment.id)
    )
    reversal = ledger.reverse(session, original, "posted by mistake")

    assert reversal.kind == TransactionKind.REVERSAL
    assert reversal.reverses_id == original.id
    assert reversal.payment_id == payment.id
    assert _lines(reversal) == [(a, -cents) for a, cents in _lines(original)]
    assert all(amount == 0 for amount in ledger.balances(session).values())
    with pytest.raises(ledger.AlreadyReversed):
        ledger.reverse(session, original, "again")
    # A reversal can be reversed (reinstating the original), once.
    ledger.reverse(session, reversal, "it was right after all")
    assert ledger.balance(session, books.clearing) == 9_000
    assert checks.check(session) == []


def test_balances_are_sums_and_can_look_back(session, books, make):
    books.pay(make.booking(), 10_000, 320)
    session.commit()
    before_second = utcnow()
    books.pay(make.booking(), 5_000, 175)

    assert ledger.balance(session, books.clearing) == 15_000
    assert ledger.balance(session, books.fees) == -495
    assert ledger.balance(session, books.clearing, until=before_second) == 10_000
    assert ledger.balance(session, books.bank) == 0
    families = ledger.balances(session, kind=AccountKind.FAMILY, association=books.association)
    assert set(families) == {books.shares[Party.FAMILIES, f.id] for f in books.families}
    # Half of what is left after the fee and the guides' 2 x $3: 4,540 + 2,112.5 (rounded up).
    assert sum(families.values()) == -(4_540 + 2_113)
    chosen = ledger.balances(session, [books.bank, books.clearing])
    assert chosen == {books.bank: 0, books.clearing: 15_000}
    assert ledger.balances(session, until=before_second - timedelta(days=1)) == {}
    assert ledger.balance(session, books.clearing, currency="EUR") == 0


# A generated history ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_a_generated_history_is_sound_and_balances_are_its_sums(session, books, make, seed):
    rnd = random.Random(seed)
    accounts = [books.clearing, books.fees, books.cash, books.bank, books.refunds_owed]
    accounts += books.shares.values()
    expected: dict[int, int] = defaultdict(int)
    posted: list[LedgerTransaction] = []
    payments: list[Payment] = []
    departure = make.departure()

    for _ in range(120):
        roll = rnd.random()
        if roll < 0.2:
            gross = rnd.randint(0, 50_000)
            payment = books.pay(make.booking(departure), gross, gross * 3 // 100, rnd.randint(1, 6))
            payments.append(payment)
            transaction = session.scalar(
                select(LedgerTransaction).where(LedgerTransaction.payment_id == payment.id)
            )
            posted.append(transaction)
        elif roll < 0.3 and payments:
            payment = rnd.choice(payments)
            left = payment.amount_cents - sum(r.amount_cents for r in payment.refunds)
            if not left:
                continue
            refund = books.refund(payment, rnd.randint(1, left))
            transaction = session.scalar(
                select(LedgerTransaction).where(LedgerTransaction.refund_id == refund.id)
            )
            posted.append(transaction)
        elif roll < 0.45 and posted:
            target = rnd.choice(posted)
            if ledger._reversal_of(session, target) is not None:
                with pytest.raises(ledger.AlreadyReversed):
                    ledger.reverse(session, target, "twice")
                continue
            if target.payment_id is not None and target.kind == TransactionKind.REVERSAL:
                continue  # reinstating a payment's money twice would not match the payment
            transaction = ledger.reverse(session, target, "generated correction")
            posted.append(transaction)
            if target.payment_id is not None:
                # A payment's posting is corrected by reversing it and posting it again,
                # so the ledger keeps matching the payment.
                for entry in transaction.entries:
                    expected[entry.account_id] += entry.amount_cents
                transaction = ledger.post(
                    session,
                    kind=target.kind,
                    lines=[(e.account, e.amount_cents) for e in target.entries],
                    payment=target.payment,
                    refund=target.refund,
                    memo="posted again",
                )
                posted.append(transaction)
        else:
            chosen = rnd.sample(accounts, rnd.randint(2, 5))
            amounts = [rnd.randint(-100_000, 100_000) for _ in chosen[1:]]
            amounts.insert(0, -sum(amounts))
            if not any(amounts):
                continue
            kind = rnd.choice(
                [
                    TransactionKind.RELEASE,
                    TransactionKind.PAYOUT,
                    TransactionKind.TRANSFER,
                    TransactionKind.ADJUSTMENT,
                ]
            )
            transaction = ledger.post(
                session, kind=kind, lines=list(zip(chosen, amounts, strict=True))
            )
            posted.append(transaction)
        for entry in transaction.entries:
            expected[entry.account_id] += entry.amount_cents
        if rnd.random() < 0.1:
            session.commit()
    session.commit()
    kinds = Counter(t.kind for t in posted)
    assert kinds[TransactionKind.PAYMENT] and kinds[TransactionKind.REFUND]
    assert kinds[TransactionKind.REVERSAL] >= 5

    assert checks.check(session) == []
    stored = ledger.balances(session, list(accounts))
    assert {a.id: cents for a, cents in stored.items()} == {a.id: expected[a.id] for a in accounts}
    assert sum(stored.values()) == 0
    for ledger_account in accounts[:4]:
        assert ledger.balance(session, ledger_account) == expected[ledger_account.id]


# A broken history is found ------------------------------------------------------------------


def _raw_transaction(session, kind="adjustment", refund_id=None, reverses_id=None) -> int:
    """A transaction inserted with SQL, past ``ledger.post`` and its checks."""
    return session.execute(
        text(
            "INSERT INTO ledger_transactions (created_at, kind, memo, refund_id, reverses_id) "
            "VALUES (CURRENT_TIMESTAMP, :kind, 'inserted by hand', :refund_id, :reverses_id) "
            "RETURNING id"
        ),
        {"kind": kind, "refund_id": refund_id, "reverses_id": reverses_id},
    ).scalar_one()


def _raw_entry(session, transaction_id: int, account, cents: int) -> None:
    session.execute(
        text(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents, currency) "
            "VALUES (:t, :a, :c, 'USD')"
        ),
        {"t": transaction_id, "a": account.id, "c": cents},
    )


def test_check_finds_an_unbalanced_transaction(session, books, make, runner):
    books.pay(make.booking(), 10_000, 320)
    session.commit()
    clean = runner.invoke(args=["ledger-check"])
    assert clean.exit_code == 0, clean.output
    assert "sound" in clean.output

    broken = _raw_transaction(session)
    _raw_entry(session, broken, books.bank, 500)
    _raw_entry(session, broken, books.cash, -499)
    session.commit()

    assert checks.check(session) == [
        f"transaction {broken} is unbalanced: its USD entries sum to +1 cents"
    ]
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 1
    assert f"transaction {broken} is unbalanced" in result.output


def test_check_finds_a_transaction_without_entries(session, books):
    empty = _raw_transaction(session)
    assert checks.check(session) == [f"transaction {empty} has no entries"]


def test_check_finds_a_reversal_that_does_not_mirror(session, books):
    original = ledger.post(session, kind="transfer", lines=[(books.bank, 700), (books.cash, -700)])
    fake = _raw_transaction(session, kind="reversal", reverses_id=original.id)
    _raw_entry(session, fake, books.bank, -700)
    _raw_entry(session, fake, books.refunds_owed, 700)
    assert checks.check(session) == [
        f"transaction {fake} does not mirror transaction {original.id} it reverses: "
        f"account {books.cash.id} is left at -700 cents",
        f"transaction {fake} does not mirror transaction {original.id} it reverses: "
        f"account {books.refunds_owed.id} is left at +700 cents",
    ]


def test_check_compares_each_payment_with_the_ledger(session, books, make):
    payment = books.pay(make.booking(), 10_000, 320)
    books.refund(payment, 4_000)
    assert checks.check(session) == []

    # A refund the ledger never heard of.
    session.add(Refund(payment=payment, amount_cents=1_000, reason="provider"))
    session.flush()
    assert checks.check(session) == [
        f"payment {payment.id}: the ledger holds 6000 USD cents of it, the payment says 5000"
    ]


def test_check_counts_disputes_lost_and_in_progress(session, books, make):
    payment = books.pay(make.booking(), 10_000, 320)
    disputed = ledger.account(session, AccountKind.DISPUTED_FUNDS, books.association)
    dispute = Dispute(
        payment=payment, provider_ref="dp_1", amount_cents=10_000, status="needs_response"
    )
    session.add(dispute)
    session.flush()
    opened = ledger.post(
        session,
        kind="dispute",
        lines=[(disputed, 10_000), (books.clearing, -10_000)],
        dispute=dispute,
    )
    assert opened.payment_id == payment.id
    assert checks.check(session) == []  # withheld money is still the payment's

    dispute.status = "lost"
    session.flush()
    assert checks.check(session) == [
        f"payment {payment.id}: the ledger holds 10000 USD cents of it, the payment says 0"
    ]
    family = books.shares[Party.FAMILIES, books.families[0].id]
    ledger.post(
        session, kind="dispute_lost", lines=[(family, 10_000), (disputed, -10_000)], dispute=dispute
    )
    assert checks.check(session) == []


def test_check_finds_postings_for_payments_that_did_not_succeed(session, books, make):
    payment = books.pay(make.booking(), 3_000, 117)
    payment.status = PaymentStatus.FAILED
    session.flush()
    assert checks.check(session) == [
        f"payment {payment.id}: the ledger holds 3000 USD cents of it, the payment says 0"
    ]


def test_check_finds_a_refund_posted_without_its_payment(session, books, make):
    payment = books.pay(make.booking(), 3_000, 117)
    refund = books.refund(payment, 1_000)
    stray = _raw_transaction(session, kind="refund", refund_id=refund.id)
    _raw_entry(session, stray, books.bank, 1)
    _raw_entry(session, stray, books.cash, -1)
    assert checks.check(session) == [
        f"transaction {stray} names refund {refund.id} but not its payment {payment.id}"
    ]
