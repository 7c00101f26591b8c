"""Hooks that ran on every request now run only when they can do something; what they do
when they run is unchanged (tourism/lean_requests.py, tourism/routes/limits.py)."""

from __future__ import annotations

import pytest


def test_a_response_that_never_read_the_session_does_not_vary_on_the_cookie(client):
    assert "Cookie" not in client.get("/healthz").headers.get("Vary", "")
    page = client.get("/login")  # a form with a CSRF token: it reads the session
    assert "Cookie" in page.headers["Vary"]


@pytest.mark.parametrize("mark", ["clear", None])
def test_a_remember_mark_left_in_the_session_is_still_acted_on(client, mark):
    with client.session_transaction() as session:
        session["_user_id"] = "someone"
        if mark:
            session["_remember"] = mark
    response = client.get("/healthz")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    if mark:
        assert cookies and "Expires=Thu, 01 Jan 1970" in cookies[0]  # cleared
    else:
        assert not cookies  # the control: nothing asked, nothing done


def test_the_limiter_after_hook_still_runs_on_the_requests_it_limited(make_app, monkeypatch):
    from tourism.extensions import limiter

    # The limiter is one object per process and reads this setting from the first app only.
    monkeypatch.setattr(limiter, "_headers_enabled", True)
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        TOKEN_LOOKUP_RATE_LIMIT="5 per minute",
    )
    client = app.test_client()
    limited = client.get(f"/bookings/guess{0:040d}")
    assert limited.headers["X-RateLimit-Limit"] == "5"
    assert limited.headers["X-RateLimit-Remaining"] == "4"
    assert "X-RateLimit-Limit" not in client.get("/healthz").headers


def test_views_and_hooks_are_checked_for_coroutines_once(app):
    def view():
        return "ok"

    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view
    assert view in app._sync_callables

    async def coroutine():
        return "ok"

    with pytest.raises(RuntimeError):  # needs Flask's async extra, which is not installed
        app.ensure_sync(coroutine)
    assert coroutine not in app._sync_callables


def test_the_csrf_check_runs_only_on_the_methods_it_checks(make_app, monkeypatch):
    from flask_wtf.csrf import CSRFProtect

    checked = []
    protect = CSRFProtect.protect

    def counted(self, *args, **kwargs):
        checked.append(1)
        return protect(self, *args, **kwargs)

    monkeypatch.setattr(CSRFProtect, "protect", counted)
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    assert checked == []  # a GET is never refused: the check is not even started
    refused = client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert refused.status_code == 400  # a form sent without its token, refused as before
    assert checked == [1]
    # An exempt view (the payment provider's webhook) is still let through by the check:
    # it reaches the view, which answers that card payments are not configured here.
    webhook = client.post("/webhooks/stripe", data=b"{}")
    assert webhook.status_code == 404
    assert webhook.get_json() == {"error": "stripe is not configured"}
    assert checked == [1, 1]
