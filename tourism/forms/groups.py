"""Forms of the group features: joining a waiting list, taking an offer, and the minimum
participants an experience needs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, RadioField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from .. import vocabulary
from ..services.booking import lifecycle
from ..services.booking.lifecycle import LIMITS
from ..services.operations.minimums import MAX_CUTOFF_HOURS, MAX_MINIMUM
from .base import FlaskForm
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
            Email(message=_l("Please give a valid email address.")),
        ],
    )
    phone = TelField(
        _l("Phone (with country code)"),
        validators=[DataRequired(), Length(max=LIMITS["phone"])],
    )
    country = SelectField(_l("Country"), validators=[DataRequired()])
    language = SelectField(_l("Language for messages"), validators=[DataRequired()])

    def validate_phone(self, field) -> None:
        if field.data and not lifecycle.phone_is_callable(field.data.strip()):
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
