"""The money check: every card payment and refund in our records against Stripe's own.

``flask ledger-check`` proves the ledger agrees with our payments; this proves our payments
agree with the processor: what Stripe received for each payment (amount, currency, fee where
both sides know it) and what it paid back for each refund. Read-only; network calls only,
outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    Departure,
    Experience,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RoutePayment,
)
from ...unit_of_work import release
from .stripe_gateway import GatewayError, PaymentDeclined, StripeGateway


@dataclass
class ProcessorReport:
    payments_checked: int = 0
    refunds_checked: int = 0
    #: One sentence per disagreement (or per record Stripe could not tell us about).
    problems: list[str] = field(default_factory=list)
    #: Payments we hold as mismatches (refused and refunded): listed, not problems.
    mismatches: list[str] = field(default_factory=list)
    #: Refunds recorded as owed and not paid yet (``flask finish-refunds`` pays them).
    owed: list[str] = field(default_factory=list)


def check_against_processor(session: Session, gateway: StripeGateway) -> ProcessorReport:
    """Compare every Stripe payment that took money, and every refund, with Stripe."""
    report = ProcessorReport()
    payments = [
        (p.id, p.provider_ref, p.status, p.amount_cents, p.currency, p.fee_cents)
        + (p.received_cents, p.received_currency, p.charge_ref)
        for p in session.execute(
            select(Payment)
            .where(
                Payment.provider == "stripe",
                Payment.provider_ref.is_not(None),
                Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH)),
            )
            .order_by(Payment.id)
        ).scalars()
    ]
    refunds = [
        (r.id, r.provider_ref, r.status, r.amount_cents, r.payment_id)
        for r in session.execute(select(Refund).order_by(Refund.id)).scalars()
        if r.payment.provider == "stripe"
    ]
    currencies = {
        p[0]: (p[7] or p[4]) if p[2] == PaymentStatus.MISMATCH else p[4] for p in payments
    }
    charges = {p[0]: p[8] for p in payments}
    # A route's card payment: one intent for its legs, whose payments name no intent.
    routes = [
        (r.id, r.provider_ref, r.amount_cents, r.currency)
        for r in session.execute(
            select(RoutePayment)
            .where(RoutePayment.status == PaymentStatus.SUCCEEDED)
            .order_by(RoutePayment.id)
        ).scalars()
    ]
    release(session)

    for rid, ref, amount, currency in routes:
        report.payments_checked += 1
        try:
            intent = gateway.retrieve_intent(ref)
        except (GatewayError, PaymentDeclined) as exc:
            problem = f"route payment {rid} ({ref}): Stripe could not say ({exc})"
            report.problems.append(problem[:300])
            continue
        if intent.status != "succeeded" or not intent.matches(amount, currency):
            report.problems.append(
                f"route payment {rid} ({ref}): {amount} {currency} here, "
                f"{intent.amount_received} {intent.currency} {intent.status} at Stripe"
            )

    for pid, ref, status, amount, currency, fee, received, received_currency, _ in payments:
        report.payments_checked += 1
        if status == PaymentStatus.MISMATCH:
            report.mismatches.append(
                f"payment {pid} ({ref}): asked {amount} {currency}, "
                f"received {received} {received_currency}"
            )
            amount, currency = received, received_currency or currency
        try:
            intent = gateway.retrieve_intent(ref)
        except (GatewayError, PaymentDeclined) as exc:
            report.problems.append(f"payment {pid} ({ref}): Stripe could not say ({exc})"[:300])
            continue
        if intent.status != "succeeded":
            report.problems.append(f"payment {pid} ({ref}): Stripe says {intent.status}")
        if intent.currency != (currency or "").upper():
            report.problems.append(
                f"payment {pid} ({ref}): currency {currency} here, {intent.currency} at Stripe"
            )
        if intent.amount_received != amount:
            report.problems.append(
                f"payment {pid} ({ref}): {amount} cents here, "
                f"{intent.amount_received} received at Stripe"
            )
        if fee is not None and intent.fee_cents is not None and fee != intent.fee_cents:
            report.problems.append(
                f"payment {pid} ({ref}): fee {fee} here, {intent.fee_cents} at Stripe"
            )

    for rid, ref, status, amount, payment_id in refunds:
        if status == RefundStatus.PENDING and not ref:
            report.owed.append(f"refund {rid} of payment {payment_id}: {amount} cents owed")
            continue
        if status != RefundStatus.SUCCEEDED or not ref:
            continue
        report.refunds_checked += 1
        try:
            info = gateway.retrieve_refund(ref)
        except (GatewayError, PaymentDeclined) as exc:
            report.problems.append(f"refund {rid} ({ref}): Stripe could not say ({exc})"[:300])
            continue
        if info.amount != amount:
            report.problems.append(
                f"refund {rid} ({ref}): {amount} cents here, {info.amount} at Stripe"
            )
        if info.status not in ("succeeded", "pending"):
            report.problems.append(f"refund {rid} ({ref}): Stripe says {info.status}")
        currency = currencies.get(payment_id)
        if info.currency and currency and info.currency != currency.upper():
            report.problems.append(
                f"refund {rid} ({ref}): currency {currency} here, {info.currency} at Stripe"
            )
        charge = charges.get(payment_id)
        if charge and info.charge_id and info.charge_id != charge:
            report.problems.append(f"refund {rid} ({ref}): made on another charge at Stripe")
    return report


@dataclass(frozen=True)
class MismatchLine:
    payment: Payment
    #: What was given back so far, and what is still owed back.
    refunded_cents: int
    owed_cents: int


def mismatched_payments(session: Session, association_id: int, limit: int = 50):
    """The association's payments refused for not matching what was asked (newest first),
    for its admins: each was refunded automatically, or is owed back."""
    rows = session.execute(
        select(Payment)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .join(Experience, Experience.id == Departure.experience_id)
        .where(
            Experience.association_id == association_id,
            Payment.status == PaymentStatus.MISMATCH,
        )
        .order_by(Payment.id.desc())
        .limit(limit)
    ).scalars()
    return [
        MismatchLine(
            payment,
            sum(r.amount_cents for r in payment.refunds if r.status == RefundStatus.SUCCEEDED),
            sum(r.amount_cents for r in payment.refunds if r.status == RefundStatus.PENDING),
        )
        for payment in rows
    ]
