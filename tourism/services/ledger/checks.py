"""Proving the ledger sound: balanced transactions, exact reversals, payments matched.

Split from ``tourism.services.ledger.journal``; ``ledger.check`` re-exports ``check``.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from ...models import (
    Booking,
    BookingStatus,
    ChannelBooking,
    ChannelRouteBooking,
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RouteBooking,
)
from ...models.ledger import (
    SETTLEMENT_KINDS,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from . import reseller_postings

#: The Stripe dispute status meaning the card holder's bank kept the money.
DISPUTE_LOST = "lost"


# Checking ------------------------------------------------------------------------------------


def check(session: Session) -> list[str]:
    """Everything wrong with the stored ledger, one sentence each; empty when it is sound.

    - every transaction has entries, and they sum to zero in each currency;
    - every reversal is the exact negation of the transaction it reverses;
    - a transaction naming a refund or dispute names that refund's or dispute's payment;
    - for every payment the ledger mentions, its entries on the settlement accounts
      (``SETTLEMENT_KINDS``: where the tourist's money is, or is owed back) add up to what
      we keep of the payment: its amount if it succeeded, minus succeeded refunds and lost
      disputes. New kinds of posting plug in by naming the payment and using those accounts;
    - every succeeded payment has its split posted (a ``payment`` or ``cash`` transaction
      naming it: ``services.postings`` posts one when the money arrives);
    - every confirmed booking of a prepaid reseller has its sale posted and standing, and
      every cancelled one has it reversed (``reseller_postings``); so has every route it sold
      for its nights and curator's fee.
    """
    return [
        *_unbalanced_transactions(session),
        *_empty_transactions(session),
        *_reversals_that_do_not_mirror(session),
        *_mismatched_references(session),
        *_payments_that_do_not_match(session),
        *_succeeded_payments_not_posted(session),
        *_prepaid_sales_out_of_step(session),
        *_prepaid_route_stays_out_of_step(session),
    ]


def _prepaid_sales_out_of_step(session: Session) -> list[str]:
    reversal = aliased(LedgerTransaction)
    standing = select(LedgerTransaction.id).where(
        LedgerTransaction.booking_id == Booking.id,
        LedgerTransaction.kind == TransactionKind.RESELLER_SALE,
        ~select(reversal.id).where(reversal.reverses_id == LedgerTransaction.id).exists(),
    )
    rows = session.execute(
        select(Booking.reference, Booking.status, standing.exists())
        .join(ChannelBooking, ChannelBooking.booking_id == Booking.id)
        .where(
            ChannelBooking.prepaid.is_(True),
            Booking.total_cents > 0,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
            Booking.confirmed_at.is_not(None),
        )
        .order_by(Booking.id)
    )
    problems = []
    for reference, status, posted in rows:
        if status == BookingStatus.CONFIRMED and not posted:
            problems.append(f"prepaid booking {reference} is confirmed but its sale is not posted")
        elif status == BookingStatus.CANCELLED and posted:
            problems.append(f"prepaid booking {reference} is cancelled but its sale still stands")
    return problems


def _prepaid_route_stays_out_of_step(session: Session) -> list[str]:
    sales = session.scalars(
        select(ChannelRouteBooking)
        .join(RouteBooking, ChannelRouteBooking.route_booking_id == RouteBooking.id)
        .where(
            ChannelRouteBooking.prepaid.is_(True),
            RouteBooking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
            RouteBooking.confirmed_at.is_not(None),
        )
        .order_by(RouteBooking.id)
    )
    problems = []
    for sale in sales:
        route_booking = sale.route_booking
        stay = (
            sum(night.amount_cents for night in route_booking.nights)
            + sum(extra.amount_cents for extra in route_booking.extras)
            + route_booking.curator_fee_cents
        )
        standing = reseller_postings.route_stay_sale(session, route_booking) is not None
        reference = route_booking.reference
        if stay and route_booking.status == BookingStatus.CONFIRMED and not standing:
            problems.append(f"prepaid route {reference} is confirmed but its stay is not posted")
        elif route_booking.status == BookingStatus.CANCELLED and standing:
            problems.append(f"prepaid route {reference} is cancelled but its stay sale stands")
    return problems


def _succeeded_payments_not_posted(session: Session) -> list[str]:
    posted = select(LedgerTransaction.id).where(
        LedgerTransaction.payment_id == Payment.id,
        LedgerTransaction.kind.in_((TransactionKind.PAYMENT, TransactionKind.CASH)),
    )
    rows = session.execute(
        select(Payment.id, Payment.provider)
        .where(Payment.status == PaymentStatus.SUCCEEDED, ~posted.exists())
        .order_by(Payment.id)
    )
    return [
        f"{provider} payment {pid} succeeded but its split was never posted"
        for pid, provider in rows
    ]


def _unbalanced_transactions(session: Session) -> list[str]:
    total = func.sum(LedgerEntry.amount_cents)
    rows = session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.currency, total)
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(total != 0)
        .order_by(LedgerEntry.transaction_id)
    )
    return [
        f"transaction {tid} is unbalanced: its {currency} entries sum to {int(s):+d} cents"
        for tid, currency, s in rows
    ]


def _empty_transactions(session: Session) -> list[str]:
    has_entries = select(LedgerEntry.id).where(LedgerEntry.transaction_id == LedgerTransaction.id)
    ids = session.scalars(
        select(LedgerTransaction.id).where(~has_entries.exists()).order_by(LedgerTransaction.id)
    )
    return [f"transaction {tid} has no entries" for tid in ids]


def _reversals_that_do_not_mirror(session: Session) -> list[str]:
    """Per reversal and account, original + reversal must come to zero."""
    reversal = aliased(LedgerTransaction)
    total = func.sum(LedgerEntry.amount_cents)
    rows = session.execute(
        select(reversal.id, reversal.reverses_id, LedgerEntry.account_id, total)
        .join(
            LedgerEntry,
            (LedgerEntry.transaction_id == reversal.id)
            | (LedgerEntry.transaction_id == reversal.reverses_id),
        )
        .where(reversal.reverses_id.is_not(None))
        .group_by(reversal.id, reversal.reverses_id, LedgerEntry.account_id)
        .having(total != 0)
        .order_by(reversal.id, LedgerEntry.account_id)
    )
    return [
        f"transaction {rid} does not mirror transaction {oid} it reverses: "
        f"account {aid} is left at {int(s):+d} cents"
        for rid, oid, aid, s in rows
    ]


def _mismatched_references(session: Session) -> list[str]:
    problems = []
    references = ((Refund, LedgerTransaction.refund_id), (Dispute, LedgerTransaction.dispute_id))
    for model, column in references:
        rows = session.execute(
            select(LedgerTransaction.id, model.id, model.payment_id)
            .join(model, column == model.id)
            .where(
                (LedgerTransaction.payment_id.is_(None))
                | (LedgerTransaction.payment_id != model.payment_id)
            )
            .order_by(LedgerTransaction.id)
        )
        name = model.__tablename__[:-1]
        problems += [
            f"transaction {tid} names {name} {sid} but not its payment {pid}"
            for tid, sid, pid in rows
        ]
    return problems


def _payments_that_do_not_match(session: Session) -> list[str]:
    refunded = (
        select(func.coalesce(func.sum(Refund.amount_cents), 0))
        .where(Refund.payment_id == Payment.id, Refund.status == RefundStatus.SUCCEEDED)
        .correlate(Payment)
        .scalar_subquery()
    )
    lost = (
        select(func.coalesce(func.sum(Dispute.amount_cents), 0))
        .where(Dispute.payment_id == Payment.id, Dispute.status == DISPUTE_LOST)
        .correlate(Payment)
        .scalar_subquery()
    )
    expected = case(
        (Payment.status == PaymentStatus.SUCCEEDED, Payment.amount_cents - refunded - lost),
        else_=literal(0),
    )
    in_ledger = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        LedgerAccount.kind.in_(SETTLEMENT_KINDS),
                        LedgerEntry.currency == Payment.currency,
                    ),
                    LedgerEntry.amount_cents,
                ),
                else_=0,
            )
        ),
        0,
    )
    per_payment = (
        select(Payment.id.label("payment_id"), in_ledger.label("in_ledger"))
        .join(LedgerTransaction, LedgerTransaction.payment_id == Payment.id)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .group_by(Payment.id)
        .subquery()
    )
    rows = session.execute(
        select(Payment.id, Payment.currency, per_payment.c.in_ledger, expected)
        .join(per_payment, per_payment.c.payment_id == Payment.id)
        .where(per_payment.c.in_ledger != expected)
        .order_by(Payment.id)
    )
    return [
        f"payment {pid}: the ledger holds {int(held)} {currency} cents of it, "
        f"the payment says {int(kept)}"
        for pid, currency, held, kept in rows
    ]
