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
        if "\x00" in request.path or _has_nul(request.args.values()):
            abort(400)
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if _has_nul(request.form.values()):
                abort(400)
