"""Recurring schedules and the dated departures they generate."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Date, Enum, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class DepartureStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Schedule(db.Model):
    """Weekly recurrence: these weekdays, at this local start time, between these dates."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: iCalendar weekday codes, comma-separated: ``MO,WE,SA``.
    weekdays: Mapped[str] = mapped_column(String(30))
    #: Local start time in the association's time zone (America/Guayaquil).
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int]
    capacity: Mapped[int]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    experience = relationship("Experience")


class Departure(db.Model):
    """One dated time slot of an experience, with its own capacity."""

    __tablename__ = "departures"
    __table_args__ = (UniqueConstraint("experience_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    #: Tickets of the confirmed bookings, kept by ``models/seat_counter.py`` (live holds are
    #: counted from the bookings); ``flask seat-check`` recounts it.
    seats_confirmed: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[DepartureStatus] = mapped_column(
        Enum(
            DepartureStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=DepartureStatus.SCHEDULED,
    )
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When ``check_minimums`` decided whether the departure runs (once, under its lock).
    minimum_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set on a private departure made for a group's quote: it is sold only through the
    #: quote, never shown in the catalog, its availability, the API or to resellers.
    group_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_requests.id"), index=True
    )

    @property
    def is_private(self) -> bool:
        return self.group_request_id is not None

    experience = relationship("Experience")
    schedule: Mapped[Schedule | None] = relationship()
