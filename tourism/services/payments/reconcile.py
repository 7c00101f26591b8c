"""The safety net for lost webhooks: ask Stripe about the payments that may have moved and
apply each answer on its own (``flask reconcile-payments``, every 15 minutes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import Payment, PaymentStatus, RoutePayment
from ...unit_of_work import release, unit_of_work
from .intents import apply_intent
from .stripe_gateway import GatewayError, PaymentDeclined, StripeGateway


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    #: (intent id, why) for each intent that could not be repaired.
    failed: list[tuple[str, str]] = field(default_factory=list)


def reconcile_candidates(session: Session, gateway: StripeGateway, since: datetime) -> list[str]:
    """The intents worth asking Stripe about: every pending payment we know, and every
    PaymentIntent that succeeded since ``since`` that we have not recorded as paid."""
    pending = (
        session.execute(
            select(Payment.provider_ref)
            .where(
                Payment.status == PaymentStatus.PENDING,
                Payment.provider == "stripe",
                Payment.provider_ref.is_not(None),
                Payment.created_at >= since,
            )
            .order_by(Payment.id)
        )
        .scalars()
        .all()
    )
    settled = set(
        session.execute(
            select(Payment.provider_ref).where(
                Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH))
            )
        ).scalars()
    )
    # Route payments (one intent for a whole route) likewise.
    pending = list(pending) + list(
        session.execute(
            select(RoutePayment.provider_ref)
            .where(RoutePayment.status == PaymentStatus.PENDING, RoutePayment.created_at >= since)
            .order_by(RoutePayment.id)
        ).scalars()
    )
    settled |= set(
        session.execute(
            select(RoutePayment.provider_ref).where(
                RoutePayment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH))
            )
        ).scalars()
    )
    release(session)
    return list(
        dict.fromkeys(
            list(pending)
            + [
                intent_id
                for intent_id in gateway.recent_succeeded_intent_ids(since)
                if intent_id and intent_id not in settled
            ]
        )
    )


def reconcile_payments(
    session: Session, gateway: StripeGateway, now: datetime, since: datetime
) -> ReconcileReport:
    """Repair bookings whose confirmation was missed (a lost webhook, a crash before commit).

    Each intent is asked about outside any transaction and applied in a unit of work of its
    own, so one that Stripe does not know, or that fails, is reported and the others are
    still repaired (and stay repaired). Running it twice changes nothing the second time.
    """
    report = ReconcileReport()
    for intent_id in reconcile_candidates(session, gateway, since):
        report.checked += 1
        try:
            intent = gateway.retrieve_intent(intent_id)
            with unit_of_work(session):
                outcome = apply_intent(session, intent, gateway, now)
        except (GatewayError, PaymentDeclined, DomainError) as exc:
            report.failed.append((intent_id, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if outcome not in ("unchanged", "pending", "unpaid", "ignored: not ours"):
            report.changed += 1
    return report
