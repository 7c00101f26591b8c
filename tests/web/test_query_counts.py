"""No N+1: the number of SQL statements a page runs does not grow with the number of
experiences, departures, bookings or families it shows.

Each page is requested in a small world and in one several times bigger (the response cache
off, so every request really renders); the statement counts must be equal.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.factories import SPLIT_PARTS, Factories
from tests.routes.test_manage_access import login
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Role
from tourism.services.ledger import split_rules


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(
        RESPONSE_CACHE_SECONDS=0,
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    with app.app_context():
        yield app


@contextmanager
def counting():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


class World:
    """An association with ``size`` experiences, each with stops hosted by families, a rule,
    ``size`` departures and ``size`` bookings on the first departure."""

    def __init__(self, size: int) -> None:
        make = Factories(db.session)
        self.association = make.association()
        self.admin = make.user(memberships=[(self.association, Role.ADMIN)])
        self.guide = make.guide(self.association)
        now = utcnow()
        self.experiences, self.departures = [], []
        for n in range(size):
            experience = make.experience(self.association)
            for _ in range(size):
                make.stop(experience, family=make.family(self.association))
            split_rules.approve_rule(db.session, experience, SPLIT_PARTS, self.admin, now, now)
            departures = [
                make.departure(experience, capacity=50, starts_in=timedelta(days=1 + d, hours=n))
                for d in range(size)
            ]
            for departure in departures:
                make.assign(departure, self.guide)
            for _ in range(size):
                make.booking(departures[0], quantities={"adult": 1, "child": 1})
            self.experiences.append(experience)
            self.departures.append(departures[0])
        db.session.commit()


PAGES = {
    "catalog": lambda w: "/",
    "experience": lambda w: f"/experiences/{w.experiences[0].slug}",
    "availability": lambda w: f"/api/v1/experiences/{w.experiences[0].slug}/availability",
    "manifest": lambda w: f"/guide/departures/{w.departures[0].id}",
    "guide schedule": lambda w: "/guide/",
    "management dashboard": lambda w: "/manage/",
    "operations board": lambda w: "/manage/operations",
    "treasury": lambda w: f"/manage/associations/{w.association.id}/treasury",
    "reports": lambda w: f"/manage/associations/{w.association.id}/reports",
}
WHO = {"manifest": "guide", "guide schedule": "guide"}


def statements_for(app, page: str, size: int) -> int:
    world = World(size)
    client = app.test_client()
    if page in WHO or not page.startswith(("catalog", "experience", "availability")):
        login(client, world.guide if WHO.get(page) == "guide" else world.admin)
    url = PAGES[page](world)
    client.get(url)  # warm up: first-use lookups (accounts created on demand, etc.)
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, (page, response.status_code)
    if os.environ.get("SHOW_STATEMENTS"):  # to see which statement repeats
        print(f"--- {page} size {size}")
        for statement in statements:
            print(" ".join(statement.split())[:160])
    return len(statements)


@pytest.mark.parametrize("page", list(PAGES))
def test_statements_do_not_grow_with_the_data(app, page):
    small = statements_for(app, page, 1)
    db.session.remove()
    big = statements_for(app, page, 4)
    assert big == small, f"{page}: {small} statements with 1 of everything, {big} with 4"
