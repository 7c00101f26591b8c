"""Request-wide input guards that protect every view at once."""

from __future__ import annotations

from flask import Flask, abort, request


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


def register(app: Flask) -> None:
    @app.before_request
    def _reject_nul_bytes():
        """NUL bytes have no business in any text we accept, and PostgreSQL refuses them in
        text columns; answer 400 before any view or query sees them."""
        environ = request.environ
        if "\x00" in request.path:
            abort(400)
        # Only "%00" (or a raw NUL) in the query string decodes to NUL: the arguments are
        # parsed only when the raw string has one.
        query = environ.get("QUERY_STRING", "")
        if ("%00" in query or "\x00" in query) and _has_nul(request.args.values()):
            abort(400)
        if environ.get("CONTENT_TYPE") and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            if _has_nul(request.form.values()):
                abort(400)
