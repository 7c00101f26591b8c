"""Holding, confirming, cancelling and expiring bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism import database, errors
from tourism.database import utcnow, write_transactions
from tourism.errors import IllegalTransition, InvalidRequest, NotFound, SoldOut
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, DepartureStatus, ExperienceStatus
from tourism.services.booking import availability, bookable
from tourism.services.booking import lifecycle as svc

HOLD = timedelta(minutes=30)
LANGS = ["es", "en"]


@pytest.fixture(autouse=True)
def write_mode():
    """Service calls here run as a writing request would: SQLite's write lock taken up front."""
    with write_transactions():
        yield


def contact(**kw) -> svc.ContactDetails:
    base = dict(
        name="Ana Quispe",
        email="ana@example.org",
        phone="+593 99 123 4567",
        country="ec",
        language="es",
        special_needs="",
    )
    return svc.ContactDetails(**(base | kw))


def request_for(departure, contact_details=None, **qty_by_code) -> svc.HoldRequest:
    ids = {pc.code: pc.id for pc in departure.experience.price_categories}
    quantities = {ids[code]: qty for code, qty in (qty_by_code or {"adult": 1}).items()}
    return svc.HoldRequest(departure.id, quantities, contact_details or contact())


def hold(session, departure, now=None, **qty):
    with write_transactions():
        return svc.hold_seats(session, request_for(departure, **qty), now or utcnow(), HOLD, LANGS)


def test_hold_creates_held_booking_with_prices_frozen(session, make):
    departure = make.departure(capacity=5)
    booking = hold(session, departure, adult=2, child=1)
    assert booking.status == BookingStatus.HELD
    assert booking.total_cents == 2 * 4500 + 2500
    assert booking.participants == 3
    assert booking.hold_expires_at > utcnow()
    assert booking.reference.startswith(departure.experience.association.code + "-")
    assert len(booking.manage_token) >= 40
    assert booking.country == "EC"
    assert availability.seats_left(session, departure, utcnow()) == 2


def test_confirm_then_confirm_again_is_harmless(session, make):
    booking = hold(session, make.departure())
    svc.confirm_booking(session, booking, "on_arrival", utcnow())
    svc.confirm_booking(session, booking, "on_arrival", utcnow())
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.hold_expires_at is None


def test_confirming_an_expired_hold_is_refused(session, make):
    booking = hold(session, make.departure())
    with pytest.raises(svc.HoldExpired):
        svc.confirm_booking(session, booking, "on_arrival", utcnow() + HOLD + timedelta(seconds=1))


def test_sold_out_when_more_tickets_than_seats(session, make):
    departure = make.departure(capacity=3)
    hold(session, departure, adult=2)
    with pytest.raises(SoldOut) as info:
        hold(session, departure, adult=2)
    assert "1" in str(info.value)
    assert session.scalar(select(func.count(Booking.id))) == 1


def test_expired_holds_stop_counting_at_once_before_any_sweep(session, make):
    departure = make.departure(capacity=2)
    earlier = utcnow() - HOLD - timedelta(minutes=1)
    hold(session, departure, now=earlier, adult=2)
    assert availability.seats_left(session, departure, utcnow()) == 2
    hold(session, departure, adult=2)  # succeeds although the old hold was never swept


def test_expire_holds_sweeps_only_stale_holds(session, make):
    departure = make.departure(capacity=10)
    stale = hold(session, departure, now=utcnow() - timedelta(hours=2))
    fresh = hold(session, departure)
    confirmed = make.booking(departure)
    assert svc.expire_holds(session, utcnow()) == 1
    assert stale.status == BookingStatus.EXPIRED
    assert fresh.status == BookingStatus.HELD
    assert confirmed.status == BookingStatus.CONFIRMED
    assert svc.expire_holds(session, utcnow()) == 0


def test_cancel_frees_seats(session, make):
    departure = make.departure(capacity=2)
    booking = hold(session, departure, adult=2)
    svc.confirm_booking(session, booking, "on_arrival", utcnow())
    assert availability.seats_left(session, departure, utcnow()) == 0
    with write_transactions():
        svc.cancel_booking(session, booking, utcnow())
    assert booking.status == BookingStatus.CANCELLED
    assert availability.seats_left(session, departure, utcnow()) == 2


def test_cannot_cancel_twice_or_after_departure(session, make):
    departure = make.departure(starts_in=timedelta(hours=3))
    booking = make.booking(departure)
    with write_transactions():
        with pytest.raises(svc.CannotCancel):
            svc.cancel_booking(session, booking, departure.starts_at + timedelta(minutes=1))
        svc.cancel_booking(session, booking, utcnow())
        with pytest.raises(svc.CannotCancel):
            svc.cancel_booking(session, booking, utcnow())


@pytest.mark.parametrize(
    ("qty", "error"),
    [
        ({"adult": 0}, svc.NoTickets),
        ({"adult": -1}, InvalidRequest),
        ({"adult": 11}, svc.TooManyTickets),
        ({"adult": 6, "child": 5}, svc.TooManyTickets),
    ],
)
def test_bad_ticket_numbers(session, make, qty, error):
    departure = make.departure(capacity=50)
    with pytest.raises(error):
        hold(session, departure, **qty)
    assert session.scalar(select(func.count(Booking.id))) == 0


def test_unknown_price_category_is_refused(session, make):
    departure = make.departure()
    other = make.experience()
    request = svc.HoldRequest(departure.id, {other.price_categories[0].id: 1}, contact())
    with write_transactions(), pytest.raises(InvalidRequest):
        svc.hold_seats(session, request, utcnow(), HOLD, LANGS)


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "not-an-email"},
        {"email": "a@b"},
        {"name": "   "},
        {"name": "x" * 121},
        {"phone": "call me"},
        {"phone": "12"},
        {"country": "Ecuador"},
        {"language": "fr"},
        {"special_needs": "y" * 1001},
    ],
)
def test_bad_contact_details(session, make, changes):
    departure = make.departure()
    with write_transactions(), pytest.raises(InvalidRequest):
        svc.hold_seats(session, request_for(departure, contact(**changes)), utcnow(), HOLD, LANGS)


def test_unknown_or_unpublished_departure_is_not_found(session, make):
    departure = make.departure(experience=make.experience(status=ExperienceStatus.DRAFT))
    with write_transactions():
        with pytest.raises(NotFound):
            svc.hold_seats(
                session, svc.HoldRequest(999_999, {1: 1}, contact()), utcnow(), HOLD, LANGS
            )
        with pytest.raises(NotFound):
            hold(session, departure)


def test_cancelled_or_past_departure_cannot_be_booked(session, make):
    cancelled = make.departure(status=DepartureStatus.CANCELLED)
    soon = make.departure(starts_in=timedelta(minutes=30))
    with pytest.raises(errors.DepartureCancelled):
        hold(session, cancelled)
    with pytest.raises(bookable.BookingClosed):
        hold(session, soon)


def test_illegal_transition_is_named(make):
    booking = make.booking(status=BookingStatus.EXPIRED)
    with pytest.raises(IllegalTransition):
        booking.transition(BookingStatus.CANCELLED)
    booking = make.booking(status=BookingStatus.REFUNDED)
    with pytest.raises(IllegalTransition):
        booking.transition(BookingStatus.CONFIRMED)


def test_lock_really_locks_or_refuses_to_run_unlocked(session, make, app):
    """PostgreSQL: another transaction cannot lock the row while we hold it. SQLite: the
    lock refuses a transaction that does not hold the database write lock."""
    departure = make.departure()
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text
        from sqlalchemy.exc import OperationalError

        availability.lock_departure(session, departure.id)
        with db.engine.connect() as other:
            with pytest.raises(OperationalError, match="could not obtain lock"):
                other.execute(
                    text("SELECT id FROM departures WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": departure.id},
                )
        session.rollback()
        return
    token = database._forced_begin.set("BEGIN")  # a read-only transaction, as in a GET
    try:
        with pytest.raises(RuntimeError):
            availability.lock_departure(session, departure.id)
    finally:
        database._forced_begin.reset(token)
        session.rollback()


def test_find_by_token(session, make):
    booking = make.booking()
    assert svc.find_by_token(session, booking.manage_token) is booking
    for wrong in (
        "",
        "x",
        booking.manage_token[:-1] + ("A" if booking.manage_token[-1] != "A" else "B"),
        "z" * 500,
    ):
        with pytest.raises(NotFound):
            svc.find_by_token(session, wrong)
