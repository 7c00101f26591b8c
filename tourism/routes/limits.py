"""Rate limits shared by several blueprints.

Private links (a booking's manage link, a family's statement, a guide's calendar feed) are
long random tokens, so guessing one is hopeless; the limit still stops anyone from trying
at scale, per client address (the proxy-reported one, ``PROXY_FIX_X_FOR``: a forged
X-Forwarded-For does not create new addresses).
"""

from __future__ import annotations

from flask import Flask, current_app

from ..extensions import limiter


def _token_lookup_limit() -> str:
    return current_app.config["TOKEN_LOOKUP_RATE_LIMIT"]


#: For views that look something up by a private token in the URL.
token_lookup = limiter.limit(_token_lookup_limit, scope="token_lookup")


def skip_idle_request_check(app: Flask) -> bool:
    """Take the limiter's before-request check off every request when it can find nothing.

    Flask-Limiter checks two kinds of limits: those decorated on a view (checked by the
    decorator, when that view runs) and application, default and blueprint limits (checked
    before every request). This project declares only the first kind, so the second check
    resolved an empty list on every request, the liveness probe and every page included: a
    quarter of ``/healthz``'s time (docs/PERFORMANCE.md). Should any limit of the second kind
    be configured, the check stays. Returns whether it was taken off.
    """
    config = app.config
    if (
        config.get("RATELIMIT_DEFAULT")
        or config.get("RATELIMIT_APPLICATION")
        or limiter.limit_manager.default_limits
        or limiter.limit_manager.application_limits
        or any(limiter.limit_manager.blueprint_limits(app, name) for name in app.blueprints)
    ):
        return False
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
    return True
