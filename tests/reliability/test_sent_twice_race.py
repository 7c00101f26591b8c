"""One booking form sent several times at the same moment (a visitor clicking "Reserve" again
and again while the site is slow) makes one booking; every sending is answered with a
redirect to it, none with an error.

The negative control sends the same form at the same moment without its key: then the
caps (three open bookings per email) are all that stop it, and it books more than once.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.routes.test_bookings import form_for
from tourism.extensions import db
from tourism.models import Booking

ATTEMPTS = 8

pytestmark = pytest.mark.slow


@pytest.fixture
def app(make_app):
    app = make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20, "pool_timeout": 60}
    )
    with app.app_context():
        yield app


def _race(app, url: str, form: dict) -> list[tuple[int, str]]:
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        try:
            response = client.post(url, data=form)
            answer = (response.status_code, response.headers.get("Location", ""))
        except Exception:  # noqa: BLE001 — the testing app lets a failure through: a 500
            answer = (500, "")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == ATTEMPTS, "some sendings never finished"
    return answers


def _form(app, email: str, with_key: bool) -> tuple[str, dict]:
    departure = Factories(db.session).departure(capacity=40, starts_in=timedelta(days=4))
    db.session.commit()
    url = f"/departures/{departure.id}/book"
    form = form_for(departure, email=email)
    if with_key:
        page = app.test_client().get(url).text
        form["submission"] = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)[1]
    return url, form


def _stored(email: str) -> list[Booking]:
    db.session.rollback()
    return db.session.scalars(
        select(Booking).where(func.lower(Booking.contact_email) == email)
    ).all()


def test_one_form_sent_at_once_many_times_books_once(app):
    url, form = _form(app, "twice@example.org", with_key=True)
    answers = _race(app, url, form)
    stored = _stored("twice@example.org")
    assert len(stored) == 1
    (booking,) = stored
    assert {status for status, _ in answers} == {303}
    assert {location.split("?")[0] for _, location in answers} == {
        f"/bookings/{booking.manage_token}"
    }
    assert sum("again=1" in location for _, location in answers) == ATTEMPTS - 1
    assert booking.departure.seats_confirmed == booking.participants


def test_control_without_the_key_the_same_race_books_more_than_once(app):
    url, form = _form(app, "control@example.org", with_key=False)
    _race(app, url, form)
    assert len(_stored("control@example.org")) > 1


def test_one_route_form_sent_at_once_many_times_books_once(app):
    from tests.routes.test_itineraries import form_for as route_form
    from tourism.models import RouteBooking

    make = Factories(db.session)
    route = make.route()
    route.extras.append(make.route_extra(price=900, stock=5))  # the test form asks for one
    db.session.commit()
    url = f"/routes/{route.slug}/book"
    page = app.test_client().get(url).text
    form = route_form(route, email="route-twice@example.org")
    form["submission"] = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)[1]
    answers = _race(app, url, form)
    db.session.rollback()
    stored = db.session.scalars(select(RouteBooking)).all()
    assert len(stored) == 1, answers
    assert {status for status, _ in answers} == {303}
    assert {location for _, location in answers} == {f"/route-bookings/{stored[0].manage_token}"}
