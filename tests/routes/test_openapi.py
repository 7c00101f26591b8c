"""The JSON API's OpenAPI description: served, true to what the API answers, and fuzzed.

Real answers (lists, availability with full and cancelled departures, held and confirmed
bookings, every kind of refusal) are checked against the description's response schemas.
Then Schemathesis generates requests from the description and runs them against the app
in-process: no answer may be a server error or stray from the described schemas.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import JsonSchemaError

import tourism
from tests.factories import Factories
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import BookingStatus, DepartureStatus, PaymentMethod
from tourism.timefmt import local

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


def _world(make: Factories) -> dict:
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    make.stop(experience, family=make.family(experience.association))
    full = make.departure(experience, capacity=2, starts_in=timedelta(days=2))
    make.booking(full, quantities={"adult": 2})
    open_ = make.departure(experience, capacity=8, starts_in=timedelta(days=3))
    make.departure(
        experience, capacity=8, starts_in=timedelta(days=4), status=DepartureStatus.CANCELLED
    )
    held = make.booking(
        open_,
        quantities={"adult": 1, "child": 2},
        status=BookingStatus.HELD,
        payment_method=PaymentMethod.CARD.value,
        online_due_cents=9500,
    )
    confirmed = make.booking(
        open_, payment_method=PaymentMethod.ON_ARRIVAL.value, confirmed_at=utcnow()
    )
    route = make.route()
    return {
        "slug": experience.slug,
        "route": route.slug,
        "held": held.manage_token,
        "confirmed": confirmed.manage_token,
    }


@pytest.fixture
def world(app, make):
    values = _world(make)
    db.session.commit()
    return values


def _schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    schema = schemathesis.openapi.from_dict(response.get_json())
    schema.app = client.application
    return schema


def _operation(schema, method: str, path: str):
    return schema.find_operation_by_path(method, path)


def test_the_description_is_served_and_lists_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/experiences",
        "/experiences/{slug}/availability",
        "/bookings/{token}",
        "/routes",
        "/routes/{slug}",
        "/routes/{slug}/availability",
        "/openapi.json",
    }
    api_rules = {
        rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for rule in client.application.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert api_rules == set(spec["paths"]), "describe every API route"


def test_real_answers_match_the_described_schemas(client, world):
    schema = _schema(client)
    slug, today = world["slug"], local(utcnow()).date()
    answers = [
        ("/experiences", "/api/v1/experiences", 200),
        ("/experiences", "/api/v1/experiences?province=napo&sort=price_asc", 200),
        ("/experiences", "/api/v1/experiences?province=pastaza", 200),
        ("/experiences", "/api/v1/experiences?max_price=cheap&date=2020-01-01", 400),
        ("/experiences/{slug}/availability", f"/api/v1/experiences/{slug}/availability", 200),
        (
            "/experiences/{slug}/availability",
            f"/api/v1/experiences/{slug}/availability?from={today}&to={today + timedelta(9)}",
            200,
        ),
        ("/experiences/{slug}/availability", f"/api/v1/experiences/{slug}/availability?to=x", 400),
        ("/experiences/{slug}/availability", "/api/v1/experiences/nowhere/availability", 404),
        ("/bookings/{token}", f"/api/v1/bookings/{world['held']}", 200),
        ("/bookings/{token}", f"/api/v1/bookings/{world['confirmed']}", 200),
        ("/bookings/{token}", "/api/v1/bookings/" + "x" * 43, 404),
        ("/bookings/{token}", "/api/v1/bookings/short", 404),
        ("/routes", "/api/v1/routes", 200),
        ("/routes", "/api/v1/routes?days=3&max_price=500", 200),
        ("/routes", "/api/v1/routes?days=0&max_price=cheap&community=nowhere", 400),
        ("/routes/{slug}", f"/api/v1/routes/{world['route']}", 200),
        ("/routes/{slug}", "/api/v1/routes/nowhere", 404),
        ("/routes/{slug}/availability", f"/api/v1/routes/{world['route']}/availability", 200),
        (
            "/routes/{slug}/availability",
            f"/api/v1/routes/{world['route']}/availability?people=2&to={today + timedelta(9)}",
            200,
        ),
        (
            "/routes/{slug}/availability",
            f"/api/v1/routes/{world['route']}/availability?people=x",
            400,
        ),
        ("/routes/{slug}/availability", "/api/v1/routes/nowhere/availability", 404),
    ]
    for path, url, status in answers:
        for headers in (EN, ES):
            response = client.get(url, headers=headers)
            assert response.status_code == status, url
            _operation(schema, "GET", path).validate_response(response)


def test_the_booking_status_answer(client, world):
    held = client.get(f"/api/v1/bookings/{world['held']}").get_json()
    assert held["status"] == "held" and held["hold_expires_at"]
    assert held["participants"] == 3
    assert held["total"] == {"amount_cents": 9500, "currency": "USD"}
    assert held["manage_url"].endswith(f"/bookings/{world['held']}")
    response = client.get(f"/api/v1/bookings/{world['confirmed']}")
    assert response.headers["Cache-Control"] == "private, no-store"
    confirmed = response.get_json()
    assert confirmed["status"] == "confirmed" and confirmed["hold_expires_at"] is None
    assert confirmed["due_on_arrival"]["amount_cents"] == 4500
    missing = client.get("/api/v1/bookings/" + "x" * 43, headers=ES).get_json()
    assert missing["error"]["status"] == 404
    assert missing["error"]["message"] == "No pudimos encontrar lo que buscabas."


def test_an_answer_that_strays_from_the_schema_is_caught(client, world):
    """The negative control: the validation above really compares shapes."""
    schema = _schema(client)
    availability = client.get(f"/api/v1/experiences/{world['slug']}/availability")
    with pytest.raises(FailureGroup) as caught:
        _operation(schema, "GET", "/bookings/{token}").validate_response(availability)
    assert caught.group_contains(JsonSchemaError)


# Schemathesis: generated requests, in-process --------------------------------------------


@pytest.fixture
def api_schema(make_app):
    """The served description, with the path arguments narrowed to real objects and a few
    missing ones, so generated requests reach both (not only 404s)."""
    app = make_app()
    with app.app_context():
        values = _world(Factories(db.session))
        db.session.commit()
        spec = app.test_client().get("/api/v1/openapi.json").get_json()
    real = {"slug": [values["slug"]], "token": [values["held"], values["confirmed"]]}
    for path, item in spec["paths"].items():
        for parameter in item["get"].get("parameters", []):
            if parameter.get("in") == "path" and path.startswith("/routes/"):
                others = ["no-such-thing", "ñ 🌳 <b>"]
                parameter["schema"] = {"type": "string", "enum": [values["route"], *others]}
            elif parameter.get("in") == "path":
                # Real objects and a few that are not (hostile path text is fuzzed in
                # test_fuzz_forms.py); Schemathesis would drop an enum inside anyOf.
                others = ["no-such-thing", "x" * 43, "ñ 🌳 <b>"]
                parameter["schema"] = {"type": "string", "enum": real[parameter["name"]] + others}
            elif parameter.get("name") in ("from", "to"):
                # Dates near today (the API serves two years ahead) and a few it refuses.
                today = datetime.now(ZoneInfo("America/Guayaquil")).date()
                near = [(today + timedelta(days=d)).isoformat() for d in (0, 7, 30)]
                parameter["schema"] = {
                    "type": "string",
                    "enum": near + ["1999-01-01", "2999-12-31", "31/12/2026"],
                }
            elif parameter.get("name") == "people":
                # A route's group sizes and a few it refuses.
                parameter["schema"] = {"type": "integer", "enum": [1, 2, 0, 99]}
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


#: The described operations, read from the file the API serves.
PATHS = sorted(
    json.loads(Path(tourism.__file__).with_name("static").joinpath("openapi.json").read_text())[
        "paths"
    ]
)


# Schemathesis's pytest plugin (from_fixture) does not run under this pytest; its Hypothesis
# strategies do, one operation at a time.
@pytest.mark.parametrize("path", PATHS)
def test_generated_requests_get_described_answers(api_schema, path):
    operation = api_schema.find_operation_by_path("GET", path)
    seen = set()

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
        deadline=None,
        # The same examples every run: whether one of them reaches a real object (asserted
        # below) must not depend on the run's random seed. FUZZ_EXAMPLES widens the search.
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=operation.as_strategy())
    def call(case):
        # The in-process client does not undo Content-Encoding (brotli, gzip) as HTTP
        # clients do, so ask for the plain body.
        response = case.call_and_validate(
            headers={"Accept-Encoding": "identity"},
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )
        seen.add(response.status_code)

    call()
    assert 200 in seen, f"no generated request reached a real object: {sorted(seen)}"
