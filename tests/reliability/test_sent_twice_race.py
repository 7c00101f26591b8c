"""One booking form sent several times at the same moment (a visitor clicking "Reserve" again
and again while the site is slow) makes one booking; every sending is answered with a
redirect to it, none with an error. The same holds for a route's form and for a treasurer's
payout table, which records one settlement.

The negative controls send the same form at the same moment without its key: then the
caps (three open bookings per email) are all that stop a booking, and it books more than
once; a payout of part of a balance is paid several times.
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


def _race(app, url: str, form: dict, clients=None) -> list[tuple[int, str]]:
    """``form`` sent to ``url`` by ATTEMPTS clients at once (``clients``, e.g. signed in, or
    new ones)."""
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    clients = list(clients) if clients else [app.test_client() for _ in range(ATTEMPTS)]

    def attempt(client) -> None:
        barrier.wait()
        try:
            response = client.post(url, data=form)
            answer = (response.status_code, response.headers.get("Location", ""))
        except Exception:  # noqa: BLE001 — the testing app lets a failure through: a 500
            answer = (500, "")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
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


def _payout_race(app, with_key: bool) -> tuple[list[tuple[int, str]], list, str]:
    """A treasurer's table paying 5.00 of a family's 25.00, sent ATTEMPTS times at once."""
    from tests.routes.test_manage_access import login, member
    from tests.routes.test_treasury import World
    from tourism.models import Payout, Role

    world = World(Factories(db.session))
    world.earn(world.alvarado, 2_500)
    treasurer = member(world.make, world.kallari, Role.ADMIN)
    db.session.commit()
    clients = [app.test_client() for _ in range(ATTEMPTS)]
    for client in clients:
        login(client, treasurer)
    page = clients[0].get(f"/manage/associations/{world.kallari.id}/treasury").text
    key = re.search(r'name="batch" value="([0-9a-f]{32})"', page)[1]
    a = world.alvarado.id
    form = {"pay": f"f{a}", f"amount-f{a}": "5.00", "method": "cash"}
    if with_key:
        form["batch"] = key
    answers = _race(app, f"/manage/associations/{world.kallari.id}/payouts", form, clients)
    db.session.rollback()
    return answers, db.session.scalars(select(Payout)).all(), key


def test_one_payout_table_sent_at_once_many_times_pays_once(app):
    from tourism.services.ledger import checks

    answers, made, key = _payout_race(app, with_key=True)
    assert [(p.amount_cents, p.batch) for p in made] == [(500, key)], answers
    assert {status for status, _ in answers} == {303}
    assert {location for _, location in answers} == {
        f"/manage/associations/{made[0].association_id}/payouts/{key}/sheet"
    }
    assert checks.check(db.session) == []


def test_control_without_the_key_the_same_payout_race_pays_more_than_once(app):
    _answers, made, _key = _payout_race(app, with_key=False)
    assert len(made) > 1


def test_control_without_the_keys_lock_the_payout_race_pays_more_than_once(app, monkeypatch):
    """The advisory lock on the table's key is what makes the repeats wait for the first
    sending on PostgreSQL (SQLite runs one writer at a time, so there is nothing to remove)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("racing transactions need PostgreSQL (SQLite runs one writer)")
    from tourism.services.treasury import batches

    monkeypatch.setattr(batches, "serialise_form_key", lambda session, key: None)
    _answers, made, _key = _payout_race(app, with_key=True)
    assert len(made) > 1


def _request_race(app, with_key: bool, monkeypatch) -> tuple[list[tuple[int, str]], list]:
    """A group's request form sent ATTEMPTS times at once. The request is one small insert,
    so the sendings would mostly run one after the other by chance: each one that writes
    waits half a second before its commit, as on a slow site."""
    from tests.routes.test_group_requests import form as request_form
    from tourism import faults
    from tourism.models import ExperienceStatus, GroupRequest

    monkeypatch.setenv(faults.ENVIRONMENT_VARIABLE, "group_requests.sent:0.5")

    experience = Factories(db.session).experience(status=ExperienceStatus.PUBLISHED)
    db.session.commit()
    url = f"/experiences/{experience.slug}/group-request"
    form = request_form(email="school-twice@example.org")
    if with_key:
        page = app.test_client().get(url).text
        form["submission"] = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)[1]
    answers = _race(app, url, form)
    db.session.rollback()
    return answers, db.session.scalars(select(GroupRequest)).all()


def test_one_group_request_form_sent_at_once_many_times_asks_once(app, monkeypatch):
    answers, made = _request_race(app, with_key=True, monkeypatch=monkeypatch)
    assert len(made) == 1, answers
    assert {status for status, _ in answers} == {303}
    assert {location for _, location in answers} == {f"/group-requests/{made[0].token}"}


def test_control_without_the_key_the_same_request_race_asks_more_than_once(app, monkeypatch):
    _answers, made = _request_race(app, with_key=False, monkeypatch=monkeypatch)
    assert len(made) > 1


def test_control_without_the_keys_lock_the_request_race_fails_on_the_unique_key(app, monkeypatch):
    """On PostgreSQL the repeats wait for the first sending on the key's advisory lock;
    without it they meet the key's unique index instead (500s), not a second request."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("racing transactions need PostgreSQL (SQLite runs one writer)")
    from tourism.services.groups import requests as group_requests

    monkeypatch.setattr(group_requests, "serialise_form_key", lambda session, key: None)
    answers, made = _request_race(app, with_key=True, monkeypatch=monkeypatch)
    assert len(made) == 1 and 500 in {status for status, _ in answers}, answers
