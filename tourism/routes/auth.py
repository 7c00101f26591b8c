"""Signing in and out, password resets and invitations.

Sessions: the cookie holds the user's ``session_token`` (``User.get_id``), not the user id.
Signing out gives the user a new token, so every cookie issued before (on this browser, a
stolen copy, another device) stops working at once, on every node.
"""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms.auth import (
    ForgotPasswordForm,
    InvitationForm,
    InvitationSignInForm,
    LoginForm,
    ResetPasswordForm,
)
from ..i18n import LOCALE_COOKIE, available_locales, current_locale
from ..models import Role, User
from ..services.access import accounts, audit, tenancy
from ..services.messages import account_emails, links
from ..services.messages import outbox as notifications
from ..unit_of_work import unit_of_work
from .redirects import safe_next

bp = Blueprint("auth", __name__)

#: Where people land after signing in when no page asked for it.
MANAGE_HOME = "/manage/"
GUIDE_HOME = "/guide/"


# --- Rate limits ------------------------------------------------------------------------------


def _ip_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]


def _submitted_account() -> str:
    """The rate-limit key of the account a form names: its normalised email, hashed so the
    limiter's storage (Redis in production) holds no addresses. Without an email, the IP."""
    email = accounts.normalize_email(str(request.form.get("email", "")))[:500]
    if not email:
        return f"ip:{get_remote_address()}"
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _limited_per_ip(view):
    """Form posts per client IP: each one may hash a password (64 MiB of argon2)."""
    return limiter.limit(_ip_limit, methods=["POST"], scope="ip")(view)


def _limited(view):
    """Per IP and per account (the submitted email), on form posts only."""
    view = limiter.limit(
        _account_limit, key_func=_submitted_account, methods=["POST"], scope="account"
    )(view)
    return _limited_per_ip(view)


def _failed(response: Response) -> bool:
    """A sign-in that did not succeed: anything but the redirect into the account."""
    return response.status_code != 303


def _limited_sign_in(view):
    """Sign-in: per IP on every attempt, per account on failed attempts only. A person who
    signs in and out six times a minute (a shared phone, a guide re-opening the app) is not
    guessing; an account under attack is still closed after a few wrong passwords, and then
    even the right one waits."""
    view = limiter.limit(
        _account_limit,
        key_func=_submitted_account,
        methods=["POST"],
        scope="account",
        deduct_when=_failed,
    )(view)
    return _limited_per_ip(view)


@bp.context_processor
def _password_rules() -> dict:
    return {"min_length": accounts.MIN_PASSWORD_LENGTH}


@bp.after_request
def _private(response: Response) -> Response:
    # These pages carry CSRF tokens and one-time links: never cached, never in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- Helpers ----------------------------------------------------------------------------------


def landing_page(user: User) -> str:
    """Management for admins and staff, the guide pages for guides, else the catalog."""
    if tenancy.association_ids(user, tenancy.MANAGERS) != set():
        return MANAGE_HOME
    if tenancy.association_ids(user, (Role.GUIDE,)):
        return GUIDE_HOME
    return url_for("public.index")


def _sign_in(user: User, destination: str) -> Response:
    """Start ``user``'s session in a fresh cookie (the view has committed the token)."""
    locale = user.locale
    # A new session, not the one the visitor had before: nothing planted in it survives.
    session.clear()
    login_user(user)
    response = redirect(destination, code=303)
    if locale in available_locales():
        response.set_cookie(
            LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


# --- Signing in and out -----------------------------------------------------------------------


def _login_page(form, target, status=200, error=None):
    return render_template("auth/login.html", form=form, next=target, error=error), status


@bp.route("/login", methods=["GET", "POST"])
@_limited_sign_in
def login():
    """Email and password; then the page that sent the visitor here, or their home."""
    form = LoginForm()
    target = safe_next(request.args.get("next"))
    if not form.is_submitted():
        return _login_page(form, target)
    if not form.validate():
        return _login_page(form, target, status=400)
    with unit_of_work():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            accounts.start_session(user)  # and a re-hashed password, if authenticate upgraded it
            audit.record(db.session, audit.LOGIN_SUCCEEDED, actor=user)
            destination = target or landing_page(user)
    if user is None:
        audit.record_apart(audit.LOGIN_FAILED, actor=(form.email.data or "").strip().lower())
        return _login_page(form, target, status=400, error=_("Email or password is not correct."))
    return _sign_in(user, destination)


@bp.post("/logout")
def logout():
    """End every session of the account, not just this browser's."""
    if current_user.is_authenticated:
        with unit_of_work():
            accounts.end_all_sessions(current_user._get_current_object())
            audit.record(db.session, audit.LOGOUT)
    logout_user()
    session.clear()
    flash(_("You have signed out, on this device and every other."))
    response = redirect(url_for("public.index"), code=303)
    # What this browser kept of the signed-in pages goes with the session: a guide's stored
    # manifests hold visitors' phones and health notes (docs/decisions.md).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# --- Password reset ---------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@_limited
def forgot_password():
    """Send a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if not form.is_submitted():
        return render_template("auth/forgot.html", form=form)
    if not form.validate():
        return render_template("auth/forgot.html", form=form), 400
    # The email leaves after the answer: the page must not take longer when the address has
    # an account (an SMTP round trip would tell).
    with unit_of_work(effects_after_response=True):
        found = accounts.request_password_reset(db.session, form.email.data, utcnow())
        audit.record(
            db.session,
            audit.PASSWORD_RESET_REQUESTED,
            actor=found[0] if found else (form.email.data or "").strip().lower(),
            detail="" if found else "no such account",
        )
        if found is not None:
            user, raw = found
            notifications.queue_account_email(
                db.session,
                kind=account_emails.PASSWORD_RESET,
                key=accounts.link_key(raw),
                recipient=user.email,
                language=user.locale or current_locale(),
                url=links.absolute_url("auth.reset_password", token=raw),
            )
    return redirect(url_for("auth.forgot_password_sent"), code=303)


@bp.get("/password/forgot/sent")
def forgot_password_sent():
    return render_template("auth/forgot_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@_limited_per_ip
def reset_password(token: str):
    """Choose a new password through the emailed link; then sign in with it."""
    accounts.valid_link(db.session, token, "reset", utcnow())  # else 404 with a clear message
    form = ResetPasswordForm()
    if not form.is_submitted():
        return render_template("auth/reset.html", form=form, token=token)
    if not form.validate():
        return render_template("auth/reset.html", form=form, token=token), 400
    try:
        with unit_of_work():
            user = accounts.reset_password(db.session, token, form.password.data, utcnow())
            audit.record(db.session, audit.PASSWORD_RESET_COMPLETED, actor=user)
    except accounts.InvalidLink:
        raise
    except DomainError as error:
        page = render_template("auth/reset.html", form=form, token=token, error=str(error))
        return page, error.status_code
    flash(_("Your password has been changed. Sign in with it now."))
    return redirect(url_for("auth.login"), code=303)


# --- Invitations ------------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@_limited_per_ip
def accept_invitation(token: str):
    """Join an association: a new account (name and password), or an existing one (its
    password); then the invitee is signed in."""
    invitation = accounts.open_invitation(db.session, token, utcnow())
    form = InvitationSignInForm() if invitation.has_account else InvitationForm()

    def page(status=200, error=None):
        body = render_template(
            "auth/invitation.html",
            form=form,
            invitation=invitation,
            role=account_emails.role_label(invitation.role.value),
            token=token,
            error=error,
        )
        return body, status

    if not form.is_submitted():
        return page()
    if not form.validate():
        return page(400)
    name = form.name.data if not invitation.has_account else ""
    try:
        with unit_of_work():
            user = accounts.accept_invitation(db.session, token, name, form.password.data, utcnow())
            accounts.start_session(user)
            destination = landing_page(user)
    except accounts.InvalidLink:
        raise
    except DomainError as error:
        return page(error.status_code, str(error))
    flash(_("Welcome to %(association)s.", association=invitation.association.name))
    return _sign_in(user, destination)
