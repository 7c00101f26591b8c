"""Guides: who runs which departure and when they cannot.

A person is in one place at a time: overlaps count across all of a guide's departures and
time off, whatever the association. Functions only flush; the caller commits.

What is ahead of a guide (``my_schedule``) and their calendar feed live in ``guide_calendar``;
they are importable from here too."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...errors import DepartureUnavailable, DomainError, InvalidRequest, NotFound
from ...models import (
    Association,
    Departure,
    DepartureGuide,
    DepartureStatus,
    GuideRole,
    GuideTimeOff,
    Membership,
    Role,
    User,
)
from ...timefmt import fmt_datetime
from ..access import tenancy
from ..booking.availability import lock_departure
from ..messages import phone_notices

#: Longer time off is a leave of absence, handled by the association, not this form.
MAX_TIME_OFF = timedelta(days=366)


class GuideConflict(DomainError):
    status_code = 409
    default_message = _l("This guide cannot be assigned to this departure.")


class GuideBusy(GuideConflict):
    default_message = _l(
        "%(name)s already guides another departure at that time (%(start)s to %(end)s)."
    )


class GuideOnTimeOff(GuideConflict):
    default_message = _l("%(name)s has time off from %(start)s to %(end)s.")


class LeadTaken(GuideConflict):
    default_message = _l("This departure already has a lead guide: %(name)s.")


class NotAGuide(InvalidRequest):
    default_message = _l("%(name)s is not a guide of this association.")


class InvalidTimeOff(InvalidRequest):
    default_message = _l("The time off must end after it starts, and last at most a year.")


# Access -----------------------------------------------------------------------------------


def is_manager(user: User, departure: Departure) -> bool:
    return tenancy.has_role(user, tenancy.association_of(departure), tenancy.MANAGERS)


def assignment_of(session: Session, departure: Departure, user: User) -> DepartureGuide | None:
    return session.execute(
        select(DepartureGuide).where(
            DepartureGuide.departure_id == departure.id, DepartureGuide.user_id == user.id
        )
    ).scalar_one_or_none()


def ensure_may_run(session: Session, departure: Departure, user: User) -> None:
    """Only the departure's own guides (still guides of its association) and its
    association's staff may see its manifest or act on it; to anyone else it does not exist."""
    association_id = tenancy.association_of(departure)
    if tenancy.has_role(user, association_id, tenancy.MANAGERS):
        return
    if tenancy.has_role(user, association_id, (Role.GUIDE,)) and assignment_of(
        session, departure, user
    ):
        return
    raise NotFound()


def departure_for(session: Session, departure_id: int, user: User) -> Departure:
    """The departure if ``user`` may run it, else ``NotFound``."""
    departure = tenancy.get_scoped(session, Departure, departure_id, user, tenancy.EVERYONE)
    ensure_may_run(session, departure, user)
    return departure


# Assignments -------------------------------------------------------------------------------


def lock_guide(session: Session, user: User) -> None:
    """Serialise changes to one guide's calendar (SQLite's write lock already does)."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _at(moment: datetime) -> str:
    return fmt_datetime(moment, "short")


def _overlapping_assignments(session: Session, user: User, starts_at, ends_at, exclude=None):
    statement = (
        select(Departure)
        .join(DepartureGuide, DepartureGuide.departure_id == Departure.id)
        .where(
            DepartureGuide.user_id == user.id,
            Departure.status != DepartureStatus.CANCELLED,
            Departure.starts_at < ends_at,
            Departure.ends_at > starts_at,
        )
        .order_by(Departure.starts_at)
    )
    if exclude is not None:
        statement = statement.where(Departure.id != exclude)
    return list(session.execute(statement).scalars())


def _overlapping_time_off(session: Session, user: User, starts_at, ends_at=None):
    statement = select(GuideTimeOff).where(
        GuideTimeOff.user_id == user.id, GuideTimeOff.ends_at > starts_at
    )
    if ends_at is not None:
        statement = statement.where(GuideTimeOff.starts_at < ends_at)
    return list(session.execute(statement.order_by(GuideTimeOff.starts_at)).scalars())


def assign_guide(
    session: Session,
    departure: Departure,
    user: User,
    role: GuideRole | str,
    acting_user: User,
    now: datetime,
) -> DepartureGuide:
    """Assign ``user`` to ``departure`` as lead or assistant (or change their role).

    Refused when the user is not a guide of the departure's association, when it would make
    a second lead, or when it overlaps another of their departures or their time off.
    """
    if not is_manager(acting_user, departure):
        raise NotFound()
    before = assignment_of(session, departure, user)
    assignment = place_guide(session, departure, user, role, now)
    if before is None:
        phone_notices.queue_guide_assignments(session, user, [departure], [], now)
    return assignment


def place_guide(
    session: Session, departure: Departure, user: User, role: GuideRole | str, now: datetime
) -> DepartureGuide:
    """``assign_guide`` without asking who acts: for callers that have checked it already,
    or that act for the association itself (departures generated from a schedule)."""
    association_id = tenancy.association_of(departure)
    try:
        role = GuideRole(role)
    except ValueError as exc:
        raise InvalidRequest() from exc
    departure = lock_departure(session, departure.id)
    lock_guide(session, user)
    if departure.status == DepartureStatus.CANCELLED:
        raise DepartureUnavailable(_l("This departure has been cancelled."))
    if not is_guide_of(user, association_id):
        raise NotAGuide(name=user.name)
    current = session.execute(
        select(DepartureGuide).where(DepartureGuide.departure_id == departure.id)
    ).scalars()
    mine = None
    for assignment in current:
        if assignment.user_id == user.id:
            mine = assignment
        elif role == GuideRole.LEAD and assignment.role == GuideRole.LEAD:
            raise LeadTaken(name=assignment.user.name)
    if mine is not None:
        mine.role = role
        session.flush()
        return mine
    busy = _overlapping_assignments(
        session, user, departure.starts_at, departure.ends_at, exclude=departure.id
    )
    if busy:
        other = busy[0]
        raise GuideBusy(name=user.name, start=_at(other.starts_at), end=_at(other.ends_at))
    away = _overlapping_time_off(session, user, departure.starts_at, departure.ends_at)
    if away:
        off = away[0]
        raise GuideOnTimeOff(name=user.name, start=_at(off.starts_at), end=_at(off.ends_at))
    assignment = DepartureGuide(departure=departure, user=user, role=role, created_at=now)
    session.add(assignment)
    session.flush()
    return assignment


def unassign_guide(
    session: Session, departure: Departure, user: User, acting_user: User, now: datetime
) -> None:
    """Take ``user`` off ``departure``; ``NotFound`` when they were not on it."""
    if not is_manager(acting_user, departure):
        raise NotFound()
    lock_departure(session, departure.id)
    assignment = assignment_of(session, departure, user)
    if assignment is None:
        raise NotFound()
    session.delete(assignment)
    session.flush()
    phone_notices.queue_guide_assignments(session, user, [], [departure], now)


def is_guide_of(user: User, association_id: int) -> bool:
    """Whether ``user`` is an active guide of the association."""
    return user.is_active_account and any(
        m.association_id == association_id and m.role == Role.GUIDE for m in user.memberships
    )


def guide_choices(session: Session, departure: Departure) -> list[User]:
    """The active guides of the departure's association, by name."""
    return guides_of(session, tenancy.association_of(departure))


def guides_of(session: Session, association_id: int) -> list[User]:
    """The active guides of an association, by name."""
    return list(
        session.execute(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.association_id == association_id,
                Membership.role == Role.GUIDE,
                User.is_active_account.is_(True),
            )
            .order_by(User.name)
        ).scalars()
    )


def assigned_guides(
    session: Session, departure: Departure
) -> list[tuple[DepartureGuide, list[GuideTimeOff]]]:
    """The departure's guides, lead first, each with the time off that overlaps it (taken
    after they were assigned), so the staff sees whom to replace."""
    assignments = session.execute(
        select(DepartureGuide)
        .where(DepartureGuide.departure_id == departure.id)
        .options(selectinload(DepartureGuide.user))
        .order_by(DepartureGuide.role != GuideRole.LEAD, DepartureGuide.id)
    ).scalars()
    return [
        (a, _overlapping_time_off(session, a.user, departure.starts_at, departure.ends_at))
        for a in assignments
    ]


# Time off ----------------------------------------------------------------------------------


def add_time_off(
    session: Session,
    user: User,
    association: Association,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    now: datetime | None = None,
) -> tuple[GuideTimeOff, list[Departure]]:
    """Record that ``user`` cannot guide in ``[starts_at, ends_at)``.

    Time off is always accepted, even over departures the guide is already assigned to:
    people fall ill and families have emergencies, and refusing would only hide that. Those
    departures are returned so the guide is told and the staff can reassign them (the
    manifest flags the overlap)."""
    if not is_guide_of(user, association.id):
        raise NotFound()
    note = (note or "").strip()
    if (
        ends_at <= starts_at
        or ends_at - starts_at > MAX_TIME_OFF
        or (now is not None and ends_at <= now)
        or len(note) > 200
    ):
        raise InvalidTimeOff()
    lock_guide(session, user)
    # The same days again (the form sent twice, or forgotten): the period already kept.
    same = session.scalar(
        select(GuideTimeOff).where(
            GuideTimeOff.user_id == user.id,
            GuideTimeOff.association_id == association.id,
            GuideTimeOff.starts_at == starts_at,
            GuideTimeOff.ends_at == ends_at,
        )
    )
    if same is not None:
        return same, _overlapping_assignments(session, user, starts_at, ends_at)
    time_off = GuideTimeOff(
        user_id=user.id,
        association_id=association.id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
    )
    if now is not None:
        time_off.created_at = now
    session.add(time_off)
    session.flush()
    return time_off, _overlapping_assignments(session, user, starts_at, ends_at)


def remove_time_off(session: Session, user: User, time_off_id: int) -> None:
    """Delete one of ``user``'s own periods of time off."""
    time_off = session.get(GuideTimeOff, time_off_id) if isinstance(time_off_id, int) else None
    if time_off is None or time_off.user_id != user.id:
        raise NotFound()
    session.delete(time_off)
    session.flush()


def time_off_of(session: Session, user: User, now: datetime) -> list[GuideTimeOff]:
    """The user's current and future time off, soonest first."""
    return _overlapping_time_off(session, user, now)


def guide_memberships(user: User) -> list[Membership]:
    return sorted(
        (m for m in user.memberships if m.role == Role.GUIDE), key=lambda m: m.association.name
    )
