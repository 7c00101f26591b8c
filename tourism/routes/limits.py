"""Rate limits shared by several blueprints.

Private links (a booking's manage link, a family's statement, a guide's calendar feed) are
long random tokens, so guessing one is hopeless; the limit still stops anyone from trying
at scale, per client address (the proxy-reported one, ``PROXY_FIX_X_FOR``: a forged
X-Forwarded-For does not create new addresses).
"""

from __future__ import annotations

from functools import partial, wraps

from flask import Flask, current_app
from flask.globals import request_ctx

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


def skip_untouched_request_hooks(app: Flask) -> int:
    """Run the limiter's after-request and teardown hooks only on requests it looked at.

    Flask-Limiter keeps its per-request state on the request context, created the first time
    a limit is checked. Its after-request hook (deductions of ``deduct_when`` limits and the
    ``X-RateLimit-*`` headers) and its teardown (clearing that state) ran on every request;
    on a request no limited view served they create the empty state only to find nothing in
    it. They now run only when the state exists, which is exactly when they can do anything.
    Returns how many hooks were wrapped.
    """
    wrapped = 0
    after = app.after_request_funcs.get(None, [])
    for index, hook in enumerate(after):
        if isinstance(hook, partial) and hook.func is _INJECT_HEADERS and hook.args == (limiter,):
            after[index] = _when_touched(hook, passthrough=True)
            wrapped += 1
    teardown = app.teardown_request_funcs.get(None, [])
    for index, hook in enumerate(teardown):
        if getattr(hook, "__func__", None) is _RELEASE_CONTEXT and hook.__self__ is limiter:
            teardown[index] = _when_touched(hook, passthrough=False)
            wrapped += 1
    return wrapped


_INJECT_HEADERS = getattr(type(limiter), "_Limiter__inject_headers", None)
_RELEASE_CONTEXT = getattr(type(limiter), "_Limiter__release_context", None)


def _when_touched(hook, passthrough: bool):
    @wraps(hook)
    def run(value=None):
        if hasattr(request_ctx._get_current_object(), _LIMITER_STATE):
            return hook(value)
        return value if passthrough else None

    return run


#: Where Flask-Limiter keeps its state on the request context.
_LIMITER_STATE = "_limiter_request_context"
