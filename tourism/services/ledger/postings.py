"""Ledger postings for money events: each is called inside the transaction that records the
event (a payment succeeding, cash collected, a refund, a dispute, a stop confirmed), so the
books and the event commit or roll back together.

Every posting is idempotent: an existing transaction of the same kind naming the same
payment / refund / dispute (or release memo key) means replaying the event posts nothing.

Decisions (see also ``tourism/models/ledger.py`` for accounts and signs):
- **Payment / cash.** Card: debit ``stripe_clearing`` with the gross, credit
  ``processor_fees`` with the fee (0 if not known yet), credit the beneficiaries' *pending*
  accounts with the net, split by the booking's rule (``Booking.split_rule_id``). Cash:
  debit ``cash_held`` of the guide who collected it, no fee. Bank transfer (a group's quote,
  recorded by the treasurer): debit ``bank``, no fee. A booking sold before any rule
  was approved credits everything after fees to the association fund (pending): the money
  stays in the community until someone decides, and an adjustment can share it later.
  Families: one member per hosted stop of the experience (the rule's stop weights); guides:
  the guides assigned to the departure when the money arrived, equal weights; a party
  without members credits its unassigned pool (the account with no family / user).
- **Refund.** The shares give back ``refund * net / gross`` of the refund, shared out
  over what each account was originally credited with ``money.allocate``; computed
  cumulatively (all refunds and lost disputes of the payment so far), so repeated partial
  refunds never drift or over-reverse. A share gives back from available first when it was
  released, then from pending. The processor keeps its fee on a refund, so the rest of
  the refund (the fee's part) is charged to the association fund (pending).
- **Dispute.** Opened: the processor withdraws the amount, ``stripe_clearing`` →
  ``disputed_funds`` (the shares cannot move *into* an asset account, so they stay as they
  are while the dispute is open). Won: that posting is reversed. Lost: the money is gone:
  ``disputed_funds`` is credited and the shares are clawed back like a refund. An inquiry
  (``warning_*``) moves no money.
- **Release** (pending → available once the visit happened) and the guides' pool handed to
  the guides who ran the departure: see ``releases``. Fees learned later and backfilling
  old payments: see ``postings_later``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    User,
)
from ...models.ledger import (
    AccountKind,
    AccountState,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from ...money import allocate
from . import journal as ledger
from .shares import (  # noqa: F401  (re-exported: callers name them as ``postings.…``)
    SHARE_KINDS,
    booking_commission,
    commission_lines,
    paid_before,
    share_lines,
)
from .shares import association_of as _association

#: A payment the treasurer recorded as received by bank transfer: it debits the bank.
BANK_TRANSFER = "bank_transfer"
PENDING = AccountState.PENDING
AVAILABLE = AccountState.AVAILABLE
DISPUTE_WON = "won"
DISPUTE_LOST = "lost"
#: Stripe's statuses for an inquiry (``warning_needs_response``, ``warning_closed``…).
INQUIRY_PREFIX = "warning_"


def post_payment(session: Session, payment: Payment, now: datetime | None = None):
    """Post a succeeded card or cash payment's split, pending. Idempotent."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return None
    kind = TransactionKind.CASH if payment.provider == "cash" else TransactionKind.PAYMENT
    found = ledger.find_transaction(session, kind, payment_id=payment.id)
    if found is not None:
        return found
    booking = session.get(Booking, payment.booking_id)
    association = _association(booking)
    fee = payment.fee_cents or 0
    if payment.provider == "cash":
        collector = session.get(User, payment.collected_by_id) if payment.collected_by_id else None
        held = ledger.account(session, AccountKind.CASH_HELD, association, user=collector)
        lines = [(held, payment.amount_cents)]
    elif payment.provider == BANK_TRANSFER:
        lines = [(ledger.account(session, AccountKind.BANK, association), payment.amount_cents)]
    else:
        lines = [
            (
                ledger.account(session, AccountKind.STRIPE_CLEARING, association),
                payment.amount_cents,
            ),
            (ledger.account(session, AccountKind.PROCESSOR_FEES, association), -fee),
        ]
    lines += share_lines(session, booking, payment.amount_cents, fee, paid_before(session, payment))
    transaction = ledger.post(
        session,
        kind=kind,
        lines=lines,
        payment=payment,
        currency=payment.currency,
        at=payment.succeeded_at,
    )
    return transaction


def _held(session: Session, payment: Payment, kinds=None) -> dict[LedgerAccount, int]:
    """Per beneficiary account, what it holds of ``payment`` (owed: credits positive), over
    the transactions naming the payment (all of them, or those of ``kinds``)."""
    query = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerTransaction.payment_id == payment.id,
            LedgerAccount.kind.in_(SHARE_KINDS),
        )
        .group_by(LedgerEntry.account_id)
        .order_by(LedgerEntry.account_id)
    )
    if kinds is not None:
        query = query.where(LedgerTransaction.kind.in_(kinds))
    sums = {account_id: -int(total) for account_id, total in session.execute(query)}
    accounts = {
        a.id: a
        for a in session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(list(sums))))
    }
    return {accounts[i]: cents for i, cents in sums.items()}


def remaining_shares(session: Session, payment: Payment) -> dict[LedgerAccount, int]:
    """What each beneficiary account still holds of ``payment`` (positive cents only),
    pending and available alike."""
    return {a: cents for a, cents in _held(session, payment).items() if cents > 0}


CLAW_BACK_KINDS = (TransactionKind.REFUND, TransactionKind.DISPUTE_LOST)
#: What a share "was given" of a payment: the split, and adjustments to it (a fee learned
#: later, the guides' pool handed to the guides; ``postings_later``).
ORIGINAL_KINDS = (TransactionKind.PAYMENT, TransactionKind.CASH, TransactionKind.ADJUSTMENT)


def original_shares(session: Session, payment: Payment) -> dict[LedgerAccount, int]:
    """What each share account was given of ``payment`` (positive cents only)."""
    return {a: c for a, c in _held(session, payment, ORIGINAL_KINDS).items() if c > 0}


def released_shares(session: Session, payment: Payment) -> dict[str, int]:
    """Account key → what each *available* account holds of ``payment`` (positive only)."""
    return {a.key: c for a, c in _held(session, payment).items() if a.state == AVAILABLE and c > 0}


def take_from_share(
    session: Session,
    payment: Payment,
    account: LedgerAccount,
    cents: int,
    released: dict[str, int] | None = None,
):
    """Debit lines taking ``cents`` back from a share given on ``account`` (pending): from
    its available twin first, as far as the share was released there, then from pending.
    ``released``: ``released_shares`` of the payment, when the caller takes from several."""
    if cents <= 0:
        return [(account, cents)]
    if released is None:
        released = released_shares(session, payment)
    twin_key = LedgerAccount.key_for(
        account.kind, account.association_id, account.family_id, account.user_id, AVAILABLE
    )
    from_available = min(cents, released.get(twin_key, 0))
    lines = [(account, cents - from_available)]
    if from_available:
        lines.insert(0, (ledger.available_twin(session, account), from_available))
    return lines


def _claw_back(session: Session, payment: Payment, amount: int) -> list:
    """Debit lines taking ``amount`` back from the payment's shares (see the module doc).

    Cumulative, so rounding never drifts: after refunds totalling T, each share has given
    back ``allocate(shares_part(T), original credits)``; this refund posts the difference
    from before it. A released share gives back from available first, then from pending.
    """
    gross, fee = payment.amount_cents, payment.fee_cents or 0
    net = gross - fee

    def shares_part(total: int) -> int:
        total = min(total, gross)
        return allocate(total, [net, fee])[0] if fee else total

    before = -sum(_held(session, payment, CLAW_BACK_KINDS).values())
    after = before + amount
    original = original_shares(session, payment)
    lines = []
    if original and net > 0:
        accounts = list(original)
        weights = [original[a] for a in accounts]
        was = allocate(shares_part(before), weights)
        now = allocate(shares_part(after), weights)
        released = released_shares(session, payment)
        for account, old, new in zip(accounts, was, now, strict=True):
            lines += take_from_share(session, payment, account, new - old, released)
    booking = session.get(Booking, payment.booking_id)
    fund = ledger.account(
        session, AccountKind.ASSOCIATION_FUND, _association(booking), state=PENDING
    )
    taken_from_shares = sum(cents for _, cents in lines)
    lines.append((fund, amount - taken_from_shares))
    return lines


def post_refund(session: Session, refund: Refund, at: datetime | None = None):
    """Post a succeeded refund: the processor (or the cash, or the bank) pays it back, the
    shares give back their part. ``at``: when it was paid, if not when it was recorded (a
    refund the treasurer paid by bank transfer). Idempotent."""
    if refund.status != RefundStatus.SUCCEEDED or refund.amount_cents <= 0:
        return None
    found = ledger.find_transaction(session, TransactionKind.REFUND, refund_id=refund.id)
    if found is not None:
        return found
    payment = refund.payment
    posted = ledger.find_transaction
    if posted(session, TransactionKind.PAYMENT, payment_id=payment.id) is None and (
        posted(session, TransactionKind.CASH, payment_id=payment.id) is None
    ):
        post_payment(session, payment)
    booking = session.get(Booking, payment.booking_id)
    if payment.provider == "cash":
        collector = session.get(User, payment.collected_by_id) if payment.collected_by_id else None
        source = ledger.account(
            session, AccountKind.CASH_HELD, _association(booking), user=collector
        )
    elif payment.provider == BANK_TRANSFER:
        source = ledger.account(session, AccountKind.BANK, _association(booking))
    else:
        source = ledger.account(session, AccountKind.STRIPE_CLEARING, _association(booking))
    lines = [(source, -refund.amount_cents), *_claw_back(session, payment, refund.amount_cents)]
    return ledger.post(
        session,
        kind=TransactionKind.REFUND,
        lines=lines,
        refund=refund,
        currency=payment.currency,
        at=at or refund.created_at,
    )


def post_dispute(session: Session, dispute: Dispute):
    """Bring the ledger in line with the dispute's status: opened, then won or lost.
    Idempotent: each step is posted once, whatever order the updates arrive in."""
    payment = dispute.payment
    if payment.status != PaymentStatus.SUCCEEDED or dispute.amount_cents <= 0:
        return
    post_payment(session, payment)
    booking = session.get(Booking, payment.booking_id)
    association = _association(booking)
    opened = ledger.find_transaction(session, TransactionKind.DISPUTE, dispute_id=dispute.id)
    if dispute.status.startswith(INQUIRY_PREFIX):
        # An inquiry: the processor withdraws nothing unless it becomes a chargeback. (One
        # posted as withdrawn by an older version is put back when it closes.)
        if opened is not None and dispute.status == INQUIRY_PREFIX + "closed":
            reversal = TransactionKind.REVERSAL
            if not ledger.find_transaction(session, reversal, reverses_id=opened.id):
                ledger.reverse(session, opened, memo=f"inquiry {dispute.provider_ref} closed")
        return
    if opened is None:
        opened = ledger.post(
            session,
            kind=TransactionKind.DISPUTE,
            lines=[
                (
                    ledger.account(session, AccountKind.DISPUTED_FUNDS, association),
                    dispute.amount_cents,
                ),
                (
                    ledger.account(session, AccountKind.STRIPE_CLEARING, association),
                    -dispute.amount_cents,
                ),
            ],
            dispute=dispute,
            currency=payment.currency,
        )
    if dispute.status == DISPUTE_WON:
        if not ledger.find_transaction(session, TransactionKind.REVERSAL, reverses_id=opened.id):
            ledger.reverse(session, opened, memo=f"dispute {dispute.provider_ref} won")
    elif dispute.status == DISPUTE_LOST:
        lost = TransactionKind.DISPUTE_LOST
        if not ledger.find_transaction(session, lost, dispute_id=dispute.id):
            disputed = ledger.account(session, AccountKind.DISPUTED_FUNDS, association)
            lines = [
                (disputed, -dispute.amount_cents),
                *_claw_back(session, payment, dispute.amount_cents),
            ]
            ledger.post(
                session,
                kind=TransactionKind.DISPUTE_LOST,
                lines=lines,
                dispute=dispute,
                currency=payment.currency,
            )
