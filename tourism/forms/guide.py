"""Forms of the guide pages: time off, check-in by reference, cash, assigning guides."""

from __future__ import annotations

from datetime import date, time, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import GuideRole
from ..money import parse_amount
from ..timefmt import local_to_utc, local_today
from .base import FlaskForm
from .public import choices

ROLE_LABELS = {GuideRole.LEAD.value: _l("Lead guide"), GuideRole.ASSISTANT.value: _l("Assistant")}


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in, only the CSRF token."""


class TimeOffForm(FlaskForm):
    """Whole days off, from the first to the last day, in local time."""

    association_id = SelectField(_l("Association"), coerce=int, validators=[DataRequired()])
    first_day = DateField(_l("First day off"), validators=[DataRequired()])
    last_day = DateField(_l("Last day off"), validators=[DataRequired()])
    note = StringField(
        _l("Note for the staff (optional)"), validators=[Optional(), Length(max=200)]
    )

    def validate_first_day(self, field) -> None:
        if field.data and field.data < local_today():
            raise ValidationError(_l("Choose a day from today on."))
        if field.data and field.data > local_today() + timedelta(days=730):
            raise ValidationError(_l("Choose a day within the next two years."))

    def validate_last_day(self, field) -> None:
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("The last day cannot be before the first day."))
        # Checked here too, before ``period`` counts the day after it (9999-12-31 has none).
        if field.data and field.data > local_today() + timedelta(days=730 + 366):
            raise ValidationError(
                _l("The time off must end after it starts, and last at most a year.")
            )

    def period(self):
        """The days as a UTC range: local midnight of the first day to the day after the last."""
        first: date = self.first_day.data
        last: date = self.last_day.data
        return local_to_utc(first, time(0)), local_to_utc(last + timedelta(days=1), time(0))


class ReferenceForm(FlaskForm):
    reference = StringField(
        _l("Booking reference"),
        validators=[DataRequired(message=_l("Type the booking reference.")), Length(max=30)],
    )


class CashForm(FlaskForm):
    amount = StringField(
        _l("Cash received (USD)"),
        validators=[DataRequired(message=_l("Write the amount received.")), Length(max=12)],
    )
    #: Generated with the page, so a form sent twice records the cash once.
    client_ref = HiddenField(validators=[Optional(), Length(max=64)])

    def validate_amount(self, field) -> None:
        try:
            cents = parse_amount(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Write an amount like 25 or 25.50.")) from exc
        if cents <= 0:
            raise ValidationError(_l("Enter an amount of cash greater than zero."))

    def cents(self) -> int:
        return parse_amount(self.amount.data)


class AssignGuideForm(FlaskForm):
    user_id = SelectField(_l("Guide"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])

    def __init__(self, guides, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_id.choices = choices((user.id, user.name) for user in guides)
        self.role.choices = choices(ROLE_LABELS.items())
