"""The world the fuzzing tests walk, and what they check on every answer.

The tenancy matrix's world supplies real objects behind every URL argument; each route is
requested by whoever may use it (anonymous for public pages, association B's guide for a
guide's pages, a platform admin for the rest). ``check`` sends one request and fails on a
5xx, a stack trace, a refusal without a message in the language asked for, or a refusal
that changed the database.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from tests.conftest import _test_config
from tests.fuzzing import collect_fields, problems
from tests.route_walk import placeholder_url, routes
from tests.security.test_tenancy_matrix import OWN, PUBLIC, _client, _dump
from tourism import create_app
from tourism.database import utcnow
from tourism.extensions import db
from tourism.forms.auth import InvitationForm, InvitationSignInForm, ResetPasswordForm
from tourism.i18n import LOCALE_COOKIE
from tourism.models import Association, Departure, Experience, Role, User
from tourism.services.access import accounts

#: Fuzzed with bodies of their own: JSON (sync, test_fuzz_requests.py) and signed raw bytes
#: (the webhook, test_fuzz_webhook.py).
OWN_BODIES = {"guide.sync", "webhooks.stripe_event"}
# The routes are known before any database exists; this app only lists them.
_APP = create_app(_test_config("sqlite://", SQLALCHEMY_ENGINE_OPTIONS={}))
#: The OCTO API answers only a reseller's key, with JSON bodies: Schemathesis fuzzes it
#: against the OCTO document (tests/routes/test_octo_schemathesis.py).
OCTO = {rule.endpoint for rule in _APP.url_map.iter_rules() if rule.endpoint.startswith("octo.")}
POST_ENDPOINTS = sorted(
    {rule.endpoint for rule in routes(_APP, "POST")} - OWN_BODIES - OCTO,
)
GET_ENDPOINTS = sorted({rule.endpoint for rule in routes(_APP, "GET")} - {"static"} - OCTO)
LANGUAGES = st.sampled_from(["es", "en", "fr", "", "x" * 300, "es;q=NaN,*"])
#: Examples per route; FUZZ_EXAMPLES=200 for a long run before a release.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: endpoint → fields of its forms, read once per test session from the world's pages.
_FIELDS: dict[str, dict] = {}


def _classform_fields(*form_classes) -> dict[str, dict]:
    """The fields of WTForms classes, for forms the world's pages do not show (they need a
    valid emailed token, or JavaScript)."""
    return {
        name: {"choices": []}
        for form_class in form_classes
        for name in dir(form_class)
        if isinstance(getattr(form_class, name), UnboundField)
    }


#: Forms behind a link sent by email, and the card form's script.
UNSEEN_FORMS = {
    "auth.accept_invitation": _classform_fields(InvitationForm, InvitationSignInForm),
    "auth.reset_password": _classform_fields(ResetPasswordForm),
    "bookings.pay_with_card": {"setup_intent": {"choices": ["seti_123"]}},
}


def signed_in(world):
    """Clients for each kind of route: anonymous (public), the guide of association B
    (a guide's own things) and a platform admin (everything else)."""
    app, _ids, _tokens, users = world
    guide = db.session.scalars(select(User).where(User.email == "guide-b@example.org")).one()
    return {
        "public": app.test_client(),
        "guide": _client(app, guide),
        "admin": _client(app, users["platform"]),
    }


def client_for(clients, endpoint: str):
    if endpoint in PUBLIC:
        return clients["public"]
    if (
        endpoint in OWN
        or endpoint.startswith("guide.")
        and endpoint
        not in (
            "guide.assign",
            "guide.unassign",
        )
    ):
        return clients["guide"]
    return clients["admin"]


def ids_for(ids: dict, endpoint: str) -> dict:
    """The world's ids, except that booking needs a departure still open for sale (the
    world's own starts within the hour)."""
    if endpoint != "bookings.new":
        return ids
    later = db.session.scalars(
        select(Departure.id)
        .join(Experience)
        .where(Experience.association_id == ids["association_id"])
        .where(Departure.starts_at > utcnow() + timedelta(days=1))
    ).first()
    return ids | {"departure_id": later}


def emailed_links(ids: dict, users: dict) -> dict[str, str]:
    """Live reset and invitation links, so their forms are reached (not only their 404)."""
    now = utcnow()
    _user, reset = accounts.request_password_reset(db.session, users["staff_a"].email, now)
    association = db.session.get(Association, ids["association_id"])
    invitation = accounts.invite(
        db.session, users["platform"], association, "invitee@example.org", Role.STAFF, now
    )
    db.session.commit()
    return {"auth.reset_password": reset, "auth.accept_invitation": invitation}


def form_fields(world, clients) -> dict[str, dict]:
    if not _FIELDS:
        app, ids, tokens, _ = world
        with app.test_request_context():
            urls = [
                placeholder_url(rule, ids_for(ids, rule.endpoint), tokens)
                for rule in routes(app, "GET")
                if rule.endpoint != "static"
            ]
        for client in clients.values():
            for endpoint, fields in collect_fields(app, client, urls).items():
                _FIELDS.setdefault(endpoint, {}).update(fields)
    return _FIELDS


class Refused(AssertionError):
    pass


def _unexplained(response, language: str | None) -> list[str]:
    """What is missing from a refusal: a message, in the language asked for."""
    if response.is_json:
        error = (response.get_json(silent=True) or {}).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return [] if isinstance(message, str) and message.strip() else ["no error message"]
    if response.mimetype == "text/plain":  # a download refused: the message alone
        return [] if response.get_data(as_text=True).strip() else ["no error message"]
    if response.mimetype != "text/html":
        return [f"a refusal as {response.mimetype}"]
    if language in ("es", "en") and f'<html lang="{language}"' not in response.get_data(
        as_text=True
    ):
        return [f"not in {language}"]
    return []


def _language_asked(client, query_string=(), headers=None, **_) -> str | None:
    """The language the site should answer in: ``?lang=``, else the language cookie (the
    walk may follow the language links), else Accept-Language."""
    languages = ("es", "en")
    asked = [value for key, value in query_string or () if key == "lang"][:1]
    cookie = client.get_cookie(LOCALE_COOKIE)
    for choice in (*asked, cookie.value if cookie else None):
        if choice in languages:
            return choice
        if choice:
            break  # an explicit but unknown language: the site falls back to Accept-Language
    return (headers or {}).get("Accept-Language")


def check(client, method, url, before, **kwargs):
    """Send one request; fail on a 5xx, a leak, or a refusal that wrote something."""
    response = client.open(url, method=method, **kwargs)
    found = problems(response)
    if 400 <= response.status_code < 500:
        if _dump() != before:
            found.append("refused, yet the database changed")
        found.extend(_unexplained(response, _language_asked(client, **kwargs)))
    response.close()
    if found:
        raise Refused(f"{method} {url}: {response.status_code}: {', '.join(found)}")
    return response
