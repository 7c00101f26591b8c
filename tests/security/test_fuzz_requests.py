"""Fuzzing requests that are not forms: hostile query strings and path arguments on every
GET route, and hostile JSON for the guide's offline sync. Never a 5xx or a stack trace;
refusals carry a message and write nothing (see ``fuzz_walk.check``).
"""

from __future__ import annotations

import json

import pytest
from flask import url_for
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.fuzz_walk import (
    EXAMPLES,
    FUZZ,
    GET_ENDPOINTS,
    LANGUAGES,
    OCTO,
    check,
    client_for,
    signed_in,
)
from tests.fuzzing import ADVERSARIAL
from tests.fuzzing import query_strings as query_string_pairs
from tests.route_walk import placeholder_url, routes
from tests.security.test_tenancy_matrix import _dump, world  # noqa: F401  (world is a fixture)
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, Stop


def test_fuzzed_query_strings_never_fail(world):  # noqa: F811
    app, ids, tokens, _ = world
    clients = signed_in(world)
    with app.test_request_context():
        pages = [
            (client_for(clients, rule.endpoint), placeholder_url(rule, ids, tokens))
            for rule in routes(app, "GET")
            if rule.endpoint in GET_ENDPOINTS
        ]
    assert len(pages) > 30

    state = {"before": _dump()}

    @settings(FUZZ, max_examples=max(EXAMPLES // 2, 2))
    @given(query=query_string_pairs(), language=LANGUAGES)
    def walk(query, language):
        for client, url in pages:
            headers = {"Accept-Language": language}
            response = check(
                client, "GET", url, state["before"], query_string=query, headers=headers
            )
            if response.status_code < 400:
                state["before"] = _dump()  # a GET may write (the card page starts a payment)

    walk()


def _json_values(real: list):
    scalars = st.one_of(
        st.sampled_from(real),
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True),
        ADVERSARIAL,
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )


def _actions(world):  # noqa: F811
    booking = db.session.scalars(select(Booking)).first()
    stop = db.session.scalars(select(Stop)).first()
    real = [
        booking.reference,
        booking.departure_id,
        stop.id,
        "check_in",
        "cash",
        "no_show",
        "stop_visited",
        utcnow().isoformat(),
        "offline-1",
        500,
    ]
    keys = ["type", "id", "at", "departure_id", "stop_id", "booking_reference", "amount_cents"]
    action = st.dictionaries(st.sampled_from(keys), _json_values(real), max_size=7)
    return st.one_of(
        st.fixed_dictionaries({"actions": st.lists(action | _json_values(real), max_size=4)}),
        _json_values(real),
    )


def test_fuzzed_offline_sync_never_fails(world):  # noqa: F811
    app, *_ = world
    client = signed_in(world)["guide"]
    state = {"before": _dump()}

    @FUZZ
    @given(payload=_actions(world), raw=st.booleans(), junk=st.binary(max_size=50))
    def sync(payload, raw, junk):
        body = junk if raw else json.dumps(payload, allow_nan=True)
        response = check(
            client,
            "POST",
            "/guide/sync",
            state["before"],
            data=body,
            content_type="application/json",
        )
        if response.status_code < 400:
            state["before"] = _dump()
        else:
            assert response.get_json()["error"]["message"]

    sync()


@pytest.mark.parametrize("value", ["\x00", "a\x00b"])
def test_nul_bytes_are_refused_in_forms_and_query_strings(client, value):
    response = client.get("/api/v1/experiences", query_string={"province": value})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    response = client.post("/login", data={"email": value, "password": value})
    assert response.status_code == 400


def _url_with_text(rule, ids: dict, text: str) -> str:
    """``rule``'s URL with ``text`` in each free-text argument (call in a request context)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            values[name] = ids.get(name, 1)
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = text
    return url_for(rule.endpoint, **values)


def test_fuzzed_path_arguments_never_fail(world):  # noqa: F811
    """Slugs, tokens, keys and codes in the path: hostile text (quoted as a browser would)
    gets a page or a 404, never an error."""
    app, ids, _tokens, _ = world
    clients = signed_in(world)
    rules = [
        rule
        for rule in routes(app, "GET")
        if rule.endpoint != "static"
        and rule.endpoint not in OCTO
        and any(not isinstance(rule._converters[n], IntegerConverter) for n in rule.arguments)
    ]
    assert {"public.experience", "bookings.manage", "api.booking_status"} <= {
        rule.endpoint for rule in rules
    }
    state = {"before": _dump()}
    texts = st.one_of(ADVERSARIAL, st.text()).filter(lambda t: t.strip() and "/" not in t)

    @settings(FUZZ, max_examples=max(EXAMPLES // 2, 2))
    @given(text=texts)
    def walk(text):
        for rule in rules:
            with app.test_request_context():
                url = _url_with_text(rule, ids, text)
            response = check(client_for(clients, rule.endpoint), "GET", url, state["before"])
            if response.status_code < 400:
                state["before"] = _dump()

    walk()
