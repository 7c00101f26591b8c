"""Real gunicorn nodes under load: nobody is oversold, and limits hold across nodes.

A smaller run of ``bench/oversell_battery.py`` (docs/RELIABILITY.md): 200 one-seat bookings
posted at once over 5 departures, each with its own client session and CSRF token, to
gunicorn serving the test database (SQLite, or PostgreSQL when ``TEST_DATABASE_URL`` is set).
The negative control runs the same battery against the app with the departure lock off and
must oversell, or the battery proves nothing. With PostgreSQL and Redis, two nodes share the
battery and the login rate limit.
"""

from __future__ import annotations

import os
import re
import time

import pytest
import requests

from bench.gunicorn_harness import GunicornNode, node_environment
from bench.oversell_battery import create_targets, node_settings, run_battery
from tests.conftest import TEST_DATABASE_URL
from tourism.extensions import db

pytestmark = pytest.mark.slow

ATTEMPTS = 200
CAPACITIES = [1, 2, 3, 4, 5]
WORKERS = 4
CONTROL_ROUNDS = 4
REDIS_URL = os.environ.get("TEST_REDIS_URL")
CSRF_VALUE = re.compile(r"name=\"csrf_token\"[^>]*value=\"([^\"]+)\"")


def _nodes(env, tmp_path, count: int = 1, app: str = "wsgi:app") -> list[GunicornNode]:
    return [
        GunicornNode(env, tmp_path / f"gunicorn-{n}.log", workers=WORKERS, app=app)
        for n in range(count)
    ]


def _battery(app, nodes: list[GunicornNode]):
    targets = create_targets(db.session, CAPACITIES)
    try:
        for node in nodes:
            node.start()
        return run_battery(db.session, [node.base_url for node in nodes], targets, ATTEMPTS)
    finally:
        for node in nodes:
            node.stop()


def test_no_departure_is_oversold_over_http(app, database_url, tmp_path):
    env = node_environment(database_url, tmp_path, settings=node_settings(None))
    result = _battery(app, _nodes(env, tmp_path))
    print("battery:", result.summary())
    assert result.problems() == []
    assert result.statuses[303] == sum(CAPACITIES) and result.statuses[409] == ATTEMPTS - 15


def test_negative_control_without_the_lock_oversells_over_http(app, database_url, tmp_path):
    env = node_environment(database_url, tmp_path, settings=node_settings(None))
    result = None
    for round_number in range(1, CONTROL_ROUNDS + 1):
        result = _battery(app, _nodes(env, tmp_path, app="bench.unlocked_wsgi:app"))
        if result.oversold:
            print(f"negative control, round {round_number}:", result.summary())
            break
    assert result.oversold, "without the lock the battery never oversold: it cannot fail"


two_nodes = pytest.mark.skipif(
    not (TEST_DATABASE_URL and REDIS_URL),
    reason="two nodes need a shared PostgreSQL and Redis: set TEST_DATABASE_URL and "
    "TEST_REDIS_URL (.ci/run sets both)",
)


def _failed_login(get_from: str, post_to: str, email: str) -> int:
    with requests.Session() as client:
        page = client.get(f"{get_from}/login", timeout=30)
        token = CSRF_VALUE.search(page.text).group(1)
        response = client.post(
            f"{post_to}/login",
            data={"csrf_token": token, "email": email, "password": "not the password"},
            allow_redirects=False,
            timeout=60,
        )
        return response.status_code


@two_nodes
def test_two_nodes_sell_each_seat_once_and_share_the_login_limit(app, database_url, tmp_path):
    """One PostgreSQL, one Redis, two nodes: the battery across both (each form fetched from
    one node and posted to the other), then failed sign-ins for one account alternating
    nodes: the 6th overall is refused, by whichever node gets it."""
    settings = node_settings(REDIS_URL) | {
        "LOGIN_RATE_LIMIT_ACCOUNT": "5 per minute",
        "LOGIN_RATE_LIMIT_IP": "100 per minute",
    }
    env = node_environment(database_url, tmp_path, settings=settings)
    nodes = _nodes(env, tmp_path, count=2)
    targets = create_targets(db.session, CAPACITIES)
    email = f"someone-{time.time_ns()}@example.org"
    codes = []
    try:
        for node in nodes:
            node.start()
        a, b = (node.base_url for node in nodes)
        result = run_battery(db.session, [a, b], targets, ATTEMPTS)
        for n in range(8):
            get_from, post_to = (a, b) if n % 2 == 0 else (b, a)
            codes.append((post_to, _failed_login(get_from, post_to, email)))
    finally:
        for node in nodes:
            node.stop()
    print("two nodes:", result.summary())
    assert result.problems() == []
    statuses = [code for _, code in codes]
    assert statuses == [400] * 5 + [429] * 3, codes
    # The refusals come from both nodes: the count is shared, not per node.
    assert {node for node, code in codes if code == 429} == {a, b}
