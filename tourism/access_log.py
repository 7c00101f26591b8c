"""Gunicorn's access log, without the secrets that addresses carry.

Manage links (``/bookings/<token>``), reset and invitation links, family statement links and
calendar feeds hold their secret in the path, and the ``Referer`` of every request a page
makes repeats that path. The access log keeps the shape of each address but replaces any
path segment or query value of 32 or more URL-safe characters (every token the site issues
is 43) with ``[redacted]``. ``gunicorn.conf.py`` selects this logger.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .redaction import REDACTED, TOKEN, redact  # noqa: F401  (the names tests use)

#: The atoms of the log format that hold an address (request line, path, query, referrer).
ADDRESS_ATOMS = ("r", "U", "q", "f", "{referer}i")


class RedactingLogger(Logger):
    """Gunicorn's logger with the secrets taken out of the addresses it logs."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ADDRESS_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
