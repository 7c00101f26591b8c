"""Forms of group quotes: the association's quote (new or changed), the requester's answer
to it, and a group's bank transfer paid back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..money import parse_amount
from .base import FlaskForm
from .manage import near_today, not_too_far
from .public import PAYMENT_LABELS, WholeNumberRange, choices

PRICING_LABELS = {
    "per_person": _l("Per person"),
    "total": _l("For the whole group"),
}

#: How a requester may pay a quote: the booking's card options, or a bank transfer.
QUOTE_PAYMENT_LABELS = {
    "card": PAYMENT_LABELS["card"],
    "deposit": PAYMENT_LABELS["deposit"],
    "bank_transfer": _l("Pay everything by bank transfer; the association confirms it"),
    "on_arrival": PAYMENT_LABELS["on_arrival"],
}


class QuoteForm(FlaskForm):
    """A price for a group request, the private departure's day and time, and its expiry."""

    pricing = RadioField(
        _l("The price is"),
        choices=choices(PRICING_LABELS.items()),
        default="per_person",
        validators=[InputRequired()],
    )
    amount = StringField(_l("Price (USD)"), validators=[DataRequired()])
    day = DateField(_l("Day of the visit"), validators=[InputRequired(), not_too_far])
    start = TimeField(_l("Start time"), validators=[InputRequired()])
    valid_until = DateField(
        _l("The quote may be accepted until"), validators=[InputRequired(), not_too_far]
    )
    group_size = IntegerField(
        _l("People in the group"),
        validators=[
            Optional(),
            WholeNumberRange(
                min=1, max=200, message=_l("Give a number of people from %(min)s to %(max)s.")
            ),
        ],
    )
    pay_on_arrival = BooleanField(_l("The group may pay on arrival, in cash"))

    def validate_amount(self, field) -> None:
        field.cents = _cents(field.data)


def _cents(text: str | None) -> int:
    try:
        return parse_amount(text or "")
    except ValueError as exc:
        raise ValidationError(_l("Write an amount like 25 or 25.50.")) from exc


class QuoteChoiceForm(FlaskForm):
    """The quote the requester saw when they answered (empty: the latest)."""

    quote_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


class AcceptQuoteForm(QuoteChoiceForm):
    """Accepting a quote: how to pay."""

    payment_method = RadioField(_l("Payment"), validators=[InputRequired()])


class TransferRefundForm(FlaskForm):
    """The treasurer paid a group's bank transfer back by bank transfer."""

    amount = StringField(_l("Amount paid back (USD)"), validators=[DataRequired()])
    paid_on = DateField(_l("Day of the transfer"), validators=[InputRequired(), near_today])
    reference = StringField(_l("Bank reference"), validators=[DataRequired()])

    def validate_amount(self, field) -> None:
        field.cents = _cents(field.data)


def accept_form_for(experience, methods: list[str], **kwargs) -> AcceptQuoteForm:
    form = AcceptQuoteForm(**kwargs)
    offer_methods(form, experience, methods)
    return form


def offer_methods(form: AcceptQuoteForm, experience, methods: list[str]) -> None:
    """The payment methods ``form`` offers (the first chosen on a fresh form)."""
    form.payment_method.choices = choices(
        (m, str(QUOTE_PAYMENT_LABELS[m]) % {"percent": experience.deposit_percent}) for m in methods
    )
    if not form.is_submitted() and methods:
        form.payment_method.data = methods[0]
