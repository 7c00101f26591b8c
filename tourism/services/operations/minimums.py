"""Minimum participants: an experience may need N visitors on a departure by a cutoff (hours
before the start); a departure short of it at the cutoff is cancelled through the usual path
(``payments.refunds.cancel_departure``): everyone refunded in full and told in their language,
guides' schedules drop it.

Each departure is decided once. The decision is taken under the departure's lock and written
on the row (``Departure.minimum_checked_at``) in the same transaction, so two runners of
``check_minimums`` at once (two nodes, a retried job) never both decide: the second waits for
the lock, then finds the departure decided and leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidRequest
from ...models import Departure, DepartureStatus, Experience
from ...unit_of_work import release, unit_of_work
from ..access import audit
from ..booking import availability
from ..payments import refunds
from ..payments.stripe_gateway import StripeGateway

MAX_MINIMUM = 500
#: The latest cutoff: two weeks before the start.
MAX_CUTOFF_HOURS = 14 * 24


@dataclass
class MinimumReport:
    #: Departures that reached their minimum and run.
    ran: list[int] = field(default_factory=list)
    #: Departures cancelled for want of visitors.
    cancelled: list[int] = field(default_factory=list)


def set_minimum(experience: Experience, participants, cutoff_hours) -> Experience:
    """Set (or, with 0, remove) the experience's minimum and its cutoff; the caller commits.
    Departures already decided keep their decision."""
    for value in (participants, cutoff_hours):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(_l("Give whole numbers."))
    if not 0 <= participants <= MAX_MINIMUM:
        raise InvalidRequest(
            _l("The minimum must be between %(low)s and %(high)s."), low=0, high=MAX_MINIMUM
        )
    if not 1 <= cutoff_hours <= MAX_CUTOFF_HOURS:
        raise InvalidRequest(
            _l("Give the cutoff in hours before the start, from %(low)s to %(high)s."),
            low=1,
            high=MAX_CUTOFF_HOURS,
        )
    experience.min_participants = participants
    experience.min_cutoff_hours = cutoff_hours
    return experience


def still_needed(experience: Experience, departure: Departure, seats_taken: int) -> int:
    """How many more visitors the departure needs to run (0: none, or already decided)."""
    if (
        experience.min_participants <= 0
        or departure.status != DepartureStatus.SCHEDULED
        or departure.minimum_checked_at is not None
    ):
        return 0
    return max(experience.min_participants - seats_taken, 0)


def due_departures(session: Session, now: datetime) -> list[int]:
    """Departures past their experience's cutoff, not yet started, not yet decided."""
    rows = session.execute(
        select(Departure.id, Departure.starts_at, Experience.min_cutoff_hours)
        .join(Experience, Departure.experience_id == Experience.id)
        .where(
            Experience.min_participants > 0,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.minimum_checked_at.is_(None),
            Departure.starts_at > now,
            # A cheap bound; the exact cutoff per experience is checked below.
            Departure.starts_at <= now + timedelta(hours=MAX_CUTOFF_HOURS),
        )
        .order_by(Departure.starts_at, Departure.id)
    ).all()
    return [
        departure_id
        for departure_id, starts_at, hours in rows
        if starts_at - timedelta(hours=hours) <= now
    ]


def decide_departure(
    session: Session,
    departure_id: int,
    gateway: StripeGateway | None,
    now: datetime,
    reason_locale: str = "es",
) -> bool | None:
    """Decide one departure under its lock: ``True`` it runs, ``False`` it was cancelled,
    ``None`` nothing to decide (decided before, cancelled, started, no minimum, not due)."""
    departure = availability.lock_departure(session, departure_id)
    experience = departure.experience
    minimum = experience.min_participants
    if (
        minimum <= 0
        or departure.status != DepartureStatus.SCHEDULED
        or departure.minimum_checked_at is not None
        or departure.starts_at <= now
        or departure.starts_at - timedelta(hours=experience.min_cutoff_hours) > now
    ):
        return None
    # Live holds count: those visitors are paying right now. A hold that lapses later
    # leaves the departure running short, which the association can still cancel by hand.
    taken = availability.seats_taken_on(session, departure.id, now)
    departure.minimum_checked_at = now
    runs = taken >= minimum
    audit.record(
        session,
        audit.DEPARTURE_MINIMUM_CHECKED,
        actor=audit.SYSTEM,
        target=f"departure:{departure.id}",
        association_id=experience.association_id,
        detail=f"{'met' if runs else 'not met'}: {taken} of {minimum}",
        at=now,
    )
    session.flush()
    if runs:
        return True
    with force_locale(reason_locale):
        reason = str(
            _ln(
                "Minimum of %(num)s visitor not reached",
                "Minimum of %(num)s visitors not reached",
                minimum,
            )
        )
    refunds.cancel_departure(session, departure, reason, gateway, now, minimum=minimum)
    return False


def check_minimums(
    session: Session,
    now: datetime,
    gateway: StripeGateway | None = None,
    reason_locale: str = "es",
) -> MinimumReport:
    """Decide every departure whose minimum's cutoff has come, each in its own unit of work
    (its refunds are paid and its emails sent after its own commit). For commands and jobs,
    never inside a request's transaction. Safe to run at any time, by several runners."""
    report = MinimumReport()
    due = due_departures(session, now)
    release(session)  # each departure's unit of work starts afresh, with the write lock
    for departure_id in due:
        with unit_of_work(session):
            decided = decide_departure(session, departure_id, gateway, now, reason_locale)
        if decided is True:
            report.ran.append(departure_id)
        elif decided is False:
            report.cancelled.append(departure_id)
    return report
