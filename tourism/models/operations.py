"""Running departures: guides assigned, time off, stops visited, sign-in tokens, photos."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class GuideRole(enum.StrEnum):
    LEAD = "lead"
    ASSISTANT = "assistant"


class DepartureGuide(db.Model):
    """A guide assigned to a departure."""

    __tablename__ = "departure_guides"
    __table_args__ = (UniqueConstraint("departure_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[GuideRole] = mapped_column(
        Enum(
            GuideRole,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    departure = relationship("Departure")
    user = relationship("User")


class ScheduleGuide(db.Model):
    """A default guide of a weekly schedule: the departures the schedule generates are given
    this guide in this role, where the guide is free (no other departure, no time off)."""

    __tablename__ = "schedule_guides"
    __table_args__ = (UniqueConstraint("schedule_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[GuideRole] = mapped_column(
        Enum(
            GuideRole,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    schedule = relationship("Schedule")
    user = relationship("User")


class GuideTimeOff(db.Model):
    """A period in which a guide cannot be assigned."""

    __tablename__ = "guide_time_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StopVisit(db.Model):
    """A guide's confirmation that a stop was visited on a departure; it is what later credits
    that stop's host family with its share."""

    __tablename__ = "stop_visits"
    __table_args__ = (UniqueConstraint("departure_id", "stop_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfflineAction(db.Model):
    """An action a guide's phone sent from the offline queue (its id, drawn on the phone),
    once it was applied: the same action sent again (a reply lost to bad signal) is
    answered "unchanged" instead of being applied again, even after it was undone."""

    __tablename__ = "offline_actions"
    __table_args__ = (UniqueConstraint("user_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action_id: Mapped[str] = mapped_column(String(64))
    #: What applying it did: ``applied``, ``unchanged`` or ``superseded``.
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthToken(db.Model):
    """A one-time link: password reset or invitation. Only the token's hash is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``reset`` or ``invite``.
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    #: For invitations: where and as what the invitee will belong.
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"))
    role: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Photo(db.Model):
    """An experience photo, resized on upload into several widths of WebP."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: Stored as ``<key>-<width>.webp`` under the uploads folder.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: The widths generated, comma-separated (``320,640,1280``).
    widths: Mapped[str] = mapped_column(String(60))
    width: Mapped[int]
    height: Mapped[int]
    alt_es: Mapped[str] = mapped_column(String(300), default="")
    alt_en: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
