"""Twenty clicks on "Accept and pay" for the same quote at the same moment: the group's seats
are held once. The private departure's capacity is the group, and the hold claims it under
the departure lock like any booking, so every other click gets a clear 409, none a 500, and
one booking exists."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Role
from tourism.services.groups import quotes
from tourism.services.groups import requests as group_requests
from tourism.timefmt import local_today

ATTEMPTS = 20

pytestmark = pytest.mark.slow


def _quoted_request(make):
    experience = make.experience()
    admin = make.user(password="", memberships=[(experience.association, Role.ADMIN)])
    today = local_today()
    with write_transactions():
        request = group_requests.submit_request(
            db.session,
            experience,
            group_requests.GroupRequestInput(
                "school", "Escuela", "escuela@example.org", "", "es", 9, today, None
            ),
            today,
            ["es", "en"],
            utcnow(),
        )
        quotes.make_quote(
            db.session,
            request,
            quotes.QuoteInput("total", 90_000, today + timedelta(days=9), time(9), today),
            admin,
            utcnow(),
            ZoneInfo("America/Guayaquil"),
            "https://example.org/x",
        )
        db.session.commit()
    return request.token


def _race(app, token) -> Counter:
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/group-requests/{token}/accept", data={"payment_method": "bank_transfer"}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.rollback()  # read after the race, not from a snapshot taken before it
    assert len(statuses) == ATTEMPTS, "some attempts never finished"
    return Counter(statuses)


def _held() -> int:
    return db.session.scalar(
        select(func.count(Booking.id)).where(Booking.status == BookingStatus.HELD)
    )


def test_a_quote_is_accepted_once_whatever_the_clicks(app, make):
    counted = _race(app, _quoted_request(make))
    assert counted[303] == 1 and counted[409] == ATTEMPTS - 1, counted
    assert _held() == 1


def test_negative_control_without_the_seat_claim_accepts_twice(app, make, monkeypatch):
    """Without the locked seat claim, the race above holds the group more than once on
    PostgreSQL (each click reads the quote as still offered). SQLite runs one writer at a
    time from its first statement, so the race cannot happen there at all."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises whole write transactions")
    from tourism.services.booking import lifecycle

    monkeypatch.setattr(lifecycle, "claim_seats", lambda *args: None)
    doubled = 0
    for _ in range(5):
        _race(app, _quoted_request(make))
        doubled += _held() > 1
        db.session.execute(Booking.__table__.update().values(status="expired"))
        db.session.commit()
    assert doubled > 0
