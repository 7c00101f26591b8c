"""Payout batches: a settlement of several payouts is all-or-nothing, and the payout table
sent twice (its batch key) records one settlement."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.services.treasury import test_payouts as shared
from tourism.database import utcnow
from tourism.models import Payout
from tourism.services.ledger import checks
from tourism.services.treasury import batches, payouts
from tourism.services.treasury.batches import (
    BatchItem,
    BatchSentAgain,
    DuplicateBeneficiary,
    EmptyBatch,
)
from tourism.services.treasury.payouts import AmountAboveAvailable

Books, books, _ledger_size, _line = shared.Books, shared.books, shared._ledger_size, shared._line


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
