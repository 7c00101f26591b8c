"""Fuzzing the Stripe webhook: signed events with hostile contents, and unsigned noise.

Only Stripe knows the signing secret, but a signed event is still untrusted input: its
fields may be missing, of the wrong type or out of range, and refer to nothing we know. The
answer is 200 (applied or ignored), 400 (refused: nothing written) or 503 (a transient
failure, so Stripe retries) — never an error page or a stack trace.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import ADVERSARIAL, problems
from tests.security.test_tenancy_matrix import _dump
from tests.stripe_emulator import _hmac_header
from tourism.extensions import db

TYPES = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "customer.created",
]
ANSWERS = {200, 400, 503}
#: What an HTTP header can carry (no line breaks).
HEADER_VALUES = ADVERSARIAL.map(lambda value: value.replace("\r", " ").replace("\n", " "))


@pytest.fixture
def app(make_app, stripe_settings):
    app = make_app(**stripe_settings)
    with app.app_context():
        yield app


def _json():
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        ADVERSARIAL,
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


OBJECT_KEYS = [
    "id",
    "object",
    "amount",
    "amount_received",
    "amount_refunded",
    "status",
    "payment_intent",
    "charge",
    "metadata",
    "latest_charge",
    "currency",
    "reason",
]


def events():
    obj = st.dictionaries(st.sampled_from(OBJECT_KEYS), _json(), max_size=8)
    event = st.fixed_dictionaries(
        {
            "id": st.one_of(st.text(max_size=30), _json()),
            "type": st.one_of(st.sampled_from(TYPES), _json()),
            "data": st.one_of(st.fixed_dictionaries({"object": obj}), _json()),
        },
        optional={"created": _json(), "object": st.just("event")},
    )
    return st.one_of(event, _json())


FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _post(client, body: bytes, header: str | None, before):
    headers = {"Stripe-Signature": header} if header is not None else {}
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    found = problems(response)
    if response.status_code not in ANSWERS:
        found.append(f"status {response.status_code}")
    if response.status_code == 400 and _dump() != before:
        found.append("refused, yet the database changed")
    assert not found, f"{body[:300]!r}: {response.status_code}: {', '.join(found)}"
    return response


@FUZZ
@given(event=events())
def test_signed_hostile_events_never_fail(app, stripe_settings, event):
    client = app.test_client()
    body = json.dumps(event, allow_nan=True).encode()
    header = _hmac_header(body, stripe_settings["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    _post(client, body, header, _dump())
    db.session.rollback()


@FUZZ
@given(body=st.binary(max_size=300), header=st.one_of(st.none(), HEADER_VALUES))
def test_unsigned_noise_is_refused(app, body, header):
    before = _dump()
    response = _post(app.test_client(), body, header, before)
    assert response.status_code == 400


def test_a_signed_event_with_a_timestamp_past_any_integer_is_refused(app, stripe_settings):
    """Regression: ``"created": 1e999`` (infinity once parsed) made the event reader raise
    OverflowError, a 500, instead of refusing a malformed event."""
    event = {"id": "evt_inf", "type": "customer.created", "created": 1e999, "data": {"object": {}}}
    body = json.dumps(event).encode()
    header = _hmac_header(body, stripe_settings["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    before = _dump()
    response = app.test_client().post(
        "/webhooks/stripe", data=body, headers={"Stripe-Signature": header}
    )
    assert response.status_code == 400
    assert _dump() == before
