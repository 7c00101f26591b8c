"""Which function runs each kind of job: ``@job("kind")`` adds one to the registry.

A handler is ``handler(session, payload, key)``: ``payload`` is the dict given to
``enqueue``, ``key`` the job's idempotency key. It may flush (the worker commits it together
with marking the job done) or commit on its own; it raises to have the job retried. It must be
idempotent: a worker that dies after the effect but before the commit leaves the job to run
again once its lease has expired (``key`` is there to check "done already?").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any], str], None]

#: Tries before a job becomes a dead letter, unless its handler says otherwise.
DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Registered:
    kind: str
    handler: Handler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: How long a worker may hold one run before others take it as dead (None: the setting).
    lease: timedelta | None = None


HANDLERS: dict[str, Registered] = {}


def job(
    kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta | None = None
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``kind`` (one handler per kind)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(handler: Handler) -> Handler:
        known = HANDLERS.get(kind)
        if known is not None and known.handler is not handler:
            if getattr(known.handler, "__qualname__", None) != handler.__qualname__:
                raise ValueError(f"job kind {kind!r} already has a handler")
        HANDLERS[kind] = Registered(kind, handler, max_attempts, lease)
        return handler

    return register


def registered(kind: str) -> Registered:
    try:
        return HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no handler for job kind {kind!r}") from None
