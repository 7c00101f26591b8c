"""Forms of group quotes: the association's quote, and the requester's answer to it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..money import parse_amount
from .base import FlaskForm
from .public import PAYMENT_LABELS, choices

PRICING_LABELS = {
    "per_person": _l("Per person"),
    "total": _l("For the whole group"),
}

#: How a requester may pay a quote: the booking's card options, or a bank transfer.
QUOTE_PAYMENT_LABELS = {
    "card": PAYMENT_LABELS["card"],
    "deposit": PAYMENT_LABELS["deposit"],
    "bank_transfer": _l("Pay everything by bank transfer; the association confirms it"),
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
    day = DateField(_l("Day of the visit"), validators=[InputRequired()])
    start = TimeField(_l("Start time"), validators=[InputRequired()])
    valid_until = DateField(_l("The quote may be accepted until"), validators=[InputRequired()])

    def validate_amount(self, field) -> None:
        try:
            field.cents = parse_amount(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Write an amount like 25 or 25.50.")) from exc


class AcceptQuoteForm(FlaskForm):
    """Accepting a quote: how to pay."""

    payment_method = RadioField(_l("Payment"), validators=[InputRequired()])


def accept_form_for(experience, methods: list[str], **kwargs) -> AcceptQuoteForm:
    form = AcceptQuoteForm(**kwargs)
    form.payment_method.choices = choices(
        (m, str(QUOTE_PAYMENT_LABELS[m]) % {"percent": experience.deposit_percent}) for m in methods
    )
    if not form.is_submitted() and methods:
        form.payment_method.data = methods[0]
    return form
