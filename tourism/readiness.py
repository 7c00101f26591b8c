"""Is this node ready for traffic? ``/readyz`` asks what a request needs; ``/healthz`` only
that the process answers (liveness: a restart would not help a database outage).

The database is required: without it nothing works, so the node answers 503 and a load
balancer sends traffic elsewhere. Redis (response cache, rate limits) is not: without it
pages are rendered uncached and each process counts limits in its own memory, so the node
says "degraded" and still answers 200 (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from .extensions import db, limiter
from .response_cache import GENERATION_KEY, IN_PROCESS_TYPES, cache

log = logging.getLogger(__name__)

OK, UNREACHABLE, LOCAL = "ok", "unreachable", "in-process"


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 — whatever it is, the database is not there
        log.warning("readiness: database unreachable (%s)", type(error).__name__)
        db.session.rollback()
        return UNREACHABLE
    return OK


def _cache() -> str:
    if current_app.config.get("CACHE_TYPE") in IN_PROCESS_TYPES:
        return LOCAL
    try:
        cache.get(GENERATION_KEY)
    except Exception:  # noqa: BLE001
        return UNREACHABLE
    return OK


def _rate_limits() -> str:
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI", ""))
    if uri.startswith("memory://"):
        return LOCAL
    try:
        return OK if limiter.storage.check() else UNREACHABLE
    except Exception:  # noqa: BLE001
        return UNREACHABLE


def readiness() -> tuple[dict, int]:
    """What ``/readyz`` answers: each part's state, and 503 only when the database is down."""
    report = {"database": _database(), "cache": _cache(), "rate_limits": _rate_limits()}
    if report["database"] != OK:
        status = "unavailable"
    elif UNREACHABLE in report.values():
        status = "degraded"
    else:
        status = OK
    return {"status": status, **report}, 503 if status == "unavailable" else 200
