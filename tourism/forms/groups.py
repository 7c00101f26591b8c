"""Forms of the group features: joining a waiting list, taking an offer, and the minimum
participants an experience needs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from .. import vocabulary
from ..services.booking.contact_details import LIMITS, phone_is_callable
from ..services.groups.requests import LIMITS as REQUEST_LIMITS
from ..services.groups.requests import MAX_GROUP
from ..services.operations.minimums import MAX_CUTOFF_HOURS, MAX_MINIMUM
from .base import FlaskForm, SentOnce, ValidEmail
from .manage import not_too_far
from .public import PAYMENT_LABELS, WholeNumberRange, choices, country_choices


class WaitlistForm(FlaskForm):
    """Who to tell when seats free up on a sold-out departure, and how many they are."""

    people = IntegerField(_l("People in your party"), validators=[InputRequired()])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=LIMITS["name"])])
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(),
            Length(max=LIMITS["email"]),
            ValidEmail(message=_l("Please give a valid email address.")),
        ],
    )
    phone = TelField(
        _l("Phone (with country code)"),
        validators=[DataRequired(), Length(max=LIMITS["phone"])],
    )
    country = SelectField(_l("Country"), validators=[DataRequired()])
    language = SelectField(_l("Language for messages"), validators=[DataRequired()])

    def validate_phone(self, field) -> None:
        if field.data and not phone_is_callable(field.data.strip()):
            raise ValidationError(
                _l("Please give a phone number we can call, with its country code.")
            )


def waitlist_form_for(experience, locale: str, languages: list[str], **kwargs) -> WaitlistForm:
    form = WaitlistForm(**kwargs)
    limit = experience.max_tickets_per_booking
    form.people.validators = [
        InputRequired(),
        WholeNumberRange(
            min=1, max=limit, message=_l("Give a number of people from %(min)s to %(max)s.")
        ),
    ]
    form.country.choices = choices(country_choices(locale))
    form.language.choices = choices((code, vocabulary.LANGUAGES[code]) for code in languages)
    if not form.is_submitted():
        form.language.data = locale
        form.people.data = 1
    return form


class OfferForm(FlaskForm):
    """Taking the seats a waiting list offered: how to pay."""

    payment_method = RadioField(_l("Payment"), validators=[InputRequired()])


def offer_form_for(experience, methods: list[str], **kwargs) -> OfferForm:
    form = OfferForm(**kwargs)
    form.payment_method.choices = choices(
        (m, str(PAYMENT_LABELS[m]) % {"percent": experience.deposit_percent}) for m in methods
    )
    if not form.is_submitted() and methods:
        form.payment_method.data = methods[0]
    return form


class MinimumForm(FlaskForm):
    """The visitors a departure needs to run, and when that is decided."""

    min_participants = IntegerField(
        _l("Minimum visitors per departure (0: no minimum)"),
        validators=[
            InputRequired(),
            WholeNumberRange(
                min=0,
                max=MAX_MINIMUM,
                message=_l("The minimum must be between %(min)s and %(max)s."),
            ),
        ],
    )
    min_cutoff_hours = IntegerField(
        _l("Decided this many hours before the start"),
        validators=[
            InputRequired(),
            WholeNumberRange(
                min=1,
                max=MAX_CUTOFF_HOURS,
                message=_l("Give the cutoff in hours, from %(min)s to %(max)s."),
            ),
        ],
    )


REQUESTER_KINDS = {
    "school": _l("A school or college"),
    "agency": _l("A travel agency or tour operator"),
    "family": _l("A family or friends"),
    "other": _l("Other"),
}


class GroupRequestForm(SentOnce, FlaskForm):
    """A private visit for a group: who asks, when, how many, in which language, needs."""

    requester_kind = SelectField(_l("Who is asking"), validators=[DataRequired()])
    group_size = IntegerField(
        _l("People in the group"),
        validators=[
            InputRequired(),
            WholeNumberRange(
                min=1, max=MAX_GROUP, message=_l("Give a number of people from %(min)s to %(max)s.")
            ),
        ],
    )
    # InputRequired, not DataRequired: a day that does not exist (30 February) is "not a
    # valid date", not "required".
    date_from = DateField(
        _l("Day of the visit (or first possible day)"), validators=[InputRequired(), not_too_far]
    )
    date_to = DateField(_l("Last possible day (optional)"), validators=[Optional(), not_too_far])
    language = SelectField(_l("Language of the group"), validators=[DataRequired()])
    needs = TextAreaField(
        _l("Needs and wishes (ages, diet, mobility, transport)"),
        validators=[Optional(), Length(max=REQUEST_LIMITS["needs"])],
    )
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=LIMITS["name"])])
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(),
            Length(max=LIMITS["email"]),
            ValidEmail(message=_l("Please give a valid email address.")),
        ],
    )
    phone = TelField(
        _l("Phone (with country code, optional)"),
        validators=[Optional(), Length(max=LIMITS["phone"])],
    )

    def validate_phone(self, field) -> None:
        if field.data and not phone_is_callable(field.data.strip()):
            raise ValidationError(
                _l("Please give a phone number we can call, with its country code.")
            )


def group_request_form_for(locale: str, languages: list[str], **kwargs) -> GroupRequestForm:
    form = GroupRequestForm(**kwargs)
    form.requester_kind.choices = choices(
        (code, str(label)) for code, label in REQUESTER_KINDS.items()
    )
    form.language.choices = choices((code, vocabulary.LANGUAGES[code]) for code in languages)
    if not form.is_submitted():
        form.language.data = locale
    return form


class MessageForm(FlaskForm):
    """One message in a group request's thread."""

    body = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(), Length(max=REQUEST_LIMITS["message"])],
    )


class WithdrawQuoteForm(FlaskForm):
    """Withdraw a quote, with the association's own words of why (optional)."""

    reason = TextAreaField(
        _l("Why (optional: the group reads it in the email and on this page)"),
        validators=[Optional(), Length(max=REQUEST_LIMITS["message"])],
    )
