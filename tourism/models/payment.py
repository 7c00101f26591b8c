"""Money received and returned: payments, refunds, disputes, and provider events seen."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    #: Stripe took money that is not what we asked for (another amount or currency): never
    #: confirms a booking, never enters the split, is refunded in full.
    MISMATCH = "mismatch"


class Payment(db.Model):
    """One attempt to collect money for a booking: a Stripe PaymentIntent, or cash."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    #: ``stripe``, ``cash`` or ``bank_transfer`` (recorded by the treasurer).
    provider: Mapped[str] = mapped_column(String(20))
    #: The provider's id (``pi_…``); unique, so one PaymentIntent maps to one payment.
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: The charge behind a successful PaymentIntent (``ch_…``), for refunds and disputes.
    charge_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    #: 1, 2, … per booking; part of the idempotency key so a retry never creates two.
    attempt: Mapped[int] = mapped_column(default=1)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: The processor's fee, from the balance transaction, once known.
    fee_cents: Mapped[int | None]
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus), default=PaymentStatus.PENDING
    )
    failure_message: Mapped[str] = mapped_column(String(300), default="")
    #: What the processor says it received, when that is not ``amount_cents`` /
    #: ``currency`` (a ``mismatch`` payment); empty otherwise.
    received_cents: Mapped[int | None]
    received_currency: Mapped[str | None] = mapped_column(String(3))
    #: Cash: the guide who collected it.
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Cash recorded offline: the id the guide's phone gave the action, so a replayed sync
    #: never records the same cash twice.
    client_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: A leg's part of a route's card payment: the PaymentIntent is the route payment's.
    route_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_payments.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking = relationship("Booking", back_populates="payments")
    route_payment = relationship("RoutePayment")

    @property
    def intent_ref(self) -> str | None:
        """The PaymentIntent that carried this payment (its own, or its route's)."""
        if self.provider_ref:
            return self.provider_ref
        return self.route_payment.provider_ref if self.route_payment is not None else None

    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")
    disputes: Mapped[list[Dispute]] = relationship(back_populates="payment", order_by="Dispute.id")

    @property
    def refunded_cents(self) -> int:
        return sum(r.amount_cents for r in self.refunds if r.status == RefundStatus.SUCCEEDED)

    @property
    def net_cents(self) -> int:
        """What we keep of this payment after refunds (zero unless it succeeded)."""
        if self.status != PaymentStatus.SUCCEEDED:
            return 0
        return self.amount_cents - self.refunded_cents


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    #: The provider's id (``re_…``); unique, so our call and the webhook record it once.
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount_cents: Mapped[int]
    #: Why: ``tourist_cancelled``, ``departure_cancelled``, ``late_payment``, ``duplicate``
    #: (a second charge for what was paid already), ``provider``.
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[RefundStatus] = mapped_column(
        _enum(RefundStatus), default=RefundStatus.SUCCEEDED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A refund of a bank transfer, paid back by bank transfer by the treasurer: the day
    #: it was paid, the bank's reference, and who recorded it (NULL for card refunds).
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(60))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class Dispute(db.Model):
    """A chargeback opened by the card holder's bank."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    provider_ref: Mapped[str] = mapped_column(String(100), unique=True)
    amount_cents: Mapped[int]
    #: The provider's status: ``needs_response``, ``under_review``, ``won``, ``lost``, …
    status: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship(back_populates="disputes")


class ProviderEvent(db.Model):
    """A webhook event already applied; its id makes a redelivery a no-op."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="stripe")
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """An email to send after the transaction that caused it commits (an outbox).

    ``key`` is unique (e.g. ``booking:42:confirmed``), so the same message can never be
    queued twice, however often the event that triggers it is replayed.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="es")
    #: Extra facts for the template (e.g. a refund amount), JSON-encoded.
    context: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")

    booking = relationship("Booking")
