"""The confirmed seats kept on the departure row (models/seat_counter.py) and the check
that recounts them (services/booking/seat_check.py, ``flask seat-check``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.sql_log import statements_run
from tourism.database import utcnow, write_transactions
from tourism.errors import SoldOut
from tourism.models import Booking, BookingStatus, Departure
from tourism.services.booking import availability, seat_check
from tourism.services.booking import lifecycle as svc

from .test_lifecycle import HOLD, LANGS, request_for


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


def counter(session, departure) -> int:
    session.expire_all()
    return session.get(Departure, departure.id).seats_confirmed


def test_the_counter_follows_every_move_of_a_booking(session, make):
    departure = make.departure(capacity=10)
    held = svc.hold_seats(session, request_for(departure, adult=2, child=1), utcnow(), HOLD, LANGS)
    session.commit()
    assert counter(session, departure) == 0  # a hold is counted from the bookings
    svc.confirm_booking(session, held, "card", utcnow())
    session.commit()
    assert counter(session, departure) == 3
    svc.cancel_booking(session, held, utcnow())
    session.commit()
    assert counter(session, departure) == 0
    held.transition(BookingStatus.REFUNDED)  # cancelled → refunded takes no seat back
    session.commit()
    assert counter(session, departure) == 0

    on_arrival = svc.hold_seats(
        session,
        request_for(departure, adult=4),
        utcnow(),
        HOLD,
        LANGS,
        accept_unpaid=True,
    )
    session.commit()
    assert on_arrival.status == BookingStatus.CONFIRMED
    assert counter(session, departure) == 4
    assert seat_check.mismatches(session) == []


def test_a_late_payment_after_expiry_counts_and_a_deleted_booking_uncounts(session, make):
    departure = make.departure(capacity=10)
    booking = make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    session.commit()
    booking.transition(BookingStatus.EXPIRED)
    session.commit()
    assert counter(session, departure) == 0
    booking.transition(BookingStatus.CONFIRMED)
    session.commit()
    assert counter(session, departure) == 2
    session.delete(booking)
    session.commit()
    assert counter(session, departure) == 0


def test_bookings_made_with_a_new_departure_in_one_flush_are_counted(session, make):
    departure = make.departure(capacity=10)  # added, not flushed yet by the factory?
    make.booking(departure, quantities={"adult": 3})
    session.commit()
    assert counter(session, departure) == 3
    assert availability.seats_taken(session, [departure.id], utcnow()) == {departure.id: 3}


def test_seats_taken_adds_live_holds_to_the_counter_and_skips_expired_ones(session, make):
    departure = make.departure(capacity=10)
    make.booking(departure, quantities={"adult": 2})
    make.booking(departure, quantities={"adult": 1}, status=BookingStatus.HELD)
    lapsed = make.booking(departure, quantities={"adult": 4}, status=BookingStatus.HELD)
    lapsed.hold_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    now = utcnow()
    assert availability.seats_taken(session, [departure.id], now) == {departure.id: 3}
    assert availability.seats_taken_on(session, departure.id, now) == 3
    assert availability.seats_left(session, departure, now) == 7


def test_confirmed_bookings_written_behind_the_orms_back_are_not_seen(session, make):
    """The negative control: seats are counted from the counter, not the bookings. A
    confirmed booking whose counter update is skipped (here: the counter set back by SQL)
    leaves its seats shown free, a second hold oversells, and seat-check names it."""
    departure = make.departure(capacity=2)
    make.booking(departure, quantities={"adult": 2})
    session.commit()
    with pytest.raises(SoldOut):
        svc.hold_seats(session, request_for(departure, adult=1), utcnow(), HOLD, LANGS)
    session.rollback()

    session.execute(
        text("UPDATE departures SET seats_confirmed = 0 WHERE id = :id"), {"id": departure.id}
    )
    session.commit()
    assert availability.seats_left(session, session.get(Departure, departure.id), utcnow()) == 2
    svc.hold_seats(session, request_for(departure, adult=1), utcnow(), HOLD, LANGS)
    session.commit()  # oversold: 3 seats on a departure of 2
    found = seat_check.mismatches(session)
    assert [(m.departure_id, m.recorded, m.counted) for m in found] == [(departure.id, 0, 2)]
    seat_check.repair(session, found)
    session.commit()
    assert seat_check.mismatches(session) == []
    assert counter(session, departure) == 2


def test_seat_check_command_reports_and_repairs(runner, session, make):
    departure = make.departure(capacity=10)
    make.booking(departure, quantities={"adult": 3})
    session.commit()
    result = runner.invoke(args=["seat-check"])
    assert result.exit_code == 0, result.output
    assert "matches" in result.output

    session.execute(
        text("UPDATE departures SET seats_confirmed = 7 WHERE id = :id"), {"id": departure.id}
    )
    session.commit()
    result = runner.invoke(args=["seat-check"])
    assert result.exit_code == 1
    assert f"departure {departure.id}: the counter says 7" in result.output
    assert "its confirmed bookings have 3" in result.output

    result = runner.invoke(args=["seat-check", "--repair"])
    assert result.exit_code == 0, result.output
    assert "Repaired 1 counter(s)." in result.output
    assert seat_check.mismatches(session) == []


def test_a_hold_reads_the_same_statements_whatever_the_bookings_on_the_departure(
    session, make, app
):
    """Flat cost, functionally: the booking path's seat count is one statement that reads the
    departure row and the live holds only (bench/flat_hold.py times it)."""

    def statements_for_a_hold(departure) -> list[str]:
        with statements_run(session) as seen:
            svc.hold_seats(session, request_for(departure, adult=1), utcnow(), HOLD, LANGS)
            session.commit()
        return [s for s in seen if "sum(booking_lines.quantity)" in s.lower()]

    empty = make.departure(capacity=1000)
    busy = make.departure(capacity=1000)
    for _ in range(40):
        make.booking(busy, quantities={"adult": 2})
    session.commit()
    assert statements_for_a_hold(empty) == statements_for_a_hold(busy)
    counted = statements_for_a_hold(busy)
    assert len(counted) == 1
    assert (
        "'confirmed'" not in counted[0]
        and "confirmed" not in counted[0].split("seats_confirmed")[1]
    )


def test_the_demo_data_starts_with_matching_counters(runner, session):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["generate-departures"]).exit_code == 0
    assert seat_check.mismatches(session) == []
    assert session.query(Booking).filter_by(status=BookingStatus.CONFIRMED).count() > 0
