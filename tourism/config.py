"""Settings read from the environment, with safe defaults for running on one machine."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting the app cannot start with; the message names the setting and what it takes."""


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no setting: use true or false (1/0).")


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum}.")
    return number


def _float(name: str, default: float, low: float, high: float) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number.") from None
    if not low <= number <= high:
        raise ConfigError(f"{name}={value!r} must be between {low} and {high}.")
    return number


#: CHAKRA_ENV values. "production" turns on the start-up refusals in ``tourism.security``,
#: HSTS and Secure cookies; "development" (the default) is for laptops and tests.
ENVIRONMENTS = ("development", "production")


def default_database_uri(instance_path: str) -> str:
    """The embedded SQLite file under ``instance/``, used when DATABASE_URL is not set."""
    return "sqlite:///" + str(Path(instance_path) / "chakra-routes.sqlite3")


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping for `create_app`.

    Every value can be overridden by an environment variable of the same name, so the same
    code runs on a laptop (SQLite under ``instance/``) and on several production nodes
    (PostgreSQL, Redis) without edits.
    """
    environment = os.environ.get("CHAKRA_ENV", "development").strip().lower()
    production = environment == "production"
    secret = os.environ.get("SECRET_KEY")
    if not secret and not production:
        # A per-machine key stored in instance/ keeps sessions valid across restarts locally;
        # production must set SECRET_KEY so every node shares it.
        key_file = Path(instance_path) / "secret_key"
        if key_file.exists():
            secret = key_file.read_text().strip()
        else:
            secret = secrets.token_urlsafe(48)
            key_file.write_text(secret)
    return {
        "CHAKRA_ENV": environment,
        "SECRET_KEY": secret or "",
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", default_database_uri(instance_path)
        ),
        #: No ``pool_pre_ping``: a connection the server closed is found without a round trip
        #: when it is taken from the pool (database.closed_by_the_server).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        #: Longest a statement waits for a lock before the request gives up with a "busy,
        #: please try again" 503 (Retry-After): PostgreSQL's lock_timeout, in milliseconds.
        "DATABASE_LOCK_TIMEOUT_MS": _int("DATABASE_LOCK_TIMEOUT_MS", 5000, minimum=1),
        #: The same for SQLite's single write lock (busy_timeout): writers queue for it.
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 30000, minimum=1),
        #: Seconds a busy answer asks the client to wait before trying again.
        "BUSY_RETRY_AFTER_SECONDS": _int("BUSY_RETRY_AFTER_SECONDS", 5, minimum=1),
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": "America/Guayaquil",
        #: Share of the messages a language's compiled catalog must translate before the
        #: site offers that language (tourism.i18n); Spanish, the default, is always offered.
        "LANGUAGE_MIN_COMPLETENESS": _float("LANGUAGE_MIN_COMPLETENESS", 0.9, 0.0, 1.0),
        "DISPLAY_TIMEZONE": "America/Guayaquil",
        "CURRENCY": "USD",
        #: Minutes a seat hold lives before it stops counting; long enough for a card payment.
        "HOLD_MINUTES": _int("HOLD_MINUTES", 30, minimum=1),
        #: However often the card page is opened, a hold ends at the latest this many minutes
        #: after the booking was made (opening the page extends it by HOLD_MINUTES up to here).
        "HOLD_MAX_MINUTES": _int("HOLD_MAX_MINUTES", 60, minimum=1),
        #: Minutes seats offered to someone on a waiting list stay held for them.
        "WAITLIST_OFFER_MINUTES": _int("WAITLIST_OFFER_MINUTES", 120, minimum=5),
        "AVAILABILITY_DAYS": 30,
        #: Days after a visit that what a visitor wrote about their needs (maybe health
        #: data) is kept; ``flask forget-special-needs`` erases it then (privacy notice).
        "SPECIAL_NEEDS_KEEP_DAYS": _int("SPECIAL_NEEDS_KEEP_DAYS", 30, minimum=1),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Anonymous catalog, experience and availability responses are cached this long at
        # most (0: off); CACHE_TYPE=RedisCache + CACHE_REDIS_URL share it between workers
        # and nodes (tourism/response_cache.py).
        "RESPONSE_CACHE_SECONDS": _int("RESPONSE_CACHE_SECONDS", 30),
        #: The site runs as one process (``make run``): an in-process SimpleCache may hold the
        #: response cache. Otherwise only a shared cache (Redis) does, or none at all.
        "RESPONSE_CACHE_IN_PROCESS": _bool("RESPONSE_CACHE_IN_PROCESS", False),
        "CACHE_TYPE": os.environ.get("CACHE_TYPE", "SimpleCache"),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "chakra:"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        #: X-RateLimit-* headers on limited pages: two more Redis round trips per request, for
        #: forms people fill in (a 429 always says Retry-After: routes/errors.py).
        "RATELIMIT_HEADERS_ENABLED": _bool("RATELIMIT_HEADERS_ENABLED", False),
        "BOOKING_RATE_LIMIT": os.environ.get("BOOKING_RATE_LIMIT", "20 per minute"),
        # Pages found by a private token (manage links, statements, calendar feeds).
        "TOKEN_LOOKUP_RATE_LIMIT": os.environ.get("TOKEN_LOOKUP_RATE_LIMIT", "60 per minute"),
        # Open unpaid bookings (unpaid holds, pay-on-arrival bookings still to come) one
        # email / one client address may have at a time (services/booking/caps.py).
        "OPEN_BOOKINGS_PER_EMAIL": _int("OPEN_BOOKINGS_PER_EMAIL", 3),
        "OPEN_BOOKINGS_PER_ADDRESS": _int("OPEN_BOOKINGS_PER_ADDRESS", 10),
        # Sign-in and password-reset posts: per client IP, and per account (the email sent).
        "LOGIN_RATE_LIMIT_IP": os.environ.get("LOGIN_RATE_LIMIT_IP", "10 per minute"),
        "LOGIN_RATE_LIMIT_ACCOUNT": os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT", "5 per minute"),
        # Stripe: leave the keys empty to offer pay on arrival only. STRIPE_API_BASE and
        # STRIPE_JS_URL point at a local Stripe emulator in development and tests.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        # Every Stripe call: seconds to connect, seconds to wait for the answer, and how many
        # times a failed call is retried (idempotency keys make retried creates safe).
        "STRIPE_CONNECT_TIMEOUT": _float("STRIPE_CONNECT_TIMEOUT", 5.0, 0.1, 60.0),
        "STRIPE_READ_TIMEOUT": _float("STRIPE_READ_TIMEOUT", 20.0, 0.1, 120.0),
        "STRIPE_MAX_RETRIES": _int("STRIPE_MAX_RETRIES", 1),
        # The card processor's usual price (2.9% + 30 cents), used only to *estimate* the
        # fee in the "where your money goes" breakdown; the ledger uses the real fee.
        "CARD_FEE_BASIS_POINTS": _int("CARD_FEE_BASIS_POINTS", 290),
        "CARD_FEE_FIXED_CENTS": _int("CARD_FEE_FIXED_CENTS", 30),
        # Email: "folder" writes .eml files to MAIL_OUTBOX_DIR, "console" prints them,
        # "smtp" sends through MAIL_SERVER.
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "folder"),
        #: "request": the jobs a request enqueues (its emails) run in its own process right
        #: after its commit (simple, fine for one machine: `make run` needs no worker);
        #: "worker": requests only enqueue them and `flask worker` runs them — web workers
        #: never wait for a mail server (docs/JOBS.md).
        "MAIL_DELIVERY": os.environ.get("MAIL_DELIVERY", "request"),
        #: How long a worker may hold a job before others take it for dead and run it again.
        "JOBS_LEASE_SECONDS": _int("JOBS_LEASE_SECONDS", 600, minimum=1),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(Path(instance_path) / "outbox")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 587, minimum=1),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30, minimum=1),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Chakra Routes <reservas@chakraroutes.example>"),
        # WhatsApp (Business Cloud API) and SMS (Twilio's API): each is off until its
        # credentials are set; the base URLs point at a local fake in development and tests
        # (docs/MESSAGES.md). Email goes out for everything whatever is set here.
        "WHATSAPP_API_BASE": os.environ.get(
            "WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0"
        ),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
        "WHATSAPP_ACCESS_TOKEN": os.environ.get("WHATSAPP_ACCESS_TOKEN", ""),
        #: Signs the callbacks (``X-Hub-Signature-256``); without it callbacks are refused.
        "WHATSAPP_APP_SECRET": os.environ.get("WHATSAPP_APP_SECRET", ""),
        #: Echoed back when Meta checks the callback URL (``hub.verify_token``).
        "WHATSAPP_VERIFY_TOKEN": os.environ.get("WHATSAPP_VERIFY_TOKEN", ""),
        "SMS_API_BASE": os.environ.get("SMS_API_BASE", "https://api.twilio.com"),
        "SMS_ACCOUNT_SID": os.environ.get("SMS_ACCOUNT_SID", ""),
        #: Authenticates our calls and signs the callbacks (``X-Twilio-Signature``).
        "SMS_AUTH_TOKEN": os.environ.get("SMS_AUTH_TOKEN", ""),
        #: The sending number (E.164) or sender id.
        "SMS_FROM": os.environ.get("SMS_FROM", ""),
        # Every WhatsApp/SMS call: seconds to connect and to wait for the answer.
        "MESSAGING_CONNECT_TIMEOUT": _float("MESSAGING_CONNECT_TIMEOUT", 5.0, 0.1, 60.0),
        "MESSAGING_READ_TIMEOUT": _float("MESSAGING_READ_TIMEOUT", 10.0, 0.1, 120.0),
        #: Country assumed for a phone number written without its +code.
        "PHONE_DEFAULT_REGION": os.environ.get("PHONE_DEFAULT_REGION", "EC"),
        #: Absolute address of the site, for links in emails sent outside a request.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        #: Host names production answers besides PUBLIC_URL's (comma-separated); others get
        #: a 400 (tourism.security.trusted_hosts). The loopback names are for health checks.
        "ALLOWED_HOSTS": [
            name.strip()
            for name in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
            if name.strip()
        ],
        #: Number of reverse proxies in front of the app whose X-Forwarded-For to trust (0: none).
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        # Cookies: never readable by scripts, not sent on cross-site posts, and in production
        # only over HTTPS (tourism.security forces Secure there whatever is set here).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        #: Strict-Transport-Security max-age, sent in production only (one year).
        "HSTS_MAX_AGE": _int("HSTS_MAX_AGE", 365 * 24 * 3600),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
    }
