"""Forms of the sales channels: a reseller of an association."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError

from ..money import parse_amount
from ..services.booking.contact_details import phone_is_callable
from ..services.channels.resellers import ResellerInput
from .base import FlaskForm, ValidEmail
from .manage import BAD_CHOICE, REQUIRED, MultiCheckboxField, text_field, too_long

COMMISSION_HINT = _l("A percent from 0 to 100, with at most two decimals (e.g. 12.5).")


#: A percent as people write one: digits, and at most two decimals after a point or a comma.
#: (``Decimal`` alone would also read "1e2" as 100, "1_0" as 10 and "١٠" as 10.)
_PERCENT = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,2})?")


def commission_bp(text: str) -> int | None:
    """``"12,5"`` or ``"12.5"`` percent as basis points (1250); ``None`` when it is not one."""
    text = (text or "").strip()
    if not _PERCENT.fullmatch(text):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


class ResellerForm(FlaskForm):
    name = text_field(_l("Name"), 120, required=True)
    contact_email = EmailField(
        _l("Contact email"),
        validators=[
            InputRequired(message=REQUIRED),
            Length(max=254, message=too_long(254)),
            # It stands as the contact of the reseller's reservations until a guest is
            # named, so it must pass the check every booking's email passes.
            ValidEmail(message=_l("Please give a valid email address.")),
        ],
    )
    contact_phone = TelField(
        _l("Contact phone"),
        validators=[InputRequired(message=REQUIRED), Length(max=40, message=too_long(40))],
    )
    commission = StringField(
        _l("Commission (percent of the price)"),
        validators=[InputRequired(message=REQUIRED), Length(max=10, message=too_long(10))],
    )
    prepaid = BooleanField(_l("It collects the guests' money itself (prepaid)"))
    experiences = MultiCheckboxField(
        _l("Experiences it may sell"), choices=[], invalid_choice_message=BAD_CHOICE
    )

    def offer_experiences(self, experiences) -> None:
        """The association's experiences, as ``(experience, title)`` pairs."""
        self.experiences.choices = [(str(e.id), title) for e, title in experiences]

    def validate_commission(self, field) -> None:
        if commission_bp(field.data) is None:
            raise ValidationError(COMMISSION_HINT)

    def validate_contact_phone(self, field) -> None:
        if field.data and not phone_is_callable(field.data.strip()):
            raise ValidationError(
                _l("Please give a phone number we can call, with its country code.")
            )

    def to_input(self) -> ResellerInput:
        return ResellerInput(
            name=self.name.data,
            contact_email=self.contact_email.data,
            contact_phone=self.contact_phone.data,
            commission_bp=commission_bp(self.commission.data) or 0,
            experience_ids=[int(value) for value in self.experiences.data or []],
            prepaid=bool(self.prepaid.data),
        )


class RateForm(FlaskForm):
    """The reseller's commission on one experience; left empty, its usual commission."""

    commission = StringField(
        _l("Commission on this experience (percent)"),
        validators=[Length(max=10, message=too_long(10))],
    )

    def validate_commission(self, field) -> None:
        if (field.data or "").strip() and commission_bp(field.data) is None:
            raise ValidationError(COMMISSION_HINT)

    net_rate = StringField(
        _l("Or a net rate: what it pays you per ticket (USD)"),
        validators=[Length(max=12, message=too_long(12))],
    )

    def validate_net_rate(self, field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        if (self.commission.data or "").strip():
            raise ValidationError(_l("Give either a commission or a net rate, not both."))
        try:
            parse_amount(text)
        except ValueError as exc:
            raise ValidationError(_l("Write an amount like 25 or 25.50.")) from exc

    def commission_bp(self) -> int | None:
        """Basis points, or ``None`` for "its usual commission"."""
        return commission_bp(self.commission.data) if (self.commission.data or "").strip() else None

    def net_cents(self) -> int | None:
        """The net rate in cents, or ``None`` for a commission."""
        text = (self.net_rate.data or "").strip()
        return parse_amount(text) if text else None
