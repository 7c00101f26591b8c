"""``flask check-minimums`` and ``flask offer-waitlist`` as the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tourism.models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Notification,
    WaitlistEntry,
    WaitlistStatus,
)


def test_check_minimums_cancels_a_short_departure_once(runner, session, make):
    experience = make.experience()
    experience.min_participants, experience.min_cutoff_hours = 4, 48
    departure = make.departure(experience, starts_in=timedelta(hours=24))
    booking = make.booking(departure, quantities={"adult": 1})
    session.commit()
    departure_id, booking_id = departure.id, booking.id
    result = runner.invoke(args=["check-minimums"])
    assert result.exit_code == 0, result.output
    assert "1 cancelled" in result.output
    session.expire_all()
    assert session.get(Departure, departure_id).status == DepartureStatus.CANCELLED
    assert session.get(Booking, booking_id).status == BookingStatus.CANCELLED
    sent = session.scalars(select(Notification).where(Notification.booking_id == booking_id)).one()
    assert sent.kind == "departure_cancelled" and sent.sent_at is not None
    session.rollback()
    again = runner.invoke(args=["check-minimums"])
    assert "0 departure(s) reached their minimum; 0 cancelled" in again.output


def test_offer_waitlist_offers_freed_seats(runner, session, make):
    departure = make.departure(capacity=1, starts_in=timedelta(days=3))
    booking = make.booking(departure, quantities={"adult": 1}, status=BookingStatus.HELD)
    entry = WaitlistEntry(
        departure=departure,
        name="Ana Quispe",
        email="ana@example.org",
        phone="+593 99 123 4567",
        country="EC",
        language="es",
        people=1,
    )
    session.add(entry)
    booking.hold_expires_at = booking.created_at - timedelta(minutes=1)  # the hold lapsed
    session.commit()
    entry_id = entry.id
    result = runner.invoke(args=["offer-waitlist"])
    assert result.exit_code == 0, result.output
    assert "1 offer(s) made" in result.output
    session.expire_all()
    entry = session.get(WaitlistEntry, entry_id)
    assert entry.status == WaitlistStatus.OFFERED
    assert entry.booking.hold_expires_at - entry.offered_at == timedelta(minutes=120)
