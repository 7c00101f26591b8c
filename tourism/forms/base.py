"""The base classes every form here derives from: ``FlaskForm`` for a page's form, ``Form``
for one nested in it. Both refuse control characters in every text field: a one-line field
(StringField and its kinds) takes none at all, a text area tabs and line breaks only
(tourism/text_input.py)."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

import flask_wtf
import wtforms
from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from markupsafe import escape
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError

from .. import email_addresses
from ..text_input import has_control_characters

ONE_LINE = _l("Please write this on one line, without special characters.")
TEXT = _l("Please remove the special characters from this text.")


def no_control_characters(_form, field) -> None:
    multiline = isinstance(field, TextAreaField)
    if isinstance(field.data, str) and has_control_characters(field.data, multiline):
        raise ValidationError(TEXT if multiline else ONE_LINE)


class ValidEmail:
    """A valid email address, by the rule the services apply (``email_addresses``)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, _form, field) -> None:
        try:
            email_addresses.normalised(field.data or "")
        except email_addresses.EmailNotValidError as error:
            raise ValidationError(self.message) from error


class _CleanTextMeta:
    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [*field.validators, no_control_characters]
        return field


#: A form page's key, as ``new_submission_key`` draws it (128 random bits).
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{22}")


def new_submission_key() -> str:
    return secrets.token_urlsafe(16)


class SentOnce:
    """For a form whose sending makes something (a booking, a group's request): the page's
    own random key. What the form makes keeps it, so the same page sent again (a double
    click, a slow connection) finds what the first sending made instead of making it again
    (``Booking.submission_key``, ``GroupRequest.submission_key``). Drawn when the page is
    built; a key that is missing or not one of ours only means the sending is not
    recognised as a repeat."""

    submission = HiddenField(default=new_submission_key)

    def submission_key(self) -> str | None:
        """The key the page was sent with, if it is one of ours (not the one drawn for a
        form sent without any)."""
        sent = self.submission.raw_data
        key = sent[0] if sent else None
        return key if isinstance(key, str) and SUBMISSION_KEY.fullmatch(key) else None


@lru_cache(maxsize=16)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _CachedTranslationsMeta:
    """WTForms' own messages ("Not a valid choice") in the visitor's language, read from
    their catalog once per language; Flask-WTF read the file again for every request that
    built a form."""

    def get_translations(self, form):
        if not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)
        return _wtforms_translations(str(get_locale()))


class _TokenWhenShown:
    """The form's CSRF token, signed when the page shows it. A sent form that is not shown
    again (a booking that redirects) signs none: the sent token was checked, and signing the
    next one is a fifth of the form's cost."""

    __slots__ = ("_meta", "_token")

    def __init__(self, meta) -> None:
        self._meta = meta
        self._token: str | None = None

    def __str__(self) -> str:
        if self._token is None:
            self._token = generate_csrf(self._meta.csrf_secret, self._meta.csrf_field_name)
        return self._token

    def __html__(self) -> str:
        return str(escape(str(self)))


class _CSRFWhenShown(_FlaskFormCSRF):
    def generate_csrf_token(self, csrf_token_field):
        return _TokenWhenShown(self.meta)


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(_CleanTextMeta, _CachedTranslationsMeta, flask_wtf.FlaskForm.Meta):
        csrf_class = _CSRFWhenShown


class Form(wtforms.Form):
    class Meta(_CleanTextMeta, DefaultMeta):
        pass
