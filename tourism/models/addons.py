"""What a single-experience booking adds to its tickets: extras (lunch, a chocolate box, a
canoe transfer) and homestay nights with a host family the night before or after.

Both are priced when booked (the unit price is kept), counted against the extra's stock or
the homestay's beds under the same locks as the seats, and credited in the ledger to who
provides them (``services/ledger/postings.py``), not split by the experience's rule.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class NightSide(enum.StrEnum):
    #: The night before the departure's local date.
    BEFORE = "before"
    #: The night of the departure's local date (after the activity).
    AFTER = "after"


class ExperienceExtra(db.Model):
    """An extra offered on an experience's booking form (same association)."""

    __tablename__ = "experience_extras"

    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), primary_key=True)
    extra_id: Mapped[int] = mapped_column(ForeignKey("extras.id"), primary_key=True)


class BookingExtra(db.Model):
    __tablename__ = "booking_extras"
    __table_args__ = (UniqueConstraint("booking_id", "extra_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    extra_id: Mapped[int] = mapped_column(ForeignKey("extras.id"), index=True)
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    booking = relationship("Booking", back_populates="extras")
    extra = relationship("Extra")

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class BookingNight(db.Model):
    """A homestay night sold with a single experience, for every participant."""

    __tablename__ = "booking_nights"
    __table_args__ = (
        UniqueConstraint("booking_id", "night"),
        Index("ix_booking_nights_homestay_night", "homestay_id", "night"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    homestay_id: Mapped[int] = mapped_column(ForeignKey("homestays.id"))
    night: Mapped[date] = mapped_column(Date)
    side: Mapped[NightSide] = mapped_column(
        Enum(
            NightSide, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]
        )
    )
    people: Mapped[int]
    unit_price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    booking = relationship("Booking", back_populates="nights")
    homestay = relationship("Homestay")

    @property
    def amount_cents(self) -> int:
        return self.people * self.unit_price_cents
