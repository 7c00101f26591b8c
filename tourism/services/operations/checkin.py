"""Running a departure on the day: check-in, no-shows, cash collected, stops visited, and
replaying what a guide did while the forest had no signal. The manifest (who is coming, what
they owe) is built by ``manifest`` and importable from here too.

Each change re-reads its booking after ``lock_departure``, so it is one serialised unit with
anything else that touches the departure's bookings or money. Functions only flush.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ...errors import DepartureCancelled, DomainError, InvalidRequest, NotFound
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    OfflineAction,
    Payment,
    PaymentStatus,
    Stop,
    StopVisit,
    User,
)
from ...money import format_money
from ...text_input import is_clean_line
from ..booking.availability import lock_departure
from ..booking.references import normalize_reference
from ..ledger import postings, releases
from .guide_calendar import cash_outstanding_cents
from .guides import ensure_may_run

#: Check-in and stop confirmations open this long before the departure starts.
CHECK_IN_OPENS = timedelta(hours=2)
#: A phone's clock may run a little fast; times from the future beyond this are refused.
CLOCK_SKEW = timedelta(minutes=10)
MAX_BATCH = 200
ACTION_TYPES = ("check_in", "no_show", "cash", "stop_visited")


class CheckInRefused(DomainError):
    status_code = 409
    default_message = _l("This cannot be recorded for this booking.")


class NotConfirmed(CheckInRefused):
    default_message = _l(
        "Booking %(reference)s is not confirmed, so it is not valid for the visit."
    )


class TooEarly(CheckInRefused):
    default_message = _l("Check-in opens two hours before the departure.")


class AlreadyCheckedIn(CheckInRefused):
    default_message = _l("%(reference)s is checked in. Undo the check-in first.")


class MarkedNoShow(CheckInRefused):
    default_message = _l("%(reference)s is marked as not come. Check the party in first.")


class CashAboveDue(CheckInRefused):
    default_message = _l("Only %(amount)s is still due for booking %(reference)s.")


class InvalidCash(InvalidRequest):
    default_message = _l("Enter an amount of cash greater than zero.")


class UnknownReference(NotFound):
    default_message = _l("There is no booking %(reference)s on this departure.")


class StopNotOnRoute(NotFound):
    default_message = _l("That stop is not on this departure's route.")


class InvalidAction(InvalidRequest):
    default_message = _l("This action could not be read.")


# One booking ------------------------------------------------------------------------------


def _locked(session: Session, booking: Booking, guide: User) -> Booking:
    """Check the guide may act, lock the departure, re-read the booking, check the basics."""
    ensure_may_run(session, booking.departure, guide)
    departure = lock_departure(session, booking.departure_id)
    session.expire(booking)
    if departure.status == DepartureStatus.CANCELLED:
        raise DepartureCancelled()
    if booking.status != BookingStatus.CONFIRMED:
        raise NotConfirmed(reference=booking.reference)
    return booking


def _ensure_open(departure: Departure, now: datetime) -> None:
    if now < departure.starts_at - CHECK_IN_OPENS:
        raise TooEarly()


def check_in(session: Session, booking: Booking, guide: User, now: datetime) -> bool:
    """Record that the party arrived (clearing a no-show); True if anything changed."""
    booking = _locked(session, booking, guide)
    _ensure_open(booking.departure, now)
    if booking.checked_in_at is not None:
        return False
    booking.checked_in_at = now
    booking.no_show_at = None
    session.flush()
    return True


def undo_check_in(session: Session, booking: Booking, guide: User, now: datetime) -> bool:
    """Take back a check-in made by mistake; True if anything changed."""
    return _clear(session, booking, guide, "checked_in_at")


def undo_no_show(session: Session, booking: Booking, guide: User, now: datetime) -> bool:
    """Take back a "did not come" made by mistake; True if anything changed."""
    return _clear(session, booking, guide, "no_show_at")


def _clear(session: Session, booking: Booking, guide: User, field: str) -> bool:
    booking = _locked(session, booking, guide)
    if getattr(booking, field) is None:
        return False
    setattr(booking, field, None)
    session.flush()
    return True


def mark_no_show(session: Session, booking: Booking, guide: User, now: datetime) -> bool:
    """Record that the party did not come; refused for a party already checked in."""
    booking = _locked(session, booking, guide)
    _ensure_open(booking.departure, now)
    if booking.checked_in_at is not None:
        raise AlreadyCheckedIn(reference=booking.reference)
    if booking.no_show_at is not None:
        return False
    booking.no_show_at = now
    session.flush()
    return True


def record_cash(
    session: Session,
    booking: Booking,
    amount_cents: int,
    guide: User,
    now: datetime,
    client_ref: str | None = None,
) -> tuple[Payment, bool]:
    """Record cash the guide collected, as a succeeded ``cash`` payment; returns it and
    whether it is new. The same ``client_ref`` (the phone's id for the action) records once.
    """
    if client_ref is not None and (
        not isinstance(client_ref, str) or not 0 < len(client_ref) <= 64
    ):
        raise InvalidAction()
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidCash()
    booking = _locked(session, booking, guide)
    if client_ref is not None:
        seen = session.execute(
            select(Payment).where(Payment.client_ref == client_ref)
        ).scalar_one_or_none()
        if seen is not None:
            if seen.booking_id != booking.id or seen.provider != "cash":
                raise InvalidAction()
            return seen, False
    if booking.no_show_at is not None:
        raise MarkedNoShow(reference=booking.reference)
    # What is owed sums every payment less its refunds: read them in one go, not one
    # query of refunds per payment the booking already has.
    session.execute(
        select(Booking)
        .where(Booking.id == booking.id)
        .options(selectinload(Booking.payments).selectinload(Payment.refunds))
    ).scalar_one()
    outstanding = cash_outstanding_cents(booking)
    if amount_cents > outstanding:
        raise CashAboveDue(
            amount=format_money(outstanding, booking.currency), reference=booking.reference
        )
    payment = Payment(
        booking=booking,
        provider="cash",
        amount_cents=amount_cents,
        currency=booking.currency,
        status=PaymentStatus.SUCCEEDED,
        collected_by_id=guide.id,
        client_ref=client_ref,
        created_at=now,
        succeeded_at=now,
    )
    session.add(payment)
    session.flush()
    postings.post_payment(session, payment)
    # Cash is collected on the day: the shares of stops already confirmed are released now.
    releases.release_departure(session, booking.departure, now, only=payment)
    return payment, True


def booking_on(session: Session, departure: Departure, reference: str) -> Booking:
    """The booking with this reference (as typed or scanned) on this departure."""
    code = departure.experience.association.code
    cleaned = normalize_reference((reference or "")[:40], code)[:16]
    booking = session.execute(
        select(Booking).where(Booking.reference == cleaned, Booking.departure_id == departure.id)
    ).scalar_one_or_none()
    if booking is None:
        # Say it back as it was typed: the normalised form may look like nothing they wrote.
        raise UnknownReference(reference=" ".join((reference or "").split())[:30] or "—")
    return booking


# Stops -------------------------------------------------------------------------------------


def confirm_stop_visited(
    session: Session, departure: Departure, stop: Stop, guide: User, now: datetime
) -> tuple[StopVisit, bool]:
    """Confirm the group visited ``stop``; this is what later credits its host family.
    Returns the visit and whether it is new; confirming again changes nothing."""
    ensure_may_run(session, departure, guide)
    departure = lock_departure(session, departure.id)
    if departure.status == DepartureStatus.CANCELLED:
        raise DepartureCancelled()
    if stop.experience_id != departure.experience_id:
        raise StopNotOnRoute()
    _ensure_open(departure, now)
    existing = _visit(session, departure, stop)
    if existing is not None:
        return existing, False
    visit = StopVisit(
        departure_id=departure.id, stop_id=stop.id, confirmed_by_id=guide.id, confirmed_at=now
    )
    try:
        # The unique (departure, stop) constraint is the final word if two guides race.
        with session.begin_nested():
            session.add(visit)
    except IntegrityError:
        return _visit(session, departure, stop), False
    releases.release_departure(session, departure, now)
    return visit, True


def _visit(session: Session, departure: Departure, stop: Stop) -> StopVisit | None:
    return session.execute(
        select(StopVisit).where(
            StopVisit.departure_id == departure.id, StopVisit.stop_id == stop.id
        )
    ).scalar_one_or_none()


# Offline sync ------------------------------------------------------------------------------


#: Longer than any reference we make (``KAL-7F3K9Q``): anything longer is not one.
MAX_REFERENCE_LENGTH = 40


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InvalidAction()
    return value


def _when(value, now: datetime) -> datetime:
    """When the action happened on the phone: an ISO time, never later than now."""
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidAction()
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise InvalidAction()
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # the year 1 or 9999 moved to UTC
        raise InvalidAction() from exc
    if moment > now + CLOCK_SKEW:
        raise InvalidAction()
    return min(moment, now)


def _apply(session: Session, guide: User, action: dict, now: datetime) -> str:
    kind = action.get("type")
    action_id = action.get("id")
    if kind not in ACTION_TYPES or not is_clean_line(action_id, 64):
        raise InvalidAction()
    at = _when(action.get("at"), now)
    departure = session.get(Departure, _int(action.get("departure_id")))
    if departure is None:
        raise NotFound()
    ensure_may_run(session, departure, guide)
    if kind == "stop_visited":
        stop = session.get(Stop, _int(action.get("stop_id")))
        if stop is None:
            raise StopNotOnRoute()
        return _status(confirm_stop_visited(session, departure, stop, guide, at)[1])
    reference = action.get("booking_reference")
    if not is_clean_line(reference, MAX_REFERENCE_LENGTH):
        raise InvalidAction()
    booking = booking_on(session, departure, reference)
    if kind == "check_in":
        return _status(check_in(session, booking, guide, at))
    if kind == "cash":
        amount = action.get("amount_cents")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidCash()
        return _status(record_cash(session, booking, amount, guide, at, client_ref=action_id)[1])
    try:
        return _status(mark_no_show(session, booking, guide, at))
    except AlreadyCheckedIn:
        # Marked absent, then they arrived and were checked in: the later fact wins.
        if booking.checked_in_at is not None and booking.checked_in_at >= at:
            return "superseded"
        raise


def _status(changed: bool) -> str:
    return "applied" if changed else "unchanged"


def apply_offline_actions(
    session: Session, guide: User, actions: list[dict], now: datetime
) -> list[dict]:
    """Apply actions a guide's phone recorded offline, in order, each on its own savepoint.

    Returns one result per action: ``{"id", "ok", "status", "message"?}`` with status
    ``applied``, ``unchanged`` (already recorded: replaying a batch changes nothing),
    ``superseded`` or ``error``. A bad action is reported; it does not stop the others.
    """
    if not isinstance(actions, list) or len(actions) > MAX_BATCH:
        raise InvalidAction()
    results = []
    for action in actions:
        action_id = action.get("id") if isinstance(action, dict) else None
        result: dict = {"id": action_id if isinstance(action_id, str) else None}
        try:
            if not isinstance(action, dict):
                raise InvalidAction()
            status = _applied_before(session, guide, action_id)
            if status is None:
                with session.begin_nested():
                    status = _apply(session, guide, action, now)
                    # Kept with what it did, in the same savepoint: sent again, the action
                    # is found here and not applied a second time (even once undone).
                    session.add(
                        OfflineAction(
                            user_id=guide.id, action_id=action_id, status=status, created_at=now
                        )
                    )
                    session.flush()
            else:
                status = "unchanged"
        except IntegrityError:  # the same action applied meanwhile by another sending
            result.update(ok=True, status="unchanged")
        except DomainError as error:
            result.update(ok=False, status="error", message=str(error))
        else:
            result.update(ok=True, status=status)
        results.append(result)
    session.flush()
    return results


def _applied_before(session: Session, guide: User, action_id) -> str | None:
    if not is_clean_line(action_id, 64):  # refused by ``_apply`` (and no NUL reaches SQL)
        return None
    return session.scalar(
        select(OfflineAction.status).where(
            OfflineAction.user_id == guide.id, OfflineAction.action_id == action_id
        )
    )
