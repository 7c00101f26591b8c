"""Schedules and departures as staff manage them: weekly schedules with a preview of what
they will create, generating departures for a window, editing one departure, cancelling one.

Generation itself is ``schedules.generate_departures``; the preview calls the same
``schedules.occurrences`` on an unsaved schedule, so what is previewed is what is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...database import utcnow
from ...errors import DomainError, InvalidRequest
from ...models import (
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    GuideRole,
    Schedule,
    User,
)
from ...timefmt import display_zone, local_to_utc
from ..booking import availability
from ..payments import refunds
from ..payments.stripe_gateway import StripeGateway
from . import recurrence as schedules
from .assignments import AssignmentResult, set_default_guides

#: The longest window one preview or generation may cover.
MAX_WINDOW_DAYS = 366
MAX_CAPACITY = 500
MAX_DURATION_MINUTES = 14 * 24 * 60


class CapacityBelowSold(DomainError):
    status_code = 409

    def __init__(self, taken: int) -> None:
        super().__init__(
            _ln(
                "%(num)s seat is already booked or being paid for; the capacity cannot be lower.",
                "%(num)s seats are already booked or being paid for; the capacity cannot be lower.",
                taken,
            )
        )


class DepartureLocked(DomainError):
    status_code = 409
    default_message = _l("This departure can no longer be changed.")


class DepartureTimeTaken(DomainError):
    status_code = 409
    default_message = _l("This experience already has a departure at that time.")


class MoveWithBookings(DomainError):
    status_code = 409
    default_message = _l(
        "This departure already has bookings, so its time cannot change. Cancel it (the "
        "tourists are told and refunded) and create another one."
    )


class ExperienceArchived(DomainError):
    status_code = 409
    default_message = _l("This experience is archived; publish it again to schedule it.")


@dataclass(frozen=True)
class ScheduleInput:
    weekdays: tuple[str, ...]
    start_time: time
    duration_minutes: int
    capacity: int
    valid_from: date
    valid_until: date | None = None
    #: Default guides (person, role) that the schedule's departures are given.
    guides: tuple[tuple[User, GuideRole], ...] = ()


@dataclass(frozen=True)
class PreviewItem:
    starts_at: datetime
    #: A departure already exists at that time; generation keeps it and creates nothing.
    exists: bool


def _whole(value, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(message, low=low, high=high)
    return value


def check_window(start: date, end: date) -> None:
    if end < start:
        raise InvalidRequest(_l("The last day must not be before the first day."))
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise InvalidRequest(
            _ln(
                "Choose a window of at most %(num)s day.",
                "Choose a window of at most %(num)s days.",
                MAX_WINDOW_DAYS,
            )
        )


def build_schedule(experience: Experience, data: ScheduleInput) -> Schedule:
    """An unsaved schedule from validated ``data`` (not added to any session)."""
    codes = [code.strip().upper() for code in data.weekdays]
    if not codes or any(code not in schedules.WEEKDAY_CODES for code in codes):
        raise InvalidRequest(_l("Choose at least one weekday."))
    if not isinstance(data.start_time, time):
        raise InvalidRequest(_l("Give a start time."))
    _whole(
        data.duration_minutes,
        15,
        MAX_DURATION_MINUTES,
        _ln(
            "The duration must be between %(low)s and %(num)s minute.",
            "The duration must be between %(low)s and %(num)s minutes.",
            MAX_DURATION_MINUTES,
            low=15,
        ),
    )
    _whole(data.capacity, 1, MAX_CAPACITY, _l("The capacity must be between %(low)s and %(high)s."))
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise InvalidRequest(_l("The schedule must end on or after the day it starts."))
    ordered = [code for code in schedules.WEEKDAY_CODES if code in codes]
    return Schedule(
        experience_id=experience.id,
        weekdays=",".join(ordered),
        start_time=data.start_time.replace(second=0, microsecond=0, tzinfo=None),
        duration_minutes=data.duration_minutes,
        capacity=data.capacity,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )


def preview_schedule(
    session: Session,
    experience: Experience,
    data: ScheduleInput,
    start: date,
    end: date,
    zone: ZoneInfo,
) -> list[PreviewItem]:
    """The departures saving this schedule would create in ``[start, end]``; writes nothing."""
    check_window(start, end)
    schedule = build_schedule(experience, data)
    wanted = schedules.occurrences(schedule, start, end, zone)
    existing = _existing_starts(session, experience.id, wanted)
    return [PreviewItem(starts_at=moment, exists=moment in existing) for moment in wanted]


def _existing_starts(session: Session, experience_id: int, wanted: list[datetime]) -> set:
    if not wanted:
        return set()
    return set(
        session.execute(
            select(Departure.starts_at).where(
                Departure.experience_id == experience_id,
                Departure.starts_at >= wanted[0],
                Departure.starts_at <= wanted[-1],
            )
        ).scalars()
    )


def create_schedule(
    session: Session,
    experience: Experience,
    data: ScheduleInput,
    start: date,
    end: date,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> tuple[Schedule, list[Departure], list[AssignmentResult]]:
    """Save the schedule with its default guides and create its departures in
    ``[start, end]``, each given the default guides where they are free. Returns the
    schedule, the departures made and how each default guide fared on each."""
    if experience.status == ExperienceStatus.ARCHIVED:
        raise ExperienceArchived()
    check_window(start, end)
    now = now or utcnow()
    schedule = build_schedule(experience, data)
    session.add(schedule)
    session.flush()
    set_default_guides(session, schedule, data.guides, now)
    created, results = schedules.generate_with_guides(session, schedule, start, end, zone, now)
    return schedule, created, results


def list_schedules(session: Session, experience: Experience) -> list[Schedule]:
    return list(
        session.execute(
            select(Schedule)
            .where(Schedule.experience_id == experience.id)
            .order_by(Schedule.valid_from, Schedule.id)
        ).scalars()
    )


def generate_for_experience(
    session: Session, experience: Experience, start: date, end: date, zone: ZoneInfo
) -> list[Departure]:
    """Departures from every schedule of ``experience`` in ``[start, end]``; existing kept."""
    if experience.status == ExperienceStatus.ARCHIVED:
        raise ExperienceArchived()
    check_window(start, end)
    created = []
    for schedule in list_schedules(session, experience):
        created += schedules.generate_departures(session, schedule, start, end, zone)
    return created


@dataclass(frozen=True)
class DepartureSeats:
    departure: Departure
    taken: int
    #: Its guides, the lead first.
    guides: tuple[DepartureGuide, ...] = ()

    @property
    def free(self) -> int:
        if self.departure.status != DepartureStatus.SCHEDULED:
            return 0
        return max(self.departure.capacity - self.taken, 0)


def upcoming_departures(
    session: Session, experience: Experience, now: datetime, days: int = 60
) -> list[DepartureSeats]:
    """The experience's departures from now on, through the end of the local day ``days``
    days ahead (the day the bulk-assign form offers as its last), with seats taken."""
    zone = display_zone()
    until = local_to_utc(now.astimezone(zone).date() + timedelta(days=days + 1), time(0), zone)
    departures = list(
        session.execute(
            select(Departure)
            .where(
                Departure.experience_id == experience.id,
                Departure.starts_at >= now,
                Departure.starts_at < until,
            )
            .order_by(Departure.starts_at)
        ).scalars()
    )
    ids = [d.id for d in departures]
    taken = availability.seats_taken(session, ids, now)
    guides: dict[int, list[DepartureGuide]] = {i: [] for i in ids}
    if ids:
        for assignment in session.scalars(
            select(DepartureGuide)
            .where(DepartureGuide.departure_id.in_(ids))
            .options(selectinload(DepartureGuide.user))
            .order_by(DepartureGuide.role != GuideRole.LEAD, DepartureGuide.id)
        ):
            guides[assignment.departure_id].append(assignment)
    return [
        DepartureSeats(departure=d, taken=taken[d.id], guides=tuple(guides[d.id]))
        for d in departures
    ]


def update_departure(
    session: Session, departure: Departure, capacity: int, starts_at: datetime, now: datetime
) -> Departure:
    """Change one departure's capacity or start time.

    The capacity never goes below the seats already taken (confirmed, or held and not yet
    expired), counted under the departure lock so a booking cannot slip in meanwhile. A
    departure with bookings keeps its time: moving it would strand tourists who are not told.
    """
    _whole(capacity, 1, MAX_CAPACITY, _l("The capacity must be between %(low)s and %(high)s."))
    if starts_at.tzinfo is None:
        raise InvalidRequest(_l("Give a start date and time."))
    departure = availability.lock_departure(session, departure.id)
    if departure.status != DepartureStatus.SCHEDULED or departure.starts_at <= now:
        raise DepartureLocked()
    taken = availability.seats_taken(session, [departure.id], now)[departure.id]
    if capacity < taken:
        raise CapacityBelowSold(taken=taken)
    # Forms give minutes; a departure made elsewhere may carry seconds, which is no move.
    if starts_at.replace(second=0, microsecond=0) != departure.starts_at.replace(
        second=0, microsecond=0
    ):
        if taken:
            raise MoveWithBookings()
        if starts_at <= now:
            raise InvalidRequest(_l("The new start must be in the future."))
        clash = session.scalar(
            select(Departure.id).where(
                Departure.experience_id == departure.experience_id,
                Departure.starts_at == starts_at,
                Departure.id != departure.id,
            )
        )
        if clash is not None:
            raise DepartureTimeTaken()
        length = departure.ends_at - departure.starts_at
        departure.starts_at = starts_at
        departure.ends_at = starts_at + length
    departure.capacity = capacity
    session.flush()
    return departure


def cancel_departure(
    session: Session,
    departure: Departure,
    reason: str,
    gateway: StripeGateway | None,
    now: datetime,
) -> list:
    """Cancel a departure that has not started: bookings are refunded in full and told.

    Returns the bookings affected. The caller commits, then sends the queued emails.
    """
    if departure.status == DepartureStatus.CANCELLED:
        raise DepartureLocked(_l("This departure is already cancelled."))
    if departure.starts_at <= now:
        raise DepartureLocked(_l("This departure has already started."))
    return refunds.cancel_departure(session, departure, reason, gateway, now)
