"""Per-request work that every request paid for and no request needed.

Each request runs Flask's machinery and the extensions' hooks before and after its view. On
``/healthz`` that overhead was the whole request, and the same work sits under every page
(docs/PERFORMANCE.md, "Per-request overhead, second pass"). What is here keeps each hook's
effect and skips only what cannot change the response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, current_app, request
from flask.globals import request_ctx

#: Hooks and views whose synchronous-ness was looked up once; bounded in case something
#: hands Flask a new callable on every request.
_SYNC_CACHE_LIMIT = 4096


class App(Flask):
    """Flask, with the coroutine test of each hook and view made once per callable.

    Flask asks ``inspect.iscoroutinefunction`` about every before-, after- and teardown
    function and the view, on every request (about a dozen calls, each unwrapping partials
    and methods). A function does not change from one request to the next.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        try:
            return self._sync_callables[func]
        except (KeyError, TypeError):  # TypeError: an unhashable callable
            pass
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        if len(self._sync_callables) < _SYNC_CACHE_LIMIT:
            try:
                self._sync_callables[func] = func
            except TypeError:
                pass
        return func


def remember_cookie_only_when_asked(app: Flask) -> bool:
    """Run Flask-Login's remember-cookie hook only when the session asks for it.

    The hook sets or clears the "remember me" cookie when sign-in or sign-out left a
    ``_remember`` mark in the session. It looked for that mark through ``flask.session``,
    and reading the session that way marks it as used, so every response, ``/healthz`` and
    JSON included, was given ``Vary: Cookie`` (parsed and rewritten each time) though nothing
    in it came from the cookie. The mark is now looked for without touching the session;
    with ``REMEMBER_COOKIE_REFRESH_EACH_REQUEST`` on, the hook always runs, as before.
    Returns whether the hook was found and wrapped.
    """
    manager = getattr(app, "login_manager", None)
    hooks = app.after_request_funcs.get(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__func__", None) is type(manager)._update_remember_cookie and (
            hook.__self__ is manager
        ):
            hooks[index] = _remember_hook(hook)
            return True
    return False


def _remember_hook(hook: Callable) -> Callable:
    def update_remember_cookie(response):
        session = request_ctx._get_current_object()._session
        if (
            session is not None
            and "_remember" not in session
            and not current_app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
        ):
            return response  # nothing to set or clear
        return hook(response)

    return update_remember_cookie


def check_csrf_only_on_methods_it_covers(app: Flask) -> bool:
    """Run Flask-WTF's before-request CSRF check only on the methods it checks.

    The check looks up whether the view or its blueprint is exempt before it looks at the
    method, so every GET (``/healthz``, every page, a reseller's availability poll) paid for
    the exemption lookup only to be let through because a GET is never checked. Requests
    with a method in ``WTF_CSRF_METHODS`` go through the check exactly as before. Returns
    whether the hook was found and wrapped.
    """
    hooks = app.before_request_funcs.get(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__module__", None) == "flask_wtf.csrf" and (
            getattr(hook, "__name__", None) == "csrf_protect"
        ):
            hooks[index] = _csrf_hook(hook)
            return True
    return False


def _csrf_hook(hook: Callable) -> Callable:
    @wraps(hook)
    def csrf_protect():
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return None  # what the check itself decides for this method, after its lookup
        return hook()

    return csrf_protect
