"""Domain errors: named, translatable, and carrying the HTTP status a view should answer with.

Services raise them; views catch ``DomainError`` and show ``message`` to the visitor in their
language. Messages are lazy strings so they are translated when shown, not when raised.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status_code = 400
    default_message = _l("This request cannot be completed.")

    def __init__(self, message=None, **params) -> None:
        self.message = message if message is not None else self.default_message
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class NotFound(DomainError):
    status_code = 404
    default_message = _l("We could not find what you asked for.")


class InvalidRequest(DomainError):
    status_code = 400
    default_message = _l("Some of the information you sent is not valid.")


class SoldOut(DomainError):
    status_code = 409
    default_message = _l("Sorry, there are not enough seats left on this departure.")


class DepartureUnavailable(DomainError):
    status_code = 409
    default_message = _l("This departure can no longer be booked.")


class DepartureCancelled(DepartureUnavailable):
    default_message = _l("This departure has been cancelled.")


class UnknownStop(InvalidRequest):
    default_message = _l("That stop is not part of this experience.")


class IllegalTransition(DomainError):
    status_code = 409
    default_message = _l("This booking cannot change from %(current)s to %(target)s.")


class DatabaseUnreachable(DomainError):
    """The database could not be reached (down, restarting, a network fault). A booking whose
    answer was lost this way may still have gone through, so the message says how to tell."""

    status_code = 503
    default_message = _l(
        "We cannot reach our booking records for a moment. Please try again in a minute. "
        "If you were booking, look for our confirmation email first: if it came, your "
        "booking went through."
    )


class Busy(DomainError):
    """The database was busy (a lock not obtained in time): nothing was changed, and the
    same request a few seconds later normally goes through."""

    status_code = 503
    default_message = _l("We are very busy right now. Nothing was changed; please try again.")
