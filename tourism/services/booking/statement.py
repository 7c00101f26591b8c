"""A booking's money as its visitor reads it: what was paid online, what came back, what the
cancellation policy kept, and what is left to pay in cash."""

from __future__ import annotations

from dataclasses import dataclass

from ...models import Booking, BookingStatus, PaymentStatus, RefundStatus

#: Why a refund was made (``Refund.reason``) when the tourist cancelled under the policy.
POLICY_REFUND = "tourist_cancelled"


@dataclass(frozen=True)
class MoneySummary:
    currency: str
    total_cents: int
    #: Card payments that went through, before any refund.
    paid_online_cents: int
    #: Of which refunded to the card.
    refunded_cents: int
    #: Cash the guide collected.
    paid_cash_cents: int
    #: Still to pay in cash on arrival.
    due_on_arrival_cents: int
    #: The tourist cancelled a booking paid online: what the policy gave back, in percent.
    policy_refund_percent: int | None

    @property
    def kept_cents(self) -> int:
        """What was paid online and not refunded."""
        return self.paid_online_cents - self.refunded_cents

    @property
    def kept_by_policy(self) -> bool:
        """The tourist cancelled and the policy kept part of what they paid."""
        return self.policy_refund_percent is not None and self.kept_cents > 0


def money_summary(booking: Booking) -> MoneySummary:
    """The booking's money from its payments and refunds (as they are loaded)."""
    card = [
        payment
        for payment in booking.payments
        if payment.provider == "stripe" and payment.status == PaymentStatus.SUCCEEDED
    ]
    refunds = [
        refund
        for payment in card
        for refund in payment.refunds
        if refund.status == RefundStatus.SUCCEEDED
    ]
    paid = sum(payment.amount_cents for payment in card)
    refunded = sum(refund.amount_cents for refund in refunds)
    percent = None
    cancelled_by_tourist = booking.status in (BookingStatus.CANCELLED, BookingStatus.REFUNDED) and (
        not booking.cancel_reason
    )
    if paid and cancelled_by_tourist and all(r.reason == POLICY_REFUND for r in refunds):
        # Each payment is refunded at the policy's percent, rounded on its own: the whole is
        # within a cent per payment of that percent, so this rounds back to it.
        percent = (refunded * 100 + paid // 2) // paid
    return MoneySummary(
        currency=booking.currency,
        total_cents=booking.total_cents,
        paid_online_cents=paid,
        refunded_cents=refunded,
        paid_cash_cents=booking.paid_cash_cents,
        due_on_arrival_cents=booking.due_on_arrival_cents,
        policy_refund_percent=percent,
    )
