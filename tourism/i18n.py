"""Choosing the visitor's language: explicit choice (cookie) → Accept-Language → Spanish."""

from __future__ import annotations

from flask import current_app, has_request_context, request

LOCALE_COOKIE = "lang"


def available_locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    choices = available_locales()
    if not has_request_context():  # CLI and jobs use flask_babel.force_locale when they need one
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    explicit = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if explicit in choices:
        return explicit
    return (
        request.accept_languages.best_match(choices) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
