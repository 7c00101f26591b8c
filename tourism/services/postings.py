"""Ledger postings for money events: each is called inside the transaction that records the
event (a payment succeeding, cash collected, a refund, a dispute, a stop confirmed), so the
books and the event commit or roll back together.

Every posting is idempotent: an existing transaction of the same kind naming the same
payment / refund / dispute (or release memo key) means replaying the event posts nothing.

Decisions (see also ``tourism/models/ledger.py`` for accounts and signs):
- **Payment / cash.** Card: debit ``stripe_clearing`` with the gross, credit
  ``processor_fees`` with the fee (0 if not known yet), credit the beneficiaries' *pending*
  accounts with the net, split by the booking's rule (``Booking.split_rule_id``). Cash:
  debit ``cash_held`` of the guide who collected it, no fee. A booking sold before any rule
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
  ``disputed_funds`` is credited and the shares are clawed back like a refund.
- **Release.** Once the departure has started (``now >= starts_at``) and a stop is
  confirmed visited, the stop's host family's pending share of every payment on the
  departure moves to available (a family hosting several stops is released whole at its
  first confirmed stop); at the first confirmed stop the guides', funds' and platform's
  shares (and the unassigned pools) are released too. Cash collected later is released at
  once when a stop was already confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureGuide,
    Dispute,
    Family,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    Stop,
    StopVisit,
    User,
)
from ..models.ledger import (
    BENEFICIARY_KINDS,
    AccountKind,
    AccountState,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from ..money import allocate
from . import ledger, split_rules
from .splits import Member, Party, split_payment

PENDING = AccountState.PENDING
AVAILABLE = AccountState.AVAILABLE
DISPUTE_WON = "won"
DISPUTE_LOST = "lost"

_PARTY_KINDS = {
    Party.FAMILIES: AccountKind.FAMILY,
    Party.GUIDES: AccountKind.GUIDE,
    Party.ASSOCIATION_FUND: AccountKind.ASSOCIATION_FUND,
    Party.CONSERVATION_FUND: AccountKind.CONSERVATION_FUND,
    Party.PLATFORM: AccountKind.PLATFORM,
}


def _existing(session: Session, kind: TransactionKind, **refs) -> LedgerTransaction | None:
    conditions = [LedgerTransaction.kind == kind]
    for name, value in refs.items():
        conditions.append(getattr(LedgerTransaction, name) == value)
    return session.scalars(select(LedgerTransaction).where(*conditions).limit(1)).first()


def _association(booking: Booking):
    return booking.departure.experience.association


def _share_account(session: Session, booking: Booking, party: Party, member_id, state):
    association = _association(booking)
    kind = _PARTY_KINDS[party]
    if party == Party.FAMILIES and member_id is not None:
        return ledger.account(session, kind, family=session.get(Family, member_id), state=state)
    if party == Party.GUIDES and member_id is not None:
        return ledger.account(
            session, kind, association, user=session.get(User, member_id), state=state
        )
    return ledger.account(session, kind, association, state=state)


def share_lines(session: Session, booking: Booking, gross: int, fee: int) -> list:
    """(pending account, -cents) for every beneficiary of ``gross - fee`` of ``booking``."""
    rule = split_rules.rule_for_booking(session, booking)
    if rule is None:
        account = ledger.account(
            session, AccountKind.ASSOCIATION_FUND, _association(booking), state=PENDING
        )
        return [(account, -(gross - fee))]
    departure = booking.departure
    guides = session.scalars(
        select(DepartureGuide.user_id)
        .where(DepartureGuide.departure_id == departure.id)
        .order_by(DepartureGuide.id)
    )
    stops = session.scalars(
        select(Stop).where(Stop.experience_id == departure.experience_id).order_by(Stop.position)
    )
    split = split_payment(
        gross,
        fee,
        booking.participants,
        split_rules.to_split_rule(rule),
        families=split_rules.family_members(rule, stops),
        guides=[Member(user_id) for user_id in guides],
    )
    return [
        (_share_account(session, booking, p.party, p.member_id, PENDING), -p.cents)
        for p in split.portions
    ]


def post_payment(session: Session, payment: Payment, now: datetime | None = None):
    """Post a succeeded card or cash payment's split, pending. Idempotent."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return None
    kind = TransactionKind.CASH if payment.provider == "cash" else TransactionKind.PAYMENT
    found = _existing(session, kind, payment_id=payment.id)
    if found is not None:
        return found
    booking = session.get(Booking, payment.booking_id)
    association = _association(booking)
    fee = payment.fee_cents or 0
    if payment.provider == "cash":
        collector = session.get(User, payment.collected_by_id) if payment.collected_by_id else None
        held = ledger.account(session, AccountKind.CASH_HELD, association, user=collector)
        lines = [(held, payment.amount_cents)]
    else:
        lines = [
            (
                ledger.account(session, AccountKind.STRIPE_CLEARING, association),
                payment.amount_cents,
            ),
            (ledger.account(session, AccountKind.PROCESSOR_FEES, association), -fee),
        ]
    lines += share_lines(session, booking, payment.amount_cents, fee)
    transaction = ledger.post(
        session, kind=kind, lines=lines, payment=payment, currency=payment.currency
    )
    if now is not None and payment.provider == "cash":
        release_departure(session, booking.departure, now)
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
            LedgerAccount.kind.in_(BENEFICIARY_KINDS),
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


def _available_twin(session: Session, account: LedgerAccount) -> LedgerAccount:
    return ledger.account(
        session,
        account.kind,
        association=account.association if account.family_id is None else None,
        family=account.family,
        user=account.user,
        state=AVAILABLE,
    )


CLAW_BACK_KINDS = (TransactionKind.REFUND, TransactionKind.DISPUTE_LOST)


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
    original = {
        a: cents
        for a, cents in _held(
            session, payment, (TransactionKind.PAYMENT, TransactionKind.CASH)
        ).items()
        if cents > 0
    }
    lines = []
    if original and net > 0:
        accounts = list(original)
        weights = [original[a] for a in accounts]
        was = allocate(shares_part(before), weights)
        now = allocate(shares_part(after), weights)
        released = {
            a.key: cents
            for a, cents in _held(session, payment).items()
            if a.state == AVAILABLE and cents > 0
        }
        for account, old, new in zip(accounts, was, now, strict=True):
            debit = new - old
            twin_key = LedgerAccount.key_for(
                account.kind,
                account.association_id,
                account.family_id,
                account.user_id,
                AVAILABLE,
            )
            from_available = min(debit, released.get(twin_key, 0)) if debit > 0 else 0
            if from_available:
                lines.append((_available_twin(session, account), from_available))
            lines.append((account, debit - from_available))
    booking = session.get(Booking, payment.booking_id)
    fund = ledger.account(
        session, AccountKind.ASSOCIATION_FUND, _association(booking), state=PENDING
    )
    taken_from_shares = sum(cents for _, cents in lines)
    lines.append((fund, amount - taken_from_shares))
    return lines


def post_refund(session: Session, refund: Refund):
    """Post a succeeded refund: the processor (or the cash) pays it back, the shares give
    back their part. Idempotent."""
    if refund.status != RefundStatus.SUCCEEDED or refund.amount_cents <= 0:
        return None
    found = _existing(session, TransactionKind.REFUND, refund_id=refund.id)
    if found is not None:
        return found
    payment = refund.payment
    if _existing(session, TransactionKind.PAYMENT, payment_id=payment.id) is None and (
        _existing(session, TransactionKind.CASH, payment_id=payment.id) is None
    ):
        post_payment(session, payment)
    booking = session.get(Booking, payment.booking_id)
    if payment.provider == "cash":
        collector = session.get(User, payment.collected_by_id) if payment.collected_by_id else None
        source = ledger.account(
            session, AccountKind.CASH_HELD, _association(booking), user=collector
        )
    else:
        source = ledger.account(session, AccountKind.STRIPE_CLEARING, _association(booking))
    lines = [(source, -refund.amount_cents), *_claw_back(session, payment, refund.amount_cents)]
    return ledger.post(
        session, kind=TransactionKind.REFUND, lines=lines, refund=refund, currency=payment.currency
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
    opened = _existing(session, TransactionKind.DISPUTE, dispute_id=dispute.id)
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
        if _existing(session, TransactionKind.REVERSAL, reverses_id=opened.id) is None:
            ledger.reverse(session, opened, memo=f"dispute {dispute.provider_ref} won")
    elif dispute.status == DISPUTE_LOST:
        if _existing(session, TransactionKind.DISPUTE_LOST, dispute_id=dispute.id) is None:
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


def _release(session: Session, payment: Payment, memo: str, accounts: Iterable[LedgerAccount]):
    if _existing(session, TransactionKind.RELEASE, payment_id=payment.id, memo=memo) is not None:
        return
    lines = []
    held = remaining_shares(session, payment)
    for account in accounts:
        cents = held.get(account, 0)
        if not cents or account.state != PENDING:
            continue
        available = _available_twin(session, account)
        lines += [(account, cents), (available, -cents)]
    if lines:
        ledger.post(
            session,
            kind=TransactionKind.RELEASE,
            lines=lines,
            payment=payment,
            memo=memo,
            currency=payment.currency,
        )


def release_departure(session: Session, departure: Departure, now: datetime) -> None:
    """Release what the confirmed stops of a departure that has started make available
    (see the module doc). Idempotent: one release per payment and stop visit, and one per
    payment for the guides, funds and platform."""
    if now < departure.starts_at:
        return
    visits = list(
        session.scalars(
            select(StopVisit).where(StopVisit.departure_id == departure.id).order_by(StopVisit.id)
        )
    )
    if not visits:
        return
    payments = session.scalars(
        select(Payment)
        .join(Booking, Payment.booking_id == Booking.id)
        .where(
            Booking.departure_id == departure.id,
            Booking.status != BookingStatus.HELD,
            Payment.status == PaymentStatus.SUCCEEDED,
        )
        .order_by(Payment.id)
    )
    for payment in payments:
        held = remaining_shares(session, payment)
        for visit in visits:
            stop = session.get(Stop, visit.stop_id)
            family_accounts = [
                a for a in held if a.kind == AccountKind.FAMILY and a.family_id == stop.family_id
            ]
            if stop.family_id is not None:
                _release(session, payment, f"stop visit {visit.id}", family_accounts)
        others = [a for a in held if a.kind != AccountKind.FAMILY or a.family_id is None]
        _release(session, payment, f"departure {departure.id} started", others)
