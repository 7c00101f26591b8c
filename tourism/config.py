"""Settings read from the environment, with safe defaults for running on one machine."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping for `create_app`.

    Every value can be overridden by an environment variable of the same name, so the same
    code runs on a laptop (SQLite under ``instance/``) and on several production nodes
    (PostgreSQL, Redis) without edits.
    """
    default_db = "sqlite:///" + str(Path(instance_path) / "chakra-routes.sqlite3")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        # A per-machine key stored in instance/ keeps sessions valid across restarts locally;
        # production must set SECRET_KEY so every node shares it.
        key_file = Path(instance_path) / "secret_key"
        if key_file.exists():
            secret = key_file.read_text().strip()
        else:
            secret = secrets.token_urlsafe(48)
            key_file.write_text(secret)
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": "America/Guayaquil",
        "LANGUAGES": ["es", "en"],
        "DISPLAY_TIMEZONE": "America/Guayaquil",
        "CURRENCY": "USD",
        #: Minutes a seat hold lives before it stops counting; long enough for a card payment.
        "HOLD_MINUTES": _int("HOLD_MINUTES", 30),
        "AVAILABILITY_DAYS": 30,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "BOOKING_RATE_LIMIT": os.environ.get("BOOKING_RATE_LIMIT", "20 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
    }
