"""The departure as the booking form's POST and the hold read it (``bookable``): one
statement, the prices as they are in the database, and what cannot be booked refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tourism.database import utcnow, write_transactions
from tourism.errors import NotFound
from tourism.models import BookingLine, DepartureStatus, ExperienceStatus, PriceCategory
from tourism.services.booking import bookable
from tourism.services.booking import lifecycle as svc

from .test_hold_rows import counting
from .test_lifecycle import HOLD, LANGS, request_for


@pytest.fixture(autouse=True)
def write_mode():
    """Service calls here run as a writing request would: SQLite's write lock taken up front."""
    with write_transactions():
        yield


def test_one_statement_reads_the_departure_its_experience_and_active_prices(session, make):
    experience = make.experience(
        prices={"adult": 4500, "child": 2500, "resident": 1000},
        payment_options="card,on_arrival",
        deposit_percent=25,
        max_tickets_per_booking=6,
    )
    departure = make.departure(experience, capacity=8)
    resident = next(pc for pc in experience.price_categories if pc.code == "resident")
    resident.is_active = False
    child = next(pc for pc in experience.price_categories if pc.code == "child")
    child.position = -1  # listed first from now on
    session.commit()
    departure_id = departure.id
    with counting() as statements:
        read = bookable.bookable_departure(session, departure_id)
    assert [s for s in statements if not s.startswith("BEGIN")] == statements[-1:]
    assert statements[-1].startswith("SELECT departures.id")
    assert (read.id, read.capacity, read.seats_confirmed) == (departure.id, 8, 0)
    assert (read.status, read.starts_at) == (DepartureStatus.SCHEDULED, departure.starts_at)
    shown = read.experience
    assert (shown.id, shown.association_id) == (experience.id, experience.association_id)
    assert shown.association_code == experience.association.code
    assert (shown.currency, shown.deposit_percent, shown.max_tickets_per_booking) == (
        "USD",
        25,
        6,
    )
    assert shown.payment_option_codes == ("card", "on_arrival")
    assert [(pc.code, pc.price_cents) for pc in shown.price_categories] == [
        ("child", 2500),
        ("adult", 4500),
    ]


def test_the_prices_are_those_in_the_database_when_read(session, make):
    departure = make.departure()
    session.commit()
    before = bookable.bookable_departure(session, departure.id)
    session.execute(
        update(PriceCategory)
        .where(PriceCategory.experience_id == departure.experience_id)
        .values(price_cents=PriceCategory.price_cents + 100)
    )
    session.commit()
    after = bookable.bookable_departure(session, departure.id)
    assert [pc.price_cents + 100 for pc in before.experience.price_categories] == [
        pc.price_cents for pc in after.experience.price_categories
    ]


def test_what_cannot_be_booked_is_not_found(session, make):
    draft = make.departure(experience=make.experience(status=ExperienceStatus.DRAFT))
    session.commit()
    for departure_id in (draft.id, 999_999):
        with pytest.raises(NotFound):
            bookable.bookable_departure(session, departure_id)
        with pytest.raises(NotFound):
            bookable.published_departure(session, departure_id)


def test_an_experience_without_active_prices_sells_no_ticket(session, make):
    departure = make.departure(experience=make.experience(prices={}))
    session.commit()
    read = bookable.bookable_departure(session, departure.id)
    assert read.experience.price_categories == ()
    with pytest.raises(svc.InvalidRequest):
        svc.place_hold(
            session,
            svc.HoldRequest(departure.id, {1: 1}, request_for(make.departure()).contact),
            utcnow(),
            HOLD,
            LANGS,
            departure=read,
        )


def test_the_hold_writes_the_prices_it_was_given_and_checks_them_again(session, make):
    departure = make.departure(capacity=5)
    session.commit()
    read = bookable.bookable_departure(session, departure.id)
    placed = svc.place_hold(
        session,
        request_for(departure, adult=2, child=1),
        utcnow(),
        HOLD,
        LANGS,
        departure=read,
    )
    prices = {pc.id: pc.price_cents for pc in read.experience.price_categories}
    lines = session.scalars(select(BookingLine).where(BookingLine.booking_id == placed.id))
    assert {line.price_category_id: line.unit_price_cents for line in lines} == prices
    # A departure read for another one is a mistake of the caller's, never a booking.
    other = make.departure()
    with pytest.raises(ValueError):
        svc.place_hold(session, request_for(other), utcnow(), HOLD, LANGS, departure=read)


def test_the_departure_read_is_checked_again_for_the_cutoff(session, make):
    departure = make.departure(starts_in=timedelta(hours=3))
    session.commit()
    read = bookable.bookable_departure(session, departure.id)
    with pytest.raises(bookable.BookingClosed):
        svc.place_hold(
            session,
            request_for(departure),
            departure.starts_at - timedelta(minutes=30),
            HOLD,
            LANGS,
            departure=read,
        )
