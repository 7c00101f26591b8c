"""Giving route card money back: a whole payment that confirmed nothing (after the
commit, at Stripe), and the tourist cancelling the whole route under its policy.

Split from ``route_card`` (which takes the money); the refunds of each leg go through the
ordinary refund service, the nights, extras and fee through the same ledger accounts that
credited them (``settlement.stay_lines``: a night's share, an extra's and the curator's fee
are still pending, so no family or provider is left owing what it was paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ...models import BookingStatus, PaymentStatus, RouteBooking, RoutePayment
from ...models.ledger import AccountKind, AccountState, TransactionKind
from ...money import allocate, percent_of
from ...unit_of_work import after_commit, unit_of_work
from ..access import audit
from ..channels import webhooks
from ..ledger import journal as ledger
from ..routes import booking as route_booking_service
from ..routes import changes, claims, settlement
from . import refunds
from .stripe_gateway import StripeGateway


class _GiveBack:
    """After the commit: give route payment money back at Stripe and note the refund's id
    (``returned_cents`` was counted in the transaction that decided it)."""

    def __init__(self, session: Session, gateway: StripeGateway) -> None:
        self.session, self.gateway, self.items = session, gateway, []

    def add(self, item) -> None:
        self.items.append(item)

    def __call__(self) -> None:
        for payment_id, intent_id, amount, reason in self.items:
            info = self.gateway.refund(
                intent_id,
                amount,
                idempotency_key=f"route-payment-{payment_id}-{reason}",
                metadata={"route_payment_id": str(payment_id), "reason": reason},
            )
            with unit_of_work(self.session):
                self.session.get(RoutePayment, payment_id).returned_ref = info.id


def give_back(session, payment: RoutePayment, amount: int, reason: str, gateway) -> None:
    """Owe ``amount`` of a route payment back (outside the legs' own refunds), paid at
    Stripe after the commit."""
    rb = payment.route_booking
    payment.returned_cents += amount
    audit.record(
        session,
        audit.REFUND_REQUESTED,
        target=f"route_booking:{rb.reference}",
        association_id=None,
        detail=f"{amount} cents of route payment {payment.id} given back, {reason}",
    )
    if amount > 0 and gateway is not None:
        after_commit(session, _GiveBack(session, gateway), key="payments.route_give_back").add(
            (payment.id, payment.provider_ref, amount, reason)
        )


# The tourist cancels the whole route -------------------------------------------------------


@dataclass
class RouteRefundPlan:
    """What cancelling the whole route now gives back: the route policy's percentage of
    *every part*, each rounded to the cent on its own: each leg booking's card payment
    (through the ordinary refund service) and, paid by card, each community's nights,
    extras and curator's fee (from the route's payment)."""

    percent: int
    legs: list = field(default_factory=list)
    stays: list = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(amount for _, amount in self.legs) + sum(amount for _, amount in self.stays)


def first_start(route_booking: RouteBooking):
    return min(bl.booking.departure.starts_at for bl in route_booking.legs)


def route_refund_plan(session: Session, route_booking: RouteBooking, now: datetime):
    percent = refunds.refund_percent(
        route_booking.route.cancellation_policy, first_start(route_booking), now
    )
    plan = RouteRefundPlan(percent)
    for booking_leg in route_booking.legs:
        if booking_leg.booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            plan.legs += refunds.policy_refunds(session, booking_leg.booking, percent)
    paid = _succeeded(route_booking)
    if paid is not None and route_booking_service.stay_paid_online(route_booking):
        for part in settlement.community_parts(route_booking):
            amount = percent_of(part.stay_cents, percent)
            if amount > 0:
                plan.stays.append((part, amount))
    return plan


def _succeeded(route_booking: RouteBooking) -> RoutePayment | None:
    return next((p for p in route_booking.payments if p.status == PaymentStatus.SUCCEEDED), None)


def cancel_route(
    session: Session, route_booking: RouteBooking, gateway: StripeGateway | None, now: datetime
) -> int:
    """The tourist cancels the whole route (``changes.cancel_route_booking``'s rules) and is
    refunded what the route's policy gives (``route_refund_plan``); returns the cents."""
    claims.lock_route(session, route_booking)
    plan = route_refund_plan(session, route_booking, now)
    changes.cancel_route_booking(session, route_booking, now, paid_online_ok=True)
    if route_booking.legs:
        # A reseller that sold the route hears of it once, as the route (any leg stands for it).
        webhooks.booking_changed(
            session, route_booking.legs[0].booking, now, webhooks.GUEST_CANCELLED
        )
    refunded = 0
    for payment, amount in plan.legs:
        refunded += refunds.refund_payment(session, payment, amount, "tourist_cancelled", gateway)
    if plan.stays:
        paid = _succeeded(route_booking)
        for part, amount in plan.stays:
            _post_stay_refund(session, route_booking, part, amount, now)
        stays = sum(amount for _, amount in plan.stays)
        give_back(session, paid, stays, "tourist_cancelled", gateway)
        refunded += stays
    session.flush()
    return refunded


def _post_stay_refund(session, route_booking, part, amount: int, now: datetime) -> None:
    """Take ``amount`` of a community's nights, extras and fee back from whom it credited,
    in proportion, and out of its Stripe clearing: from the pending accounts, where they
    wait for the night's date or the route's start (a route cancels only before it starts);
    from the available ones for a route paid before they waited."""
    nights, extras = _credited_pending(session, route_booking, part)
    credits = settlement.stay_lines(
        session, route_booking, part, nights_pending=nights, extras_pending=extras
    )
    shares = allocate(amount, [-cents for _, cents in credits])
    clearing = ledger.account(session, AccountKind.STRIPE_CLEARING, part.association)
    taken_back = [(account, share) for (account, _), share in zip(credits, shares, strict=True)]
    ledger.post(
        session,
        kind=TransactionKind.REFUND,
        lines=[(clearing, -amount), *taken_back],
        memo=f"route {route_booking.reference}: nights and extras refunded, "
        f"{part.association.code}",
        currency=route_booking.currency,
        at=now,
    )


def _credited_pending(session, route_booking, part) -> tuple[bool, bool]:
    """Whether the card payment credited this community's nights, and its extras and fee,
    pending: every route paid since each waits. One paid before nights waited credited all
    available; one paid before the extras and the fee waited credited them available."""
    posted = ledger.find_transaction(
        session,
        TransactionKind.PAYMENT,
        memo=settlement.card_stay_memo(route_booking, part.association),
    )
    if posted is None:
        return True, True
    credits = [entry.account for entry in posted.entries if entry.amount_cents < 0]
    nights = not part.nights or any(
        account.kind == AccountKind.FAMILY and account.state == AccountState.PENDING
        for account in credits
    )
    extras = all(account.state == AccountState.PENDING for account in credits)
    return nights, extras
