"""Routes across communities: multi-day itineraries of experience legs and homestay nights.

A ``Route`` is curated by one association or by the platform. Its ``RouteLeg`` rows, in
order, are either a *departure pattern* of an existing experience (day N of the route at a
local start time: on a given start date it names exactly one departure) or a homestay night
(the night of day N at a family's ``Homestay``). Every association whose experience or
homestay is a leg must approve taking part (``RouteParticipation``).

A ``RouteBooking`` is one checkout: it owns one ordinary ``Booking`` per experience leg (so
seats, manifests, check-in and the ledger work as for any booking), its homestay nights and
its extras. They are held, confirmed and cancelled together.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .booking import BookingStatus
from .catalog import ExperienceStatus
from .payment import PaymentStatus


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


#: Latitude/longitude in degrees with six decimals (about 10 cm): plenty for a chakra.
Coordinate = Numeric(9, 6)


class PriceRule(enum.StrEnum):
    """How a route's price is made. Only one for now; see docs/decisions.md."""

    #: The price of every experience leg, every homestay night and every extra chosen, plus
    #: the curator's fee per person, each shown as its own line.
    SUM_OF_LEGS = "sum_of_legs"


class ParticipationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class LegKind(enum.StrEnum):
    EXPERIENCE = "experience"
    HOMESTAY = "homestay"


class Route(db.Model):
    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[ExperienceStatus] = mapped_column(
        _enum(ExperienceStatus), default=ExperienceStatus.DRAFT
    )
    #: The association that put the route together; NULL: the platform curates it.
    curator_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id"), index=True
    )
    price_rule: Mapped[PriceRule] = mapped_column(_enum(PriceRule), default=PriceRule.SUM_OF_LEGS)
    #: The curator's share: a fee per person, added to the legs and credited to the curator.
    curator_fee_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    max_people_per_booking: Mapped[int] = mapped_column(default=8)
    #: Refund tiers before the first leg starts, most generous first, as on experiences.
    cancellation_policy: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    curator = relationship("Association")
    texts: Mapped[list[RouteText]] = relationship(
        order_by="RouteText.id", cascade="all, delete-orphan"
    )
    legs: Mapped[list[RouteLeg]] = relationship(
        back_populates="route", order_by="RouteLeg.position", cascade="all, delete-orphan"
    )
    participations: Mapped[list[RouteParticipation]] = relationship(
        back_populates="route", order_by="RouteParticipation.id", cascade="all, delete-orphan"
    )
    extras: Mapped[list[Extra]] = relationship(secondary="route_extras", order_by="Extra.id")

    def text(self, locale: str) -> RouteText | None:
        by_locale = {t.locale: t for t in self.texts}
        return by_locale.get(locale) or by_locale.get("es") or next(iter(by_locale.values()), None)

    @property
    def days(self) -> int:
        return max((leg.day for leg in self.legs), default=0)


class RouteText(db.Model):
    __tablename__ = "route_texts"
    __table_args__ = (UniqueConstraint("route_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(400), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class RouteParticipation(db.Model):
    """An association's answer to taking part in a route; only ``approved`` lets its
    experiences and homestays be sold as legs."""

    __tablename__ = "route_participations"
    __table_args__ = (UniqueConstraint("route_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    status: Mapped[ParticipationStatus] = mapped_column(
        _enum(ParticipationStatus), default=ParticipationStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    route: Mapped[Route] = relationship(back_populates="participations")
    association = relationship("Association")


class Homestay(db.Model):
    """A family's rooms for visitors: how many people a night, at what price."""

    __tablename__ = "homestays"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    description_es: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    #: Beds: people who can sleep there on one night.
    capacity: Mapped[int]
    price_cents_per_person_night: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    meals_included: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[Decimal | None] = mapped_column(Coordinate)
    longitude: Mapped[Decimal | None] = mapped_column(Coordinate)
    #: The coordinates are an approximation (demo data, or a place given only roughly).
    location_is_approximate: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    family = relationship("Family")
    blackouts: Mapped[list[HomestayBlackout]] = relationship(
        cascade="all, delete-orphan", order_by="HomestayBlackout.night"
    )

    def description(self, locale: str) -> str:
        return (self.description_en if locale == "en" else self.description_es) or (
            self.description_es or self.description_en
        )


class HomestayBlackout(db.Model):
    """A night the family does not take guests."""

    __tablename__ = "homestay_blackouts"
    __table_args__ = (UniqueConstraint("homestay_id", "night"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    homestay_id: Mapped[int] = mapped_column(ForeignKey("homestays.id"), index=True)
    night: Mapped[date] = mapped_column(Date)


class RouteLeg(db.Model):
    __tablename__ = "route_legs"
    __table_args__ = (
        UniqueConstraint("route_id", "position"),
        CheckConstraint(
            "(kind = 'experience' AND experience_id IS NOT NULL AND start_time IS NOT NULL"
            " AND homestay_id IS NULL)"
            " OR (kind = 'homestay' AND homestay_id IS NOT NULL AND experience_id IS NULL)",
            name="leg_is_experience_or_homestay",
        ),
        CheckConstraint("day >= 1", name="day_from_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), index=True)
    position: Mapped[int]
    #: Day of the route, from 1; a homestay leg is the night of that day.
    day: Mapped[int]
    kind: Mapped[LegKind] = mapped_column(_enum(LegKind))
    experience_id: Mapped[int | None] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: Local start time (America/Guayaquil) of the experience's departure on that day.
    start_time: Mapped[time | None] = mapped_column(Time)
    homestay_id: Mapped[int | None] = mapped_column(ForeignKey("homestays.id"), index=True)

    route: Mapped[Route] = relationship(back_populates="legs")
    experience = relationship("Experience")
    homestay: Mapped[Homestay | None] = relationship()

    @property
    def association_id(self) -> int:
        if self.kind == LegKind.EXPERIENCE:
            return self.experience.association_id
        return self.homestay.family.association_id


class Extra(db.Model):
    """Something added to a route (lunch, a chocolate box, a canoe transfer), credited to
    who provides it: a family, or the association itself (its fund) when no family is set."""

    __tablename__ = "extras"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_es: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: Units that can be sold over all bookings (or, with ``stock_per_departure``, on each
    #: departure of a single experience); NULL: no limit.
    stock: Mapped[int | None]
    stock_per_departure: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    association = relationship("Association")
    family = relationship("Family")
    #: The experiences whose booking form offers it.
    experiences = relationship(
        "Experience", secondary="experience_extras", order_by="Experience.id"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_es


class RouteExtra(db.Model):
    __tablename__ = "route_extras"

    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), primary_key=True)
    extra_id: Mapped[int] = mapped_column(ForeignKey("extras.id"), primary_key=True)


class RouteBooking(db.Model):
    """One visitor's checkout of a route: its leg bookings, nights and extras together."""

    __tablename__ = "route_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), index=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: The random key of the booking form that made it, as ``Booking.submission_key``: the
    #: same route form sent twice finds this booking instead of making another.
    submission_key: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus), default=BookingStatus.HELD)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_method: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    people: Mapped[int]
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(10))
    #: Everything: legs, nights, extras and the curator's fee.
    total_cents: Mapped[int]
    #: The curator's share of ``total_cents`` (its fee times the people).
    curator_fee_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    route: Mapped[Route] = relationship()
    legs: Mapped[list[RouteBookingLeg]] = relationship(
        cascade="all, delete-orphan", order_by="RouteBookingLeg.id"
    )
    nights: Mapped[list[RouteBookingNight]] = relationship(
        cascade="all, delete-orphan", order_by="RouteBookingNight.night"
    )
    extras: Mapped[list[RouteBookingExtra]] = relationship(
        cascade="all, delete-orphan", order_by="RouteBookingExtra.id"
    )
    payments: Mapped[list[RoutePayment]] = relationship(
        back_populates="route_booking", order_by="RoutePayment.id"
    )


class RoutePayment(db.Model):
    """One card payment attempt for a whole route: one Stripe PaymentIntent.

    When it succeeds, each leg booking gets an ordinary ``Payment`` (``route_payment_id``
    set, no ``provider_ref`` of its own) split by its experience's rule, and the nights,
    extras and curator's fee are posted to the families, providers and curator (see
    ``services/payments/route_card.py``)."""

    __tablename__ = "route_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_booking_id: Mapped[int] = mapped_column(ForeignKey("route_bookings.id"), index=True)
    #: The PaymentIntent (``pi_…``).
    provider_ref: Mapped[str] = mapped_column(String(100), unique=True)
    charge_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    fee_cents: Mapped[int | None]
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus), default=PaymentStatus.PENDING
    )
    failure_message: Mapped[str] = mapped_column(String(300), default="")
    #: Money given back whole, outside the legs' own refunds: a payment that arrived after
    #: the hold lapsed or the route was cancelled, or that did not match (the refund's id).
    returned_ref: Mapped[str | None] = mapped_column(String(100))
    returned_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    route_booking: Mapped[RouteBooking] = relationship(back_populates="payments")


class RouteBookingLeg(db.Model):
    """The ordinary booking that holds one experience leg's seats."""

    __tablename__ = "route_booking_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_booking_id: Mapped[int] = mapped_column(ForeignKey("route_bookings.id"), index=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("route_legs.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)

    leg: Mapped[RouteLeg] = relationship()
    booking = relationship("Booking")


class RouteBookingNight(db.Model):
    __tablename__ = "route_booking_nights"
    __table_args__ = (Index("ix_route_booking_nights_homestay_night", "homestay_id", "night"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_booking_id: Mapped[int] = mapped_column(ForeignKey("route_bookings.id"), index=True)
    homestay_id: Mapped[int] = mapped_column(ForeignKey("homestays.id"))
    night: Mapped[date] = mapped_column(Date)
    people: Mapped[int]
    unit_price_cents: Mapped[int]

    homestay: Mapped[Homestay] = relationship()

    @property
    def amount_cents(self) -> int:
        return self.people * self.unit_price_cents


class RouteBookingExtra(db.Model):
    __tablename__ = "route_booking_extras"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_booking_id: Mapped[int] = mapped_column(ForeignKey("route_bookings.id"), index=True)
    extra_id: Mapped[int] = mapped_column(ForeignKey("extras.id"), index=True)
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    extra: Mapped[Extra] = relationship()

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents
