"""Forms for signing in, resetting a password and accepting an invitation.

They check shape only (present, not too long, typed twice alike); whether a password is
strong enough or a link still works is the accounts service's rule.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .base import FlaskForm, ValidEmail

#: As long as any email address can be (RFC 5321).
EMAIL_MAX = 254
#: Generous for passphrases, small enough that hashing one costs nothing unusual.
PASSWORD_MAX = 1000
NAME_MAX = 160


def _email_field(check_format: bool) -> EmailField:
    validators = [
        DataRequired(message=_l("Please give your email address.")),
        Length(max=EMAIL_MAX, message=_l("This email address is too long.")),
    ]
    if check_format:
        validators.append(ValidEmail(message=_l("Please give a valid email address.")))
    return EmailField(_l("Email"), validators=validators)


def _password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Please give your password.")),
            Length(max=PASSWORD_MAX, message=_l("This password is too long.")),
        ],
    )


def _repeat_field() -> PasswordField:
    return PasswordField(
        _l("New password, again"),
        validators=[
            DataRequired(message=_l("Please type the new password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class LoginForm(FlaskForm):
    # No format check: a mistyped address just fails like any wrong login.
    email = _email_field(check_format=False)
    password = _password_field(_l("Password"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field(check_format=True)


class ResetPasswordForm(FlaskForm):
    password = _password_field(_l("New password"))
    confirm = _repeat_field()


class InvitationForm(FlaskForm):
    """For an invitee without an account: their name and a new password."""

    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(message=_l("Please give your name.")),
            Length(max=NAME_MAX, message=_l("This name is too long.")),
        ],
    )
    password = _password_field(_l("New password"))
    confirm = _repeat_field()


class InvitationSignInForm(FlaskForm):
    """For an invitee who already has an account: its password, to prove it is theirs."""

    password = _password_field(_l("Password"))
