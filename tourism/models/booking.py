"""Bookings: a departure, tickets per price category, contact details and a state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..errors import IllegalTransition
from ..extensions import db


class BookingStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


#: The only moves a booking may make; ``Booking.transition`` enforces them.
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset(
        {BookingStatus.CONFIRMED, BookingStatus.EXPIRED, BookingStatus.CANCELLED}
    ),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED, BookingStatus.REFUNDED}),
    BookingStatus.CANCELLED: frozenset({BookingStatus.REFUNDED}),
    # A payment that succeeds after its hold expired confirms it if the seats are still free.
    BookingStatus.EXPIRED: frozenset({BookingStatus.CONFIRMED}),
    BookingStatus.REFUNDED: frozenset(),
}

#: Statuses whose seats count against capacity (a hold only until it expires).
SEAT_TAKING = (BookingStatus.HELD, BookingStatus.CONFIRMED)


class PaymentMethod(enum.StrEnum):
    """How the tourist chose to pay; the association decides which are offered."""

    CARD = "card"  # everything online now
    DEPOSIT = "deposit"  # a share online now, the rest in cash on arrival
    ON_ARRIVAL = "on_arrival"  # everything in cash on arrival


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_departure_status", "departure_id", "status"),
        # The cap on open unpaid bookings per email compares addresses case-insensitively.
        Index("ix_bookings_contact_email_lower", func.lower(text("contact_email"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    #: Short, human, unambiguous reference, e.g. ``KAL-7F3K9Q``; read out at check-in.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    #: Secret of the private manage link; whoever holds it may see and cancel the booking.
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Where the hold came from: a keyed hash of the client address (never the address
    #: itself), to cap unpaid holds per address (``booking.hold_seats``).
    held_from: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The random key of the booking form that made it (``BookingForm.submission``): the
    #: same form sent twice (a double click, a slow connection) finds this booking instead
    #: of making another (``hold_rows.insert_booking``). None for bookings made otherwise.
    submission_key: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(
            BookingStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=BookingStatus.HELD,
    )
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_method: Mapped[str | None] = mapped_column(String(20))
    #: What must be paid online before the booking is confirmed (0 for pay on arrival).
    online_due_cents: Mapped[int] = mapped_column(default=0)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(10))
    special_needs: Mapped[str] = mapped_column(Text, default="")
    #: When the visitor agreed that the association may use ``special_needs`` (it may be
    #: health data) to prepare the visit; a booking with needs always has it.
    special_needs_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the visitor ticked "send me WhatsApp/SMS messages" (NULL: email only), the
    #: number it applies to in E.164, and the channel they prefer (``whatsapp`` or ``sms``).
    message_opt_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_phone: Mapped[str | None] = mapped_column(String(20))
    message_channel: Mapped[str | None] = mapped_column(String(10))
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the guide marks the party as not having come.
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why a confirmed booking ended, shown to the tourist (e.g. the departure was cancelled).
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    #: The split rule version in force when the seats were held: the booking's money is
    #: shared by it, whatever later versions say. NULL: no rule was approved yet.
    split_rule_id: Mapped[int | None] = mapped_column(ForeignKey("split_rules.id"))

    departure = relationship("Departure")
    split_rule = relationship("SplitRule")
    payments = relationship("Payment", back_populates="booking", order_by="Payment.id")
    lines: Mapped[list[BookingLine]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingLine.id"
    )
    #: Extras and homestay nights added to the tickets (``models/addons.py``); their
    #: amounts are part of ``total_cents``.
    extras = relationship(
        "BookingExtra",
        back_populates="booking",
        cascade="all, delete-orphan",
        order_by="BookingExtra.id",
    )
    nights = relationship(
        "BookingNight",
        back_populates="booking",
        cascade="all, delete-orphan",
        order_by="BookingNight.night",
    )
    #: The reseller's record of this booking, when a reseller sold it (OCTO).
    channel = relationship("ChannelBooking", back_populates="booking", uselist=False)

    @property
    def paid_online_cents(self) -> int:
        """Money received online and not refunded."""
        return sum(p.net_cents for p in self.payments if p.provider == "stripe")

    @property
    def paid_cash_cents(self) -> int:
        """Cash the guide has already collected for this booking."""
        return sum(p.net_cents for p in self.payments if p.provider == "cash")

    @property
    def paid_by_transfer_cents(self) -> int:
        """Bank transfers the treasurer recorded as received (a group's quote)."""
        return sum(p.net_cents for p in self.payments if p.provider == "bank_transfer")

    @property
    def due_on_arrival_cents(self) -> int:
        """What is still to collect in cash: the total less what was paid online or in cash."""
        if self.status not in (BookingStatus.CONFIRMED, BookingStatus.HELD):
            return 0
        if self.channel is not None and self.channel.prepaid:
            return 0  # the reseller took the money; it owes it to the association
        paid = self.paid_online_cents + self.paid_cash_cents + self.paid_by_transfer_cents
        return max(self.total_cents - paid, 0)

    @property
    def addons_cents(self) -> int:
        """What the extras and homestay nights add to the tickets: credited to who
        provides them, not split by the experience's rule."""
        return sum(e.amount_cents for e in self.extras) + sum(n.amount_cents for n in self.nights)

    @property
    def tickets_cents(self) -> int:
        return self.total_cents - self.addons_cents

    @property
    def participants(self) -> int:
        return sum(line.quantity for line in self.lines)

    def transition(self, target: BookingStatus) -> None:
        """Move to ``target`` or raise ``IllegalTransition``; the one place states change."""
        if target not in TRANSITIONS[self.status]:
            raise IllegalTransition(current=self.status.value, target=target.value)
        self.status = target


class BookingLine(db.Model):
    """Tickets of one price category in a booking, with the unit price at booking time."""

    __tablename__ = "booking_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    price_category_id: Mapped[int] = mapped_column(ForeignKey("price_categories.id"))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    booking: Mapped[Booking] = relationship(back_populates="lines")
    price_category = relationship("PriceCategory")

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents
