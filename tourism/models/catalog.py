"""What associations publish: experiences, their translated texts, stops and prices."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Enum, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class ExperienceStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Experience(db.Model):
    __tablename__ = "experiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[ExperienceStatus] = mapped_column(
        _enum(ExperienceStatus), default=ExperienceStatus.DRAFT
    )
    #: Province code, e.g. ``napo``; see ``tourism.vocabulary.PROVINCES``.
    province: Mapped[str] = mapped_column(String(40), index=True)
    duration_minutes: Mapped[int]
    #: Languages the visit can be guided in, as comma-separated codes (``es,en,qu``).
    languages: Mapped[str] = mapped_column(String(60), default="es")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    max_tickets_per_booking: Mapped[int] = mapped_column(default=10)
    #: Refund tiers, most generous first: ``[{"hours": 48, "percent": 100}, ...]``. A
    #: cancellation at least ``hours`` before departure gets ``percent`` back; later gets 0.
    cancellation_policy: Mapped[list] = mapped_column(JSON, default=list)
    #: Payment methods offered, comma-separated among ``card``, ``deposit``, ``on_arrival``.
    payment_options: Mapped[str] = mapped_column(String(60), default="card,on_arrival")
    #: Share of the total paid online when the tourist chooses a deposit (1–100).
    deposit_percent: Mapped[int] = mapped_column(default=30)
    #: Visitors a departure needs to run (0: none). Checked ``min_cutoff_hours`` before the
    #: start by ``flask check-minimums``; a departure short of it is cancelled and refunded.
    min_participants: Mapped[int] = mapped_column(default=0, server_default="0")
    min_cutoff_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    association = relationship("Association", back_populates="experiences")
    #: In the order they were written (by id): PostgreSQL returns rows in no set order, and
    #: a text rewritten moves (a list read again must not change its order).
    texts: Mapped[list[ExperienceText]] = relationship(
        back_populates="experience", order_by="ExperienceText.id", cascade="all, delete-orphan"
    )
    themes: Mapped[list[ExperienceTheme]] = relationship(
        order_by="ExperienceTheme.theme", cascade="all, delete-orphan"
    )
    stops: Mapped[list[Stop]] = relationship(
        back_populates="experience", order_by="Stop.position", cascade="all, delete-orphan"
    )
    price_categories: Mapped[list[PriceCategory]] = relationship(
        back_populates="experience",
        order_by="PriceCategory.position",
        cascade="all, delete-orphan",
    )
    #: Extras offered on the booking form (``models/addons.py``).
    extras = relationship(
        "Extra", secondary="experience_extras", back_populates="experiences", order_by="Extra.id"
    )

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    @property
    def payment_option_codes(self) -> list[str]:
        return [code for code in self.payment_options.split(",") if code]

    @property
    def theme_codes(self) -> list[str]:
        return sorted(t.theme for t in self.themes)

    def text(self, locale: str) -> ExperienceText | None:
        """The text in ``locale``, else Spanish, else any; callers show when it is a fallback."""
        by_locale = {t.locale: t for t in self.texts}
        return by_locale.get(locale) or by_locale.get("es") or next(iter(by_locale.values()), None)


class ExperienceText(db.Model):
    __tablename__ = "experience_texts"
    __table_args__ = (UniqueConstraint("experience_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(400), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    meeting_point: Mapped[str] = mapped_column(String(300), default="")

    experience: Mapped[Experience] = relationship(back_populates="texts")


class ExperienceTheme(db.Model):
    __tablename__ = "experience_themes"

    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), primary_key=True)
    #: Theme code, e.g. ``cacao``; see ``tourism.vocabulary.THEMES``.
    theme: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)


class Stop(db.Model):
    """One place on the itinerary, usually a family's chakra, in visiting order."""

    __tablename__ = "stops"
    __table_args__ = (UniqueConstraint("experience_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    duration_minutes: Mapped[int | None]
    #: Where the stop is, in degrees (WGS 84), for the route map; NULL: not known.
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    #: The coordinates are an approximation (demo data, or a place given only roughly).
    location_is_approximate: Mapped[bool] = mapped_column(default=False)

    experience: Mapped[Experience] = relationship(back_populates="stops")
    family = relationship("Family")
    texts: Mapped[list[StopText]] = relationship(
        order_by="StopText.id", cascade="all, delete-orphan"
    )

    def text(self, locale: str) -> StopText | None:
        by_locale = {t.locale: t for t in self.texts}
        return by_locale.get(locale) or by_locale.get("es") or next(iter(by_locale.values()), None)


class StopText(db.Model):
    __tablename__ = "stop_texts"
    __table_args__ = (UniqueConstraint("stop_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class PriceCategory(db.Model):
    """A ticket type with its price in cents (adult, child, national resident, …)."""

    __tablename__ = "price_categories"
    __table_args__ = (UniqueConstraint("experience_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: Category code, e.g. ``adult``; labels live in ``tourism.vocabulary.PRICE_CATEGORIES``.
    code: Mapped[str] = mapped_column(String(30))
    price_cents: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    experience: Mapped[Experience] = relationship(back_populates="price_categories")
