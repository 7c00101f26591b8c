"""Every POST route refuses a request without a CSRF token, and writes nothing.

Walks ``app.url_map`` with the tenancy matrix's world, signed in as a platform admin (who may
use every association's pages, so a missing token is the only reason to refuse). The provider
callbacks (Stripe, WhatsApp, SMS) are the exemptions; each answers only to a valid signature
(the messaging ones: tests/routes/test_messaging.py).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.route_walk import placeholder_url, routes
from tests.security.test_tenancy_matrix import _client, _dump, world  # noqa: F401  (world is a fixture)
from tourism.extensions import csrf, db
from tourism.models import ProviderEvent

WEBHOOKS = {
    "webhooks.stripe_event",
    "webhooks.whatsapp_event",
    "webhooks.sms_status",
    "webhooks.sms_inbound",
}
MESSAGES = {
    "en": "This form has expired or was not sent from our site.",
    "es": "Este formulario caducó o no se envió desde nuestro sitio.",
}


def _post_routes(app, ids, tokens) -> list[tuple[str, str]]:
    with app.test_request_context():
        return [
            (rule.endpoint, placeholder_url(rule, ids, tokens))
            for rule in routes(app, "POST")
            if rule.endpoint not in WEBHOOKS and not rule.endpoint.startswith("octo.")
        ]


def test_the_provider_callbacks_are_the_only_csrf_exemptions(world):  # noqa: F811
    assert csrf._exempt_views == {f"tourism.routes.{endpoint}" for endpoint in WEBHOOKS}
    # The OCTO API: a reseller's Bearer key on each request, never a cookie, so a forged
    # cross-site request carries no credentials (tests/routes/test_octo.py: no key, 401).
    assert {blueprint.name for blueprint in csrf._exempt_blueprints} == {"octo"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_post_without_a_token_is_refused_and_writes_nothing(world, language):  # noqa: F811
    app, ids, tokens, users = world
    app.config["WTF_CSRF_ENABLED"] = True
    client = _client(app, users["platform"])
    posts = _post_routes(app, ids, tokens)
    assert len(posts) > 25
    before = _dump()
    failures = []
    for endpoint, url in posts:
        # Form fields but no csrf_token: what a forged cross-site form would send.
        response = client.post(
            url,
            data={"name": "forged", "email": "x@example.org"},
            headers={"Accept-Language": language},
        )
        body = response.get_data(as_text=True)
        if response.status_code != 400:
            failures.append(f"POST {url} ({endpoint}): {response.status_code}")
        elif MESSAGES[language] not in body:
            failures.append(f"POST {url} ({endpoint}): 400 without the CSRF message")
    assert failures == []
    assert _dump() == before


def test_the_walk_reaches_views_that_write_when_csrf_is_off(world):  # noqa: F811
    """The negative control: without CSRF checks the same posts do change the database, so
    an unchanged database above means the token check stopped them."""
    app, ids, tokens, users = world
    client = _client(app, users["platform"])
    before = _dump()
    for endpoint, url in _post_routes(app, ids, tokens):
        if endpoint != "auth.logout":  # stay signed in for the rest of the walk
            client.post(url, data={"name": "forged", "email": "x@example.org"})
    assert _dump() != before


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProviderEvent))


def test_the_webhook_answers_only_to_a_valid_signature(make_app, stripe_settings, stripe_emulator):
    app = make_app(WTF_CSRF_ENABLED=True, **stripe_settings)
    secret = stripe_settings["STRIPE_WEBHOOK_SECRET"]
    event = {
        "id": "evt_csrf_walk",
        "object": "event",
        "type": "customer.created",  # an event the site ignores, but records
        "created": 1_700_000_000,
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    body, signature = stripe_emulator.sign_event(event, secret)
    _, wrong = stripe_emulator.sign_event(event, "whsec_somebody_else")
    with app.app_context():
        client = app.test_client()
        for headers in ({}, {"Stripe-Signature": wrong}, {"Stripe-Signature": "t=1,v1=00"}):
            refused = client.post("/webhooks/stripe", data=body, headers=headers)
            assert refused.status_code == 400 and refused.get_json()["error"]
        tampered = json.dumps(event | {"type": "payment_intent.succeeded"}).encode()
        refused = client.post(
            "/webhooks/stripe", data=tampered, headers={"Stripe-Signature": signature}
        )
        assert refused.status_code == 400
        assert _events() == 0
        accepted = client.post(
            "/webhooks/stripe", data=body, headers={"Stripe-Signature": signature}
        )
        assert accepted.status_code == 200  # no CSRF token needed: the signature is the check
        assert _events() == 1
