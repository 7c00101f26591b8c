"""Gunicorn's access log, without the secrets that addresses carry.

Manage links (``/bookings/<token>``), reset and invitation links, family statement links and
calendar feeds hold their secret in the path, and the ``Referer`` of every request a page
makes repeats that path. The access log keeps the shape of each address but replaces any
path segment or query value of 32 or more URL-safe characters (every token the site issues
is 43) with ``[redacted]``. ``gunicorn.conf.py`` selects this logger.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

#: A token: 32+ URL-safe characters between ``/``, ``=`` or the start, and ``/ ? & # .`` or
#: the end (a feed's ``.ics`` stays). Long slugs are redacted too, which costs nothing.
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
REDACTED = "[redacted]"

#: The atoms of the log format that hold an address (request line, path, query, referrer).
ADDRESS_ATOMS = ("r", "U", "q", "f", "{referer}i")


def redact(text: str | None) -> str | None:
    return TOKEN.sub(REDACTED, text) if text else text


class RedactingLogger(Logger):
    """Gunicorn's logger with the secrets taken out of the addresses it logs."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ADDRESS_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
