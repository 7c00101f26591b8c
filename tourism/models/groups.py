"""Private group requests: a school, an agency or a family asks an association for a visit of
its own, and the two write to each other about it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class RequesterKind(enum.StrEnum):
    SCHOOL = "school"
    AGENCY = "agency"
    FAMILY = "family"
    OTHER = "other"


class GroupRequestStatus(enum.StrEnum):
    OPEN = "open"
    #: The association closed it (answered elsewhere, not possible, done).
    CLOSED = "closed"


class GroupRequest(db.Model):
    __tablename__ = "group_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: The requester's private link (like a booking's manage token).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[GroupRequestStatus] = mapped_column(
        _enum(GroupRequestStatus), default=GroupRequestStatus.OPEN
    )
    requester_kind: Mapped[RequesterKind] = mapped_column(_enum(RequesterKind))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    #: The language the requester reads (pages and messages to them).
    language: Mapped[str] = mapped_column(String(10))
    group_size: Mapped[int]
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    needs: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The random key of the form page the request was sent from (``forms.base.SentOnce``):
    #: the same page sent again finds this request instead of making a second one.
    submission_key: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)

    experience = relationship("Experience")
    messages: Mapped[list[GroupMessage]] = relationship(
        back_populates="request", order_by="GroupMessage.id", cascade="all, delete-orphan"
    )
    quotes: Mapped[list[GroupQuote]] = relationship(
        back_populates="request", order_by="GroupQuote.id", viewonly=True
    )


class GroupMessage(db.Model):
    __tablename__ = "group_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("group_requests.id"), index=True)
    #: Written by the requester (through the private link), else by the association.
    from_requester: Mapped[bool]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[GroupRequest] = relationship(back_populates="messages")
    author = relationship("User")


class QuotePricing(enum.StrEnum):
    #: ``amount_cents`` is the price of one person.
    PER_PERSON = "per_person"
    #: ``amount_cents`` is the price of the whole group.
    TOTAL = "total"


class QuoteStatus(enum.StrEnum):
    #: Sent to the requester; may be accepted until ``expires_at``.
    OFFERED = "offered"
    #: The requester accepted it: a booking on the quote's private departure exists.
    ACCEPTED = "accepted"
    #: The requester declined it (the request is closed with it).
    DECLINED = "declined"
    #: The association withdrew it before it was accepted; its private departure is cancelled.
    WITHDRAWN = "withdrawn"
    #: The association sent a revised quote in its place (the one whose ``replaces_id``
    #: names it); only the revision may be accepted.
    SUPERSEDED = "superseded"


class GroupQuote(db.Model):
    """The association's price for a group request, on a private departure made for it."""

    __tablename__ = "group_quotes"
    __table_args__ = (CheckConstraint("total_cents > 0", name="total_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("group_requests.id"), index=True)
    #: The departure made for the group (``Departure.group_request_id`` names the request):
    #: never shown in the catalog, its availability, the API or to resellers. A later quote
    #: of the same request at the same time reuses it.
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    pricing: Mapped[QuotePricing] = mapped_column(_enum(QuotePricing))
    #: The price as the association gave it (per person or for the group), in cents.
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    #: What the group pays in all, in cents (``amount_cents`` times the group, or itself).
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[QuoteStatus] = mapped_column(_enum(QuoteStatus), default=QuoteStatus.OFFERED)
    #: After this the quote cannot be accepted.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The booking made when it was accepted (the latest, if an unpaid one lapsed).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    #: The payment recorded when the treasurer marked a bank transfer as received.
    transfer_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    #: The group the quote is for (the request's size, or another the association quoted):
    #: the private departure's capacity and the booking's tickets.
    group_size: Mapped[int]
    #: The association lets the group pay on arrival (the experience must allow it).
    pay_on_arrival: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The quote this one revises (it is ``superseded``): the history of a changed quote.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("group_quotes.id"))
    #: When the association withdrew it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[GroupRequest] = relationship(back_populates="quotes")
    departure = relationship("Departure")
    booking = relationship("Booking")
    created_by = relationship("User")
    transfer_payment = relationship("Payment")
