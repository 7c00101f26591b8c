"""Postings for what is learned after the money arrived, and catching up with old payments.

- **A fee learned later.** Stripe may report a card payment's fee after the payment was
  posted with none. ``post_fee`` then credits ``processor_fees`` with the difference and
  shares the payment again as if the fee had been known (the fee off the gross first, as
  the rule says), moving each share by the difference; a released share gives back from
  available first. One ``adjustment`` per change of fee; posting it again changes nothing.
- **Payments from before the ledger.** ``backfill`` posts every succeeded payment, refund and
  dispute that has no posting yet (``flask ledger-backfill``), so ``flask ledger-check``
  can vouch for the whole history.

Guides assigned late and stops confirmed before the start are ``releases``' business.
Adjustments count as part of what a share "was given" when a later refund claws back
(``postings.ORIGINAL_KINDS``), so a refund after a late fee or a late assignment comes
back from the right people.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Dispute, Payment, PaymentStatus, Refund, RefundStatus
from ...models.ledger import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from . import journal as ledger
from . import postings, shares

FEE_MEMO = "processor fee learned after posting"


def posted_fee(session: Session, payment: Payment) -> int:
    """The processor fee the ledger has recorded for ``payment`` so far (positive cents)."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerTransaction.payment_id == payment.id,
            LedgerAccount.kind == AccountKind.PROCESSOR_FEES,
            LedgerTransaction.kind.in_(postings.ORIGINAL_KINDS),
        )
    )
    return -int(total)


def post_fee(session: Session, payment: Payment) -> LedgerTransaction | None:
    """Bring the ledger's fee for a posted card payment up to ``payment.fee_cents``."""
    if payment.provider == "cash" or payment.status != PaymentStatus.SUCCEEDED:
        return None
    if payment.fee_cents is None:
        return None
    if ledger.find_transaction(session, TransactionKind.PAYMENT, payment_id=payment.id) is None:
        return postings.post_payment(session, payment)  # posts the fee with the split
    delta = payment.fee_cents - posted_fee(session, payment)
    if delta <= 0:
        return None  # a fee never shrinks on Stripe; nothing to do when it is already in
    given = postings.original_shares(session, payment)
    target = {
        account: -cents
        for account, cents in postings.share_lines(
            session,
            payment.booking,
            payment.amount_cents,
            payment.fee_cents,
            postings.paid_before(session, payment),
        )
    }
    fees = ledger.account(
        session, AccountKind.PROCESSOR_FEES, shares.association_of(payment.booking)
    )
    lines = [(fees, -delta)]
    released = postings.released_shares(session, payment)
    for account in [*given, *(a for a in target if a not in given)]:
        difference = given.get(account, 0) - target.get(account, 0)
        lines += postings.take_from_share(session, payment, account, difference, released)
    return ledger.post(
        session,
        kind=TransactionKind.ADJUSTMENT,
        lines=lines,
        payment=payment,
        memo=FEE_MEMO,
        currency=payment.currency,
    )


def backfill(session: Session) -> dict[str, int]:
    """Post every succeeded payment, refund and dispute the ledger does not know yet."""
    counts = {"payments": 0, "refunds": 0, "disputes": 0}
    posted = select(LedgerTransaction.id).where(
        LedgerTransaction.payment_id == Payment.id,
        LedgerTransaction.kind.in_((TransactionKind.PAYMENT, TransactionKind.CASH)),
    )
    for payment in session.scalars(
        select(Payment)
        .where(Payment.status == PaymentStatus.SUCCEEDED, ~posted.exists())
        .order_by(Payment.id)
    ):
        postings.post_payment(session, payment)
        counts["payments"] += 1
    refund_posted = select(LedgerTransaction.id).where(LedgerTransaction.refund_id == Refund.id)
    for refund in session.scalars(
        select(Refund)
        .where(Refund.status == RefundStatus.SUCCEEDED, ~refund_posted.exists())
        .order_by(Refund.id)
    ):
        if postings.post_refund(session, refund) is not None:
            counts["refunds"] += 1
    for dispute in session.scalars(select(Dispute).order_by(Dispute.id)):
        before = session.scalar(
            select(func.count()).where(LedgerTransaction.dispute_id == dispute.id)
        )
        postings.post_dispute(session, dispute)
        after = session.scalar(
            select(func.count()).where(LedgerTransaction.dispute_id == dispute.id)
        )
        counts["disputes"] += after > before
    return counts
