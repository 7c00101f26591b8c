"""Waiting lists: visitors who asked for seats on a sold-out departure, in order."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class WaitlistStatus(enum.StrEnum):
    #: In line, nothing offered yet.
    WAITING = "waiting"
    #: Seats are held for this party (``booking``) until ``offer_expires_at``.
    OFFERED = "offered"
    #: The party took the seats: ``booking`` is confirmed (or being paid).
    ACCEPTED = "accepted"
    #: The offer was not taken in time, or declined; the next in line gets the seats.
    LAPSED = "lapsed"
    #: The departure was cancelled or left while the party waited.
    CLOSED = "closed"


class WaitlistEntry(db.Model):
    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_departure_status", "departure_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    status: Mapped[WaitlistStatus] = mapped_column(
        Enum(
            WaitlistStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=WaitlistStatus.WAITING,
    )
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(10))
    #: Seats the party needs (all in the experience's first ticket type when offered).
    people: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The held booking that makes the offer; its manage token is the offer's link.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    departure = relationship("Departure")
    booking = relationship("Booking")
