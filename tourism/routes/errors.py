"""Error pages (HTML for people, JSON under /api/, OCTO's error object under /octo/), always
in the visitor's language."""

from __future__ import annotations

import logging
import sys

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from ..database import is_busy, is_unreachable
from ..errors import Busy, DatabaseUnreachable, DomainError
from ..extensions import db
from ..services.channels import octo_errors

log = logging.getLogger(__name__)

MESSAGES = {
    400: lambda: _("Some of the information sent is not valid."),
    404: lambda: _("We could not find that page."),
    405: lambda: _("That action is not allowed here."),
    409: lambda: _("That cannot be done right now."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many requests. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Nothing was changed; please try again."),
}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _try_again_later(error: DomainError):
    """A 503 the client may repeat after ``Retry-After``, never kept by a cache."""
    body, status = error_response(503, str(error))
    retry = str(current_app.config.get("BUSY_RETRY_AFTER_SECONDS", 5))
    return body, status, {"Retry-After": retry, "Cache-Control": "no-store"}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def is_octo() -> bool:
    return request.path == "/octo" or request.path.startswith("/octo/")


def error_response(status: int, message: str):
    if is_octo():
        body, code = octo_errors.error_body(status, message)
        return jsonify(body), code
    if wants_json():
        return jsonify(error={"status": status, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


def _retry_after(error: HTTPException) -> str:
    """Seconds to wait after a rate limit: the limiter's own figure when it sent one, else
    the limit's window (a minute for "20 per minute"). The limiter's X-RateLimit headers are
    off (``RATELIMIT_HEADERS_ENABLED``): they cost two Redis round trips on every limited
    request, and the limited pages are forms that people fill in, not an API."""
    given = error.get_response().headers.get("Retry-After")
    if given:
        return given
    limit = getattr(getattr(error, "limit", None), "limit", None)
    return str(limit.get_expiry()) if limit is not None else "60"


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        db.session.rollback()
        return error_response(error.status_code, str(error))

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(
            400, _("This form has expired or was not sent from our site. Please try again.")
        )

    @app.errorhandler(SecurityError)
    def _untrusted_host(_error: SecurityError):
        # A Host production does not answer (TRUSTED_HOSTS): no URL can be built for it, so
        # no page either; a short plain answer in no particular language.
        return "Bad Request: unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        message = MESSAGES.get(status, lambda: error.description or "")()
        response = error_response(status, message)
        if status == 429:
            body, code = response
            return body, code, {"Retry-After": _retry_after(error)}
        return response

    @app.errorhandler(OperationalError)
    def _database_trouble(error: OperationalError):
        db.session.rollback()
        if is_busy(error):
            # A lock not obtained in time: nothing was written; the client may try again.
            return _try_again_later(Busy())
        if is_unreachable(error):
            # An outage, not a bug: one line per request, not a traceback each.
            log.warning("database unreachable: %s", _first_line(error.orig))
            return _try_again_later(DatabaseUnreachable())
        current_app.log_exception(sys.exc_info())
        return error_response(500, MESSAGES[500]())

    @app.errorhandler(500)
    def _server_error(error):
        db.session.rollback()
        return error_response(500, MESSAGES[500]())
