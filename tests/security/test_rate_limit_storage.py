"""Rate limits on the storage production uses: Redis, shared by every app node.

Runs when ``TEST_REDIS_URL`` is set (``.ci/run`` sets it); two separate app instances — two
"nodes" — must count the same visitor's attempts together.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.factories import Factories
from tourism.extensions import db

REDIS_URL = os.environ.get("TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run"
)


def test_two_nodes_share_one_limit_in_redis(make_app):
    import redis

    # A fresh key prefix per run, so an earlier run's counters never leak into this one.
    prefix = f"chakra-test-{uuid.uuid4().hex}"
    settings = dict(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        BOOKING_RATE_LIMIT="3 per minute",
    )
    node_a = make_app(**settings)
    node_b = make_app(**settings)
    with node_a.app_context():
        departure = Factories(db.session).departure(capacity=50)
        db.session.commit()
        url = f"/departures/{departure.id}/book"
    data = {"name": "x", "email": "bad"}
    codes = []
    for node in (node_a, node_b, node_a, node_b):
        with node.app_context():
            codes.append(node.test_client().post(url, data=data).status_code)
    assert codes == [400, 400, 400, 429]
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    assert keys, "the limiter did not store its counters in Redis"
