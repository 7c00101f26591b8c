"""Sales channels: resellers (OTAs, agencies) that book an association's experiences through
the OCTO API with their own key, and the bookings they made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db

#: Which experiences a reseller may sell (an experience of its own association only).
reseller_experiences = Table(
    "reseller_experiences",
    db.metadata,
    Column("reseller_id", ForeignKey("resellers.id"), primary_key=True),
    Column("experience_id", ForeignKey("experiences.id"), primary_key=True),
)


def percent_text(basis_points: int) -> str:
    """Basis points as a percent written with a point (1250 → ``12.5``), no floats."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".") if part else str(whole)


class Reseller(db.Model):
    """A reseller of one association, with its API key (stored only as a hash)."""

    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: Who to write to about the reseller's bookings; also the contact of a reservation
    #: until the guest's own details arrive with the confirmation.
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(40))
    #: The reseller's commission in basis points of the retail price (1000 = 10 %).
    commission_bp: Mapped[int] = mapped_column(default=0)
    #: SHA-256 of the API key (``accounts.hash_token``); the key itself is never stored.
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The key's first characters, to tell keys apart on the management page.
    key_prefix: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The reseller collects the guest's money itself ("paid by reseller"): each confirmed
    #: booking is a receivable from the reseller, settled when its payment arrives.
    prepaid: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    #: Where we post changes to its bookings made on our side (OCTO webhooks); none: no posts.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    #: The key that signs each post (HMAC-SHA256). Kept as is, because signing needs it; it is
    #: shown to the admin once, when issued, and never on a page again.
    webhook_secret: Mapped[str | None] = mapped_column(String(80))

    association = relationship("Association")
    experiences = relationship(
        "Experience", secondary=reseller_experiences, order_by="Experience.id"
    )
    #: Its commission on given experiences, where it differs from ``commission_bp``.
    rates = relationship("ResellerRate", order_by="ResellerRate.experience_id", viewonly=True)

    @property
    def commission_percent(self) -> str:
        """The commission as a percent written with a point (``12.5``), from whole numbers."""
        return percent_text(self.commission_bp)

    @property
    def is_active(self) -> bool:
        return self.key_hash is not None and self.key_revoked_at is None


class ChannelBooking(db.Model):
    """A booking made by a reseller: the OCTO identity of one of our bookings."""

    __tablename__ = "channel_bookings"
    __table_args__ = (UniqueConstraint("reseller_id", "uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    #: The OCTO booking UUID (the reseller's, or ours when it sent none).
    uuid: Mapped[str] = mapped_column(String(36))
    #: The reseller's own reference (its voucher number), searchable.
    reseller_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: The reseller's commission at the time of booking, in basis points.
    commission_bp: Mapped[int] = mapped_column(default=0)
    #: The net rate at the time of booking, in cents per ticket, when the reseller bought at
    #: a net rate (then ``commission_bp`` is 0): its share is retail less net, per ticket.
    net_cents: Mapped[int | None] = mapped_column(BigInteger)
    #: Whether the reseller took the guest's money (it was prepaid when it booked): the
    #: guest then owes nothing on arrival, the reseller owes the association.
    prepaid: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The route sale this booking is a leg of; NULL: a booking of one experience. A leg's
    #: ``uuid`` is derived from the sale's, and the reseller only ever sees the sale.
    route_sale_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_route_bookings.id"), index=True
    )

    booking = relationship("Booking", back_populates="channel")
    reseller = relationship("Reseller")
    route_sale = relationship("ChannelRouteBooking", back_populates="legs")


class ChannelRouteBooking(db.Model):
    """A route sold by a reseller: the OCTO identity of one of our route bookings.

    Each experience leg of the route booking also has its ``ChannelBooking`` (``legs``), with
    the sale's commission and prepaid flag, so the commission, the prepaid receivable, the
    manifest and what is due on arrival of every leg follow the rules of any channel booking.
    """

    __tablename__ = "channel_route_bookings"
    __table_args__ = (UniqueConstraint("reseller_id", "uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_booking_id: Mapped[int] = mapped_column(ForeignKey("route_bookings.id"), unique=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    #: The OCTO booking UUID (the reseller's, or ours when it sent none).
    uuid: Mapped[str] = mapped_column(String(36))
    reseller_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: The reseller's commission at the time of booking, in basis points (on the legs).
    commission_bp: Mapped[int] = mapped_column(default=0)
    prepaid: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    route_booking = relationship("RouteBooking")
    reseller = relationship("Reseller")
    legs = relationship("ChannelBooking", back_populates="route_sale", order_by="ChannelBooking.id")


class ResellerRate(db.Model):
    """The commission of one reseller on one experience, in place of its usual commission;
    or a net rate: the reseller pays us ``net_cents`` per ticket and keeps the rest of the
    retail price (``commission_bp`` is then 0).

    Bookings keep the commission or net rate they were sold with (``ChannelBooking``), so
    changing or removing a rate changes later sales only.
    """

    __tablename__ = "reseller_rates"
    __table_args__ = (
        UniqueConstraint("reseller_id", "experience_id"),
        CheckConstraint(
            "commission_bp >= 0 AND commission_bp <= 10000", name="commission_within_price"
        ),
        CheckConstraint("net_cents IS NULL OR net_cents >= 0", name="net_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: Basis points of the retail price (1000 = 10 %); 0 with a net rate.
    commission_bp: Mapped[int] = mapped_column()
    #: A net rate: what the reseller pays us per ticket, in cents (NULL: a commission).
    net_cents: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reseller = relationship("Reseller")
    experience = relationship("Experience")

    @property
    def commission_percent(self) -> str:
        return percent_text(self.commission_bp)


class ResellerReceipt(db.Model):
    """Money received from a prepaid reseller, settling what its bookings owe. Recorded once
    per form (``token``), with the ledger transaction that moved it."""

    __tablename__ = "reseller_receipts"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: The transfer's reference (bank, invoice number), as the treasurer wrote it.
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The form's one-time token: the same form sent twice records one receipt.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)

    reseller = relationship("Reseller")
    recorded_by = relationship("User")
    transaction = relationship("LedgerTransaction")


class WebhookDelivery(db.Model):
    """One post to a reseller's webhook: written in the transaction of the change it tells
    about, sent later (``flask deliver-webhooks``), retried with growing pauses."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    #: What happened (``booking_update``).
    event: Mapped[str] = mapped_column(String(40))
    #: The event's id, sent with every attempt, so the reseller can apply it once.
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    #: The JSON body, fixed when the change happened.
    payload: Mapped[str] = mapped_column(Text)
    #: ``pending`` (to send), ``delivered`` (a 2xx answer) or ``failed`` (we gave up).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reseller = relationship("Reseller")
    booking = relationship("Booking")
