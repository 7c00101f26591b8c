"""Chakra Routes: community agritourism bookings for the Ecuadorian Amazon."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import load_config


def create_app(test_config: dict | None = None) -> Flask:
    """Assemble the application: settings, extensions, blueprints, errors, commands."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    elif os.environ.get("CHAKRA_SETTINGS"):
        app.config.from_envvar("CHAKRA_SETTINGS")

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table registered before migrations look)
    from .database import configure_engine
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str):
        from .services.accounts import user_for_session

        return user_for_session(db.session, token)


def register_blueprints(app: Flask) -> None:
    from .routes import api, auth, bookings, guide, manage, public, webhooks

    app.register_blueprint(auth.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(guide.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)


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
