"""Waiting lists: joining a sold-out departure, offering freed seats in order through the
locked hold path, lapsing, accepting, declining; and two runners at once never offering two
freed seats to three people."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import is_postgres
from tourism.database import utcnow, write_transactions
from tourism.errors import DepartureCancelled, InvalidRequest
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureStatus,
    Notification,
    WaitlistEntry,
    WaitlistStatus,
)
from tourism.services.booking import availability, waitlist
from tourism.services.booking import lifecycle as svc

LANGS = ["es", "en"]
OFFER = timedelta(hours=2)


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


def _join(departure, people=1, email="ana@example.org", language="es", now=None):
    request = waitlist.WaitlistRequest(
        departure_id=departure.id,
        contact=svc.ContactDetails(
            name="Ana Quispe",
            email=email,
            phone="+593 99 123 4567",
            country="ec",
            language=language,
        ),
        people=people,
    )
    return waitlist.join_waitlist(db.session, request, now or utcnow(), LANGS)


def _sold_out(make, capacity=4):
    departure = make.departure(capacity=capacity, starts_in=timedelta(days=3))
    make.booking(departure, quantities={"adult": capacity})
    db.session.flush()
    return departure


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def _held_seats(departure_id: int, now) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking)
        .where(
            Booking.departure_id == departure_id,
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at > now,
        )
    )


# Joining ------------------------------------------------------------------------------------


def test_join_a_sold_out_departure(make):
    departure = _sold_out(make)
    entry = _join(departure, people=2)
    assert entry.status == WaitlistStatus.WAITING and entry.people == 2
    second = _join(departure, people=1, email="luis@example.org")
    assert waitlist.places_ahead(db.session, second) == 1


def test_join_refuses_when_the_party_fits(make):
    departure = make.departure(capacity=4)
    make.booking(departure, quantities={"adult": 2})
    with pytest.raises(waitlist.SeatsStillFree) as caught:
        _join(departure, people=2)
    assert caught.value.status_code == 409
    # A party bigger than what is left may wait.
    assert _join(departure, people=3).status == WaitlistStatus.WAITING


def test_join_twice_with_one_email_is_refused(make):
    departure = _sold_out(make)
    _join(departure)
    with pytest.raises(waitlist.AlreadyWaiting):
        _join(departure, email="ANA@example.org")
    assert _count(WaitlistEntry) == 1


@pytest.mark.parametrize("people", [0, -1, 11, "2", True, 2.5])
def test_join_refuses_bad_party_sizes(make, people):
    departure = _sold_out(make)
    with pytest.raises(InvalidRequest):
        _join(departure, people=people)
    assert _count(WaitlistEntry) == 0


def test_join_refuses_bad_contact_and_cancelled_departures(make):
    departure = _sold_out(make)
    with pytest.raises(InvalidRequest):
        _join(departure, email="not-an-email")
    with pytest.raises(InvalidRequest):
        _join(departure, language="xx")
    departure.status = DepartureStatus.CANCELLED
    with pytest.raises(DepartureCancelled):
        _join(departure)
    assert _count(WaitlistEntry) == 0


# Offering -----------------------------------------------------------------------------------


def _line(make, capacity=4, parties=(3, 1, 2)):
    """A sold-out departure (one booking per seat) with parties waiting in this order."""
    departure = make.departure(capacity=capacity, starts_in=timedelta(days=3))
    bookings = [make.booking(departure, quantities={"adult": 1}) for _ in range(capacity)]
    entries = [
        _join(departure, people=people, email=f"p{i}@example.org", language=["es", "en"][i % 2])
        for i, people in enumerate(parties)
    ]
    db.session.commit()
    return departure, bookings, entries


def test_freed_seats_go_to_the_first_party_that_fits(make):
    departure, bookings, (big, small, pair) = _line(make)
    now = utcnow()
    assert waitlist.offer_waitlist(db.session, now, OFFER, LANGS).offered == []
    svc.cancel_booking(db.session, bookings[0], now)
    db.session.commit()

    report = waitlist.offer_waitlist(db.session, now, OFFER, LANGS)
    assert report.offered == [small.id]  # the party of 3 does not fit one seat; 1 does
    small = db.session.get(WaitlistEntry, small.id)
    assert small.status == WaitlistStatus.OFFERED
    assert small.booking.status == BookingStatus.HELD
    assert small.booking.hold_expires_at == now + OFFER
    assert small.booking.language == "en" and small.booking.contact_email == "p1@example.org"
    assert db.session.get(WaitlistEntry, big.id).status == WaitlistStatus.WAITING
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.booking_id == small.booking_id)
    ).all()
    assert kinds == [waitlist.OFFER_EMAIL]
    assert availability.seats_left(db.session, departure, now) == 0
    # Running again changes nothing: the held seats count.
    assert waitlist.offer_waitlist(db.session, now, OFFER, LANGS).offered == []


def test_an_offer_not_taken_lapses_and_the_next_party_gets_the_seats(make):
    departure, bookings, (big, small, pair) = _line(make)
    now = utcnow()
    svc.cancel_booking(db.session, bookings[0], now)
    svc.cancel_booking(db.session, bookings[1], now)
    db.session.commit()
    first = waitlist.offer_waitlist(db.session, now, OFFER, LANGS)
    assert first.offered == [small.id]  # first fitting in order: 1 of 2, then 2 > 1 left
    later = now + OFFER + timedelta(minutes=1)
    second = waitlist.offer_waitlist(db.session, later, OFFER, LANGS)
    assert second.lapsed == [small.id]
    assert second.offered == [pair.id]
    assert db.session.get(WaitlistEntry, small.id).booking.status == BookingStatus.EXPIRED
    assert _held_seats(departure.id, later) == 2


def test_accepting_an_offer_confirms_pay_on_arrival(make):
    departure, bookings, (big, small, pair) = _line(make)
    now = utcnow()
    svc.cancel_booking(db.session, bookings[0], now)
    db.session.commit()
    waitlist.offer_waitlist(db.session, now, OFFER, LANGS)
    entry = db.session.get(WaitlistEntry, small.id)
    with pytest.raises(InvalidRequest):
        waitlist.accept_offer(db.session, entry, "card", ["on_arrival"], now)
    assert entry.booking.status == BookingStatus.HELD
    booking = waitlist.accept_offer(db.session, entry, "on_arrival", ["on_arrival"], now)
    assert booking.status == BookingStatus.CONFIRMED
    assert entry.status == WaitlistStatus.ACCEPTED
    # Taken: declining it, or taking it again, is told apart from an offer that lapsed.
    with pytest.raises(waitlist.OfferTakenAlready):
        waitlist.decline_offer(db.session, entry, now)
    with pytest.raises(waitlist.OfferTakenAlready):
        waitlist.accept_offer(db.session, entry, "on_arrival", ["on_arrival"], now)
    assert booking.status == BookingStatus.CONFIRMED


def test_an_offer_taken_too_late_is_refused_and_nothing_changes(make):
    departure, bookings, (big, small, pair) = _line(make)
    now = utcnow()
    svc.cancel_booking(db.session, bookings[0], now)
    db.session.commit()
    waitlist.offer_waitlist(db.session, now, OFFER, LANGS)
    entry = db.session.get(WaitlistEntry, small.id)
    with pytest.raises(waitlist.OfferGone) as caught:
        waitlist.accept_offer(db.session, entry, "on_arrival", ["on_arrival"], now + OFFER)
    assert caught.value.status_code == 409
    db.session.rollback()
    entry = db.session.get(WaitlistEntry, small.id)
    assert entry.status == WaitlistStatus.OFFERED
    assert entry.booking.status == BookingStatus.HELD


def test_declining_frees_the_seats_for_the_next_in_line(make):
    departure, bookings, (big, small) = _line(make, parties=(1, 1))
    now = utcnow()
    svc.cancel_booking(db.session, bookings[0], now)
    db.session.commit()
    assert waitlist.offer_waitlist(db.session, now, OFFER, LANGS).offered == [big.id]
    waitlist.decline_offer(db.session, db.session.get(WaitlistEntry, big.id), now)
    db.session.commit()
    report = waitlist.offer_waitlist(db.session, now, OFFER, LANGS)
    assert report.offered == [small.id]


def test_a_cancelled_departure_closes_its_list(make):
    departure, bookings, entries = _line(make)
    departure.status = DepartureStatus.CANCELLED
    db.session.commit()
    waitlist.offer_waitlist(db.session, utcnow(), OFFER, LANGS)
    assert {db.session.get(WaitlistEntry, e.id).status for e in entries} == {WaitlistStatus.CLOSED}


# Two runners at once ------------------------------------------------------------------------


def _two_freed_seats_three_waiting(make):
    departure, bookings, entries = _line(make, capacity=4, parties=(1, 1, 1))
    now = utcnow()
    svc.cancel_booking(db.session, bookings[0], now)
    svc.cancel_booking(db.session, bookings[1], now)
    db.session.commit()
    return departure.id, [e.id for e in entries]


def _race(app, now, barrier=None):
    results, errors = [], []
    db.session.rollback()  # the test's own transaction (a write lock on SQLite) ends here

    def run():
        with app.app_context():
            try:
                if barrier is not None:
                    barrier.wait(timeout=30)
                results.append(waitlist.offer_waitlist(db.session, now, OFFER, LANGS))
            except Exception as error:  # noqa: BLE001 — reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    db.session.rollback()
    return results, errors


@pytest.mark.parametrize("round_number", range(3))
def test_two_runners_never_give_two_seats_to_three_people(app, make, round_number):
    departure_id, entry_ids = _two_freed_seats_three_waiting(make)
    now = utcnow()
    results, errors = _race(app, now, threading.Barrier(2))
    assert errors == []
    offered = sorted(i for r in results for i in r.offered)
    assert offered == entry_ids[:2]  # the first two in line, each once
    assert _held_seats(departure_id, now) == 2
    statuses = [db.session.get(WaitlistEntry, i).status for i in entry_ids]
    assert statuses == [WaitlistStatus.OFFERED, WaitlistStatus.OFFERED, WaitlistStatus.WAITING]


def test_negative_control_without_the_lock_three_people_get_two_seats(app, make, monkeypatch):
    """The same race with the departure lock taken away must give the seats away twice, or
    the test above proves nothing. PostgreSQL: both runners count the two free seats before
    either holds any (a barrier after the first count), and both hold. SQLite lets one
    writer at a time, so its runners cannot overlap; there the control has each runner count
    the seats as they were before the race, which is what a missing lock amounts to."""
    departure_id, entry_ids = _two_freed_seats_three_waiting(make)
    now = utcnow()
    real_count = availability.seats_taken_on

    def plain_read(session, wanted):
        return session.execute(select(Departure).where(Departure.id == wanted)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", plain_read)
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    if is_postgres():
        # Both runners count the free seats, then both insert their first hold before either
        # counts again (the hold's own check): without the lock, neither sees the other's.
        # A single barrier left the second count to timing, and a fast hold could commit
        # before the other runner's check, so the control did not always oversell.
        barriers = [threading.Barrier(2), threading.Barrier(2)]
        seen = threading.local()

        def count(session, wanted, at):
            calls = getattr(seen, "calls", 0)
            seen.calls = calls + 1
            if calls == 1:
                barriers[1].wait(timeout=30)  # both inserted, neither committed
            seats = real_count(session, wanted, at)
            if calls == 0:
                barriers[0].wait(timeout=30)  # both counted
            return seats

        monkeypatch.setattr(availability, "seats_taken_on", count)
    else:
        before = real_count(db.session, departure_id, now)
        db.session.rollback()
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: before)
    results, errors = _race(app, now)
    assert errors == []
    assert _held_seats(departure_id, now) > 2, "without the lock the seats never went twice"
