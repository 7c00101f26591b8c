"""Chakra Routes: community agritourism bookings for the Ecuadorian Amazon."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import load_config
from .lean_requests import App
from .security import check_settings


def create_app(test_config: dict | None = None) -> Flask:
    """Assemble the application: settings, extensions, blueprints, errors, commands."""
    app = App(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    elif os.environ.get("CHAKRA_SETTINGS"):
        app.config.from_envvar("CHAKRA_SETTINGS")
    check_settings(app)  # production refuses unsafe settings before anything else runs

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    _trim_request_hooks(app)
    return app


def _trim_request_hooks(app: Flask) -> None:
    """Hooks that ran on every request to find nothing to do run only when they can."""
    from .lean_requests import check_csrf_only_on_methods_it_covers, remember_cookie_only_when_asked
    from .routes.limits import skip_idle_request_check, skip_untouched_request_hooks

    skip_idle_request_check(app)
    skip_untouched_request_hooks(app)
    remember_cookie_only_when_asked(app)
    check_csrf_only_on_methods_it_covers(app)


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from . import models  # noqa: F401  (every table registered before migrations look)
    from .database import configure_engine, engine_options
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import select_locale
    from .page_cache import init_app as init_page_cache
    from .response_cache import init_app as init_response_cache
    from .security import init_app as init_security
    from .services.access import audit
    from .static_files import init_app as init_static_files
    from .unit_of_work import init_app as init_unit_of_work

    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind a reverse proxy: take the client address (for rate limits) from the
        # X-Forwarded-For header the proxy sets, trusting only that many proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1, x_host=0
        )

    init_security(app)
    init_response_cache(app)
    init_static_files(app)  # url_for('static', ...) gives content-hashed names
    init_page_cache(app)  # compression, ETags and Cache-Control of pages
    # Registered before the database so it runs after the request's session is removed
    # (teardowns run in reverse): events logged apart get their own transaction.
    app.teardown_appcontext(audit.flush_deferred)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    # After the database: its teardown (leftover after-commit effects) runs before the
    # session is removed.
    init_unit_of_work(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    _configure_limit_storage(app)
    limiter.init_app(app)
    # The limiter is one object for every app of the process; its "store unreachable, count
    # in memory" flag belongs to the store it had before, not to this app's new one.
    limiter._storage_dead = False
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.localize_callback = str  # the lazy message is translated when flashed
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str):
        from .services.access.accounts import user_for_session

        return user_for_session(db.session, token)


def _configure_limit_storage(app: Flask) -> None:
    """A rate-limit store that cannot be reached is logged and bypassed: each process then
    counts the same limits in its own memory until the store answers again (docs/SECURITY.md),
    and never waits long on it."""
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options


def register_blueprints(app: Flask) -> None:
    from .routes import (
        api,
        api_routes,  # noqa: F401  (adds the route endpoints to ``api.bp``)
        auth,
        bookings,
        groups,
        guide,
        itineraries,
        manage,
        media,
        octo,
        public,
        revenue_reports,  # noqa: F401  (adds the revenue reports' endpoints to ``treasury.bp``)
        route_card_pages,  # noqa: F401  (adds the card payment endpoints to ``itineraries.bp``)
        treasury,
        waitlist,
        webhooks,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(guide.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(octo.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(treasury.bp)
    app.register_blueprint(itineraries.bp)
    app.register_blueprint(waitlist.bp)
    app.register_blueprint(groups.bp)


def register_errorhandlers(app: Flask) -> None:
    from .routes import errors, guards

    guards.register(app)
    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from .routes.helpers import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
