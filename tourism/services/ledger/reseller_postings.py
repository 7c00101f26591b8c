"""The money of prepaid resellers: those that take the guest's payment themselves.

A confirmed booking of a prepaid reseller is a sale on credit: the reseller holds the price
for us. Two transactions, in the confirmation's database transaction:

- ``reseller_sale``: the reseller's receivable is debited with the price; the split credits
  the reseller's commission and the beneficiaries' pending shares, exactly as a payment of
  the price would (``postings.share_lines``), so the parts add up to the price;
- ``reseller_kept``: the reseller keeps its commission out of the money it holds
  (commission debited, receivable credited). What is left on the receivable is what the
  reseller owes: the price less its commission.

Once the visit happened, the shares are released like a payment's (``releases``). Cancelling
the booking reverses both (the reseller gives its guest the money back). Money
received from the reseller (``record_receipt``) moves from the receivable to the bank; a
receipt is recorded once per form token, and never for more than the reseller owes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidRequest
from ...models import Booking, BookingStatus, ChannelBooking, Reseller, User
from ...models.channels import ResellerReceipt
from ...models.ledger import (
    BENEFICIARY_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from . import journal as ledger
from .commissions import booking_commission
from .postings import share_lines

#: Resellers owe in the site's currency (every experience is priced in US dollars).
CURRENCY = "USD"
#: The longest reference a receipt keeps.
REFERENCE_LIMIT = 120


def _channel(session: Session, booking: Booking) -> ChannelBooking | None:
    return session.scalar(select(ChannelBooking).where(ChannelBooking.booking_id == booking.id))


def post_sale(session: Session, booking: Booking, now: datetime) -> LedgerTransaction | None:
    """Post a prepaid reseller's confirmed booking (see the module doc). Idempotent; nothing
    for a booking that is not a prepaid reseller's, or has nothing to pay."""
    channel = _channel(session, booking)
    if channel is None or not channel.prepaid or booking.total_cents <= 0:
        return None
    found = ledger.find_transaction(session, TransactionKind.RESELLER_SALE, booking_id=booking.id)
    if found is not None:
        return found
    reseller = channel.reseller
    receivable = ledger.account(session, AccountKind.RESELLER_RECEIVABLE, reseller=reseller)
    lines = [
        (receivable, booking.total_cents),
        *share_lines(session, booking, booking.total_cents, 0),
    ]
    sale = ledger.post(
        session,
        kind=TransactionKind.RESELLER_SALE,
        lines=lines,
        booking=booking,
        currency=booking.currency,
        memo=f"{reseller.name} {booking.reference}"[:300],
        at=now,
    )
    commission = -sum(
        cents for account, cents in lines if account.kind == AccountKind.RESELLER_COMMISSION
    )
    if commission:
        owed = ledger.account(session, AccountKind.RESELLER_COMMISSION, reseller=reseller)
        ledger.post(
            session,
            kind=TransactionKind.RESELLER_KEPT,
            lines=[(owed, commission), (receivable, -commission)],
            booking=booking,
            currency=booking.currency,
            at=now,
        )
    return sale


def reverse_sale(session: Session, booking: Booking) -> None:
    """Undo a cancelled booking's sale and kept commission (each once)."""
    for kind in (TransactionKind.RESELLER_KEPT, TransactionKind.RESELLER_SALE):
        posted = ledger.find_transaction(session, kind, booking_id=booking.id)
        if posted is None:
            continue
        if ledger.find_transaction(session, TransactionKind.REVERSAL, reverses_id=posted.id):
            continue
        ledger.reverse(session, posted, memo=f"booking {booking.reference} cancelled")


def sale_shares(session: Session, booking: Booking) -> dict[LedgerAccount, int]:
    """What each beneficiary account still holds of a prepaid booking's sale (positive cents
    only): the sale, its reversal and its releases, which name the booking and no payment."""
    query = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerTransaction.booking_id == booking.id,
            LedgerTransaction.payment_id.is_(None),
            LedgerAccount.kind.in_(BENEFICIARY_KINDS),
        )
        .group_by(LedgerEntry.account_id)
        .order_by(LedgerEntry.account_id)
    )
    sums = {account_id: -int(total) for account_id, total in session.execute(query)}
    accounts = session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(list(sums))))
    return {a: sums[a.id] for a in accounts if sums[a.id] > 0}


def prepaid_sales(session: Session, departure_id: int) -> list[Booking]:
    """The departure's confirmed bookings sold by prepaid resellers (their sale posted)."""
    posted = select(LedgerTransaction.id).where(
        LedgerTransaction.booking_id == Booking.id,
        LedgerTransaction.kind == TransactionKind.RESELLER_SALE,
    )
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.departure_id == departure_id,
                Booking.status == BookingStatus.CONFIRMED,
                posted.exists(),
            )
            .order_by(Booking.id)
        )
    )


def owed(session: Session, reseller: Reseller) -> int:
    """What the reseller owes us now, in cents (its receivable's balance)."""
    account = ledger.account(session, AccountKind.RESELLER_RECEIVABLE, reseller=reseller)
    return ledger.balance(session, account)


def record_receipt(
    session: Session,
    actor: User,
    reseller: Reseller,
    amount_cents: int,
    reference: str,
    token: str,
    now: datetime,
) -> ResellerReceipt:
    """Money received from a prepaid reseller: bank debited, its receivable credited.

    The same ``token`` (one per form) records one receipt, however often it is sent. Refused
    with nothing changed: no amount, or more than the reseller owes."""
    # One receipt of a reseller at a time: two sent together cannot both pass the "no more
    # than owed" check (PostgreSQL row lock; SQLite's write transaction already serialises).
    session.execute(select(Reseller.id).where(Reseller.id == reseller.id).with_for_update())
    found = session.scalar(select(ResellerReceipt).where(ResellerReceipt.token == token))
    if found is not None:
        if found.reseller_id != reseller.id:
            raise InvalidRequest(_l("This form was already used."))
        return found
    if not token or len(token) > 64:
        raise InvalidRequest(_l("This form has expired: please open the page again."))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidRequest(_l("Enter an amount greater than zero."))
    if amount_cents > owed(session, reseller):
        raise InvalidRequest(_l("That is more than the reseller owes."))
    currency = CURRENCY
    transaction = ledger.post(
        session,
        kind=TransactionKind.RESELLER_RECEIPT,
        lines=[
            (ledger.account(session, AccountKind.BANK, reseller.association), amount_cents),
            (
                ledger.account(session, AccountKind.RESELLER_RECEIVABLE, reseller=reseller),
                -amount_cents,
            ),
        ],
        memo=f"{reseller.name} {reference}"[:300],
        currency=currency,
        at=now,
    )
    receipt = ResellerReceipt(
        reseller=reseller,
        amount_cents=amount_cents,
        currency=currency,
        reference=reference.strip()[:REFERENCE_LIMIT],
        token=token,
        received_at=now,
        recorded_by=actor,
        transaction=transaction,
    )
    session.add(receipt)
    session.flush()
    return receipt


@dataclass(frozen=True)
class StatementLine:
    reference: str
    reseller_reference: str | None
    starts_at: datetime
    status: str
    price_cents: int
    commission_cents: int
    owed_cents: int


@dataclass(frozen=True)
class Statement:
    lines: list[StatementLine]
    receipts: list[ResellerReceipt]
    owed_cents: int

    @property
    def sold_cents(self) -> int:
        return sum(line.owed_cents for line in self.lines)

    @property
    def received_cents(self) -> int:
        return sum(receipt.amount_cents for receipt in self.receipts)


def statement(session: Session, reseller: Reseller) -> Statement:
    """The reseller's confirmed (and cancelled) bookings with price, commission and what it
    owes for each, the money received, and the balance owed (from the ledger)."""
    rows = session.execute(
        select(ChannelBooking, Booking)
        .join(Booking, ChannelBooking.booking_id == Booking.id)
        .where(
            ChannelBooking.reseller_id == reseller.id,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
            Booking.confirmed_at.is_not(None),
        )
        .order_by(Booking.confirmed_at, Booking.id)
    ).all()
    lines = []
    for channel, booking in rows:
        live = booking.status == BookingStatus.CONFIRMED
        commission = booking_commission(booking, channel.commission_bp) if live else 0
        price = booking.total_cents if live else 0
        lines.append(
            StatementLine(
                booking.reference,
                channel.reseller_reference,
                booking.departure.starts_at,
                str(booking.status),
                price,
                commission,
                price - commission,
            )
        )
    receipts = list(
        session.scalars(
            select(ResellerReceipt)
            .where(ResellerReceipt.reseller_id == reseller.id)
            .order_by(ResellerReceipt.received_at, ResellerReceipt.id)
        )
    )
    return Statement(lines, receipts, owed(session, reseller))
