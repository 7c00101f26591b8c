"""Secrets out of every log line: the tokens the site issues (manage links, password resets,
invitations, statements, calendar feeds) travel in addresses, and an address is what a log
line about a request names.

``redact`` replaces any run of 32 or more URL-safe characters (every token the site issues
is 43; long slugs go too, which costs nothing) with ``[redacted]``. ``install`` makes every
log record of the process pass through it, its message, arguments and traceback included,
whichever library logs it: Flask's "Exception on /bookings/<token> [GET]", the development
server's request lines, an exception whose text quotes a token. Gunicorn's access log is
redacted the same way (tourism/access_log.py).
"""

from __future__ import annotations

import logging
import re
import traceback

#: A token: 32+ URL-safe characters between ``/``, ``=`` or the start, and ``/ ? & # .`` or
#: the end (a feed's ``.ics`` stays).
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
REDACTED = "[redacted]"


def redact(text: str | None) -> str | None:
    return TOKEN.sub(REDACTED, text) if text else text


def _redacting(factory):
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a bad format string is logging's to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print ``exc_text`` when it is set instead of formatting exc_info.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        return record

    make_record.redacts = True
    return make_record


def install() -> None:
    """Redact every log record made from now on in this process (once, however often the
    application is created)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts", False):
        logging.setLogRecordFactory(_redacting(factory))
