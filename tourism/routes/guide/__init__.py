"""Guide pages: running a departure (manifest, check-in by name or reference, cash, stops,
assigning guides) — also offline, through a service worker that replays what was done without
signal to ``/guide/sync``.

My schedule, time off and the calendar feed are in ``calendar``; running a departure is in
``departures``. Both add their views to ``blueprint.bp``."""

from . import calendar, departures  # noqa: F401
from .blueprint import bp  # noqa: F401
