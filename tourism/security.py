"""HTTP security headers on every response, and the settings production refuses to start with.

One WSGI middleware rather than a library: the policy is short, depends on our own
settings (the Stripe.js origin) and is tested response kind by response kind. See
docs/SECURITY.md for the reasoning behind each header.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from . import redaction
from .config import ENVIRONMENTS, default_database_uri

#: Stripe's own hosts, allowed only when Stripe.js is loaded from Stripe (not an emulator):
#: its script and frames come from (sub-domains of) js.stripe.com, 3-D Secure pages from
#: hooks.stripe.com, and its API calls go to api.stripe.com.
STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_EXTRA_SCRIPT = ("https://*.js.stripe.com",)
STRIPE_EXTRA_FRAME = ("https://*.js.stripe.com", "https://hooks.stripe.com")
STRIPE_API_ORIGIN = "https://api.stripe.com"

#: A production SECRET_KEY shorter than this is refused (48 random bytes is what we suggest).
MIN_SECRET_KEY_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    """Production was asked to start with a setting that would make it unsafe."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        super().__init__(f"Refusing to start in production: {setting} {reason}")


def is_production(config) -> bool:
    return config.get("CHAKRA_ENV") == "production"


def card_payments_on(config) -> bool:
    """The same test the payment gateway uses: both Stripe keys set."""
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config) -> str:
    """The policy for every response: our own origin only, plus Stripe when cards are on.

    No inline scripts or styles anywhere ('unsafe-inline' is never allowed): pages load
    their JavaScript and CSS from /static/, and pass data to scripts in data- attributes or
    a ``<script type="application/json">`` block, which the browser never runs.
    """
    script, connect, frame = ["'self'"], ["'self'"], []
    if card_payments_on(config):
        js_origin = _origin(config.get("STRIPE_JS_URL") or "") or STRIPE_JS_ORIGIN
        api_origin = _origin(config.get("STRIPE_API_BASE") or "") or STRIPE_API_ORIGIN
        script.append(js_origin)
        frame.append(js_origin)
        connect.append(api_origin)
        if js_origin == STRIPE_JS_ORIGIN:
            script.extend(STRIPE_EXTRA_SCRIPT)
            frame.extend(STRIPE_EXTRA_FRAME)
        elif js_origin not in connect:
            connect.append(js_origin)  # an emulator's Stripe.js calls the host it came from
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": connect,
        "frame-src": frame or ["'none'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(
        f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items()
    )


def security_headers(config) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(config),
        "X-Content-Type-Options": "nosniff",
        # Paths carry secrets (manage and statement tokens): other sites see our origin only.
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    }
    if is_production(config):
        headers["Strict-Transport-Security"] = f"max-age={config.get('HSTS_MAX_AGE', 31536000)}"
    return headers


#: The settings the headers depend on; the headers are built once per distinct set.
HEADER_SETTINGS = (
    "CHAKRA_ENV",
    "HSTS_MAX_AGE",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_JS_URL",
    "STRIPE_API_BASE",
)


@lru_cache(maxsize=16)
def _headers_for(settings: tuple) -> tuple[tuple[str, tuple[str, str]], ...]:
    """(lower-case name, (name, value)) of each header, for these settings."""
    headers = security_headers(dict(zip(HEADER_SETTINGS, settings, strict=True)))
    return tuple((name.lower(), (name, value)) for name, value in headers.items())


class SecurityHeaders:
    """WSGI middleware that adds the security headers to every response the app sends, unless
    the response set that header itself.

    Done on the raw header list handed to the server rather than in an ``after_request``
    hook: Werkzeug's ``Headers.setdefault`` scans and validates the headers once per name,
    which cost a fifth of ``/healthz``'s time (docs/PERFORMANCE.md). Covers every response
    Flask makes, error pages included; the settings are read on each request, so a changed
    setting changes the headers at once.
    """

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.config = app.config

    def __call__(self, environ, start_response):
        config = self.config
        extra = _headers_for(tuple(config.get(key) for key in HEADER_SETTINGS))

        def with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend(header for lower, header in extra if lower not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, with_headers)


#: Loggers whose DEBUG records carry secrets, and the level they are capped at. Stripe's
#: DEBUG records hold whole API responses (client secrets of PaymentIntents and
#: SetupIntents); its INFO records name only the method and URL. SQLAlchemy's engine writes
#: every statement at INFO and result rows (session, manage and reset tokens, password
#: hashes) at DEBUG: capped at WARNING, because a logger enabled for INFO makes SQLAlchemy
#: build a record for every statement even when no handler prints it, which cost the
#: booking request a tenth of its time.
SECRET_BEARING_LOGGERS = {"stripe": logging.INFO, "sqlalchemy.engine": logging.WARNING}


def quiet_secret_bearing_loggers() -> None:
    """Keep secrets out of the logs when the root logger is set to DEBUG. An operator who set
    one of these loggers' level on purpose keeps it."""
    for name, level in SECRET_BEARING_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(level)


def init_app(app: Flask) -> None:
    """Send the security headers on every response; cookies are Secure in production; no
    secrets in the logs. Runs before the database extension creates its engine."""
    if is_production(app.config):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        if app.config.get("TRUSTED_HOSTS") is None:
            app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    # SQL parameters carry session, manage and reset tokens and password hashes: SQLAlchemy
    # leaves them out of its INFO records and of error messages (settings may switch it back).
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    quiet_secret_bearing_loggers()
    redaction.install()
    app.json = GuardedJSONProvider(app)
    app.wsgi_app = SecurityHeaders(app.wsgi_app, app)


class GuardedJSONProvider(DefaultJSONProvider):
    """JSON bodies too deeply nested to parse are bad input like any other: parsing raises
    ``ValueError``, so ``request.get_json`` answers 400 (or None when ``silent``), never a
    ``RecursionError`` and a 500."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def trusted_hosts(config) -> list[str]:
    """The ``Host`` names production answers: PUBLIC_URL's, plus ``ALLOWED_HOSTS`` (by
    default the loopback names a node's own health check uses). Any other host gets a 400
    from Flask before a view runs. Links never come from the request's host anyway
    (``absolute_url``); this keeps a mistaken proxy from serving the site under any name."""
    names = [urlsplit(config.get("PUBLIC_URL") or "").hostname or ""]
    names += [name.strip() for name in config.get("ALLOWED_HOSTS") or () if name.strip()]
    return list(dict.fromkeys(name for name in names if name))


# Start-up refusal ----------------------------------------------------------------------------


def check_settings(app: Flask) -> None:
    """Raise ``InsecureSettingsError`` (naming the setting) when production is misconfigured.

    Development and tests start with anything; production refuses a secret key anyone could
    know or that differs per node, the debugger, CSRF checks switched off, Stripe without a
    webhook secret, and the embedded SQLite file that every node would keep on its own.
    """
    config = app.config
    environment = config.get("CHAKRA_ENV")
    if environment not in ENVIRONMENTS:
        raise InsecureSettingsError(
            "CHAKRA_ENV", f"is {environment!r}; use one of: {', '.join(ENVIRONMENTS)}"
        )
    if not is_production(config):
        return
    if os.environ.get("CHAKRA_FAULT"):
        # Fault injection (tourism.faults) stops workers on purpose; it is for crash tests only.
        raise InsecureSettingsError("CHAKRA_FAULT", "is set (fault injection is for tests only)")
    secret = config.get("SECRET_KEY") or ""
    if not secret:
        raise InsecureSettingsError("SECRET_KEY", "is not set")
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise InsecureSettingsError(
            "SECRET_KEY", f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
        )
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists() and key_file.read_text().strip() == secret:
        raise InsecureSettingsError(
            "SECRET_KEY", "is the key generated for this machine under instance/; set one"
        )
    if app.debug or config.get("DEBUG"):
        raise InsecureSettingsError("DEBUG", "is on (unset FLASK_DEBUG)")
    if config.get("WTF_CSRF_ENABLED") is False:
        raise InsecureSettingsError("WTF_CSRF_ENABLED", "is off")
    if config.get("STRIPE_SECRET_KEY") and not config.get("STRIPE_WEBHOOK_SECRET"):
        raise InsecureSettingsError(
            "STRIPE_WEBHOOK_SECRET", "is missing while STRIPE_SECRET_KEY is set"
        )
    if config.get("SQLALCHEMY_DATABASE_URI") == default_database_uri(app.instance_path):
        raise InsecureSettingsError(
            "DATABASE_URL", "is not set (the embedded SQLite file is for development)"
        )
