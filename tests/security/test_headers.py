"""Security headers on every kind of response, the Content-Security-Policy, cookie flags, and
templates that need no inline script or style.

The walk requests every GET route of ``app.url_map`` (with the tenancy matrix's objects as
placeholder arguments, signed in as a platform admin so pages really render) and checks the
headers whatever the answer: HTML, JSON, CSV, redirects, 404s, static files, plus a forced 500.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for

from tests.factories import PASSWORD, Factories
from tests.route_walk import placeholder_url, routes
from tests.security.test_tenancy_matrix import _client, world  # noqa: F401  (world is a fixture)
from tourism import security
from tourism.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "tourism" / "templates"
STRONG_SECRET = "s" * 48
STRICT_REFERRER_POLICIES = {"strict-origin-when-cross-origin", "same-origin", "no-referrer"}


def assert_secure_headers(response, where: str, production: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip()
    )
    assert directives.get("script-src", "").startswith("'self'"), where
    assert directives.get("object-src") == "'none'", where
    assert directives.get("base-uri") == "'none'", where
    assert directives.get("frame-ancestors") == "'none'", where
    assert directives.get("form-action") == "'self'", where
    assert directives.get("style-src") == "'self'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    # Pages with a token in their address may ask for less than the default, never more.
    assert headers.get("Referrer-Policy") in STRICT_REFERRER_POLICIES, where
    assert headers.get("X-Frame-Options") == "DENY", where
    if production:
        assert headers.get("Strict-Transport-Security", "").startswith("max-age="), where
    else:
        assert "Strict-Transport-Security" not in headers, where


def _boom():
    raise RuntimeError("forced failure for the header test")


def test_every_get_route_and_response_kind_carries_the_headers(world):  # noqa: F811
    app, ids, tokens, users = world
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the 500 page render, as in production
    app.add_url_rule("/_test/boom", "test_boom", _boom)
    client = _client(app, users["platform"])
    with app.test_request_context():
        urls = [(rule.endpoint, placeholder_url(rule, ids, tokens)) for rule in routes(app, "GET")]
    assert len(urls) > 40
    kinds = {}
    for endpoint, url in urls + [("forced-500", "/_test/boom"), ("missing", "/no/such/page")]:
        response = client.get(url)
        where = f"GET {url} ({endpoint}) -> {response.status_code}"
        assert_secure_headers(response, where)
        kind = (
            str(response.status_code)
            if response.status_code in (404, 500) or 300 <= response.status_code < 400
            else response.mimetype
        )
        kinds.setdefault(kind, endpoint)
        response.close()
    # The walk really covered each kind of answer.
    for kind in ("text/html", "application/json", "text/csv", "text/css", "303", "404", "500"):
        assert kind in kinds, f"no {kind} response in the walk: {sorted(kinds)}"


def test_webhook_and_api_errors_carry_the_headers(client):
    assert_secure_headers(client.post("/webhooks/stripe", data=b"{}"), "webhook")
    assert_secure_headers(client.get("/api/experiences/nope"), "api 404")
    with client.get("/static/css/site.css") as static:
        assert_secure_headers(static, "static")


def test_csp_allows_only_our_origin_without_card_payments(app):
    policy = security.content_security_policy(app.config)
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "frame-src 'none';" in policy
    assert "stripe" not in policy


def test_csp_allows_the_stripe_emulator_that_serves_stripe_js(make_app, stripe_settings):
    app = make_app(**stripe_settings)
    origin = re.match(r"https?://[^/]+", stripe_settings["STRIPE_JS_URL"]).group(0)
    with app.app_context():
        response = app.test_client().get("/")
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {origin};" in csp
    assert f"connect-src 'self' {origin};" in csp  # the emulator's Stripe.js calls its host
    assert f"frame-src {origin};" in csp


def test_csp_for_stripe_itself_lists_stripes_documented_hosts():
    config = {
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
        "STRIPE_JS_URL": "https://js.stripe.com/v3/",
        "STRIPE_API_BASE": "",
    }
    policy = security.content_security_policy(config)
    assert "script-src 'self' https://js.stripe.com https://*.js.stripe.com;" in policy
    assert "connect-src 'self' https://api.stripe.com;" in policy
    assert (
        "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;"
        in policy
    )
    # Keys half set: no card payments, so no Stripe host either.
    assert "stripe" not in security.content_security_policy(config | {"STRIPE_SECRET_KEY": ""})


def test_a_view_may_set_its_own_policy(make_app):
    app = make_app()
    app.add_url_rule(
        "/_test/own", "own", lambda: ("ok", 200, {"Content-Security-Policy": "default-src 'none'"})
    )
    with app.app_context():
        response = app.test_client().get("/_test/own")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def _set_cookie(response, name: str) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert cookies, f"no {name} cookie set"
    return cookies[0]


def _login(app):
    client = app.test_client()
    user = Factories(db.session).user()
    db.session.commit()
    with app.test_request_context():
        html = client.get(url_for("auth.login")).get_data(as_text=True)
    data = {"email": user.email, "password": PASSWORD}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    assert response.status_code == 303
    return response


def test_session_cookie_is_httponly_and_lax_but_not_secure_in_development(app):
    cookie = _set_cookie(_login(app), "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_production_sends_hsts_and_secure_cookies(make_app):
    app = make_app(CHAKRA_ENV="production", SECRET_KEY=STRONG_SECRET, WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = _login(app)
        cookie = _set_cookie(response, "session")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert_secure_headers(response, "production login", production=True)
        with app.test_client().get("/static/css/site.css") as static:
            assert static.headers["Strict-Transport-Security"] == "max-age=31536000"


# --- templates: nothing inline for the CSP to block --------------------------------------------

PAGE_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_the_walk_finds_page_templates():
    assert len(PAGE_TEMPLATES) > 30


@pytest.mark.parametrize("path", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_page_templates_have_no_inline_script_handlers_or_styles(path):
    """Emails are left out: they are never served under the CSP, and mail clients need
    inline styles. JSON data blocks are allowed: the browser does not run them."""
    source = path.read_text()
    assert not INLINE_SCRIPT.search(source), "inline <script>: move it to static/js/"
    assert not HANDLER.search(source), "on*= handler: attach it from static/js/"
    assert not STYLE.search(source), "inline style: use a class from static/css/"
    assert "javascript:" not in source.lower()


def test_the_template_checks_catch_what_they_look_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/pay.js"></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="d">{}</script>')
    assert HANDLER.search('<button onclick="go()">')
    assert STYLE.search('<span style="color:red">') and STYLE.search("<style>")
    assert not STYLE.search("{% macro when(moment, date_style='full') %}")
