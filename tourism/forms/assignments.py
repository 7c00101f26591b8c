"""Forms for guides on many departures: a schedule's default guides (a lead, assistants) and
one guide assigned to ticked departures or to every departure between two days."""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from ..models import GuideRole, User
from ..services.operations.assignments import Selection
from .base import FlaskForm
from .guide import ROLE_LABELS
from .manage import BAD_CHOICE, REQUIRED, MultiCheckboxField, ScheduleForm, date_field
from .public import choices

#: Which departures a batch is for.
SELECTED, RANGE = "selected", "range"


class DefaultGuidesFields:
    """A lead (or none) and assistants, chosen among the association's guides.

    Mixed into a ``FlaskForm``; call ``offer_guides`` before validating."""

    lead_id = SelectField(_l("Lead guide"), default="", invalid_choice_message=BAD_CHOICE)
    #: No ``Optional()``: it would clear the "not a valid choice" error of an empty value
    #: (``assistant_ids=``) and let it through; an empty list is valid without it.
    assistant_ids = MultiCheckboxField(_l("Assistants"), invalid_choice_message=BAD_CHOICE)

    def offer_guides(self, guides: list[User]) -> None:
        self._guides = {str(user.id): user for user in guides}
        names = [(str(user.id), user.name) for user in guides]
        self.lead_id.choices = [("", _l("No lead guide"))] + names
        self.assistant_ids.choices = names

    def validate_assistant_ids(self, field) -> None:
        if self.lead_id.data and self.lead_id.data in (field.data or ()):
            raise ValidationError(_l("The lead guide cannot be an assistant as well."))

    def chosen_guides(self) -> tuple[tuple[User, GuideRole], ...]:
        chosen = []
        if self.lead_id.data:
            chosen.append((self._guides[self.lead_id.data], GuideRole.LEAD))
        chosen += [
            (self._guides[key], GuideRole.ASSISTANT) for key in self.assistant_ids.data or ()
        ]
        return tuple(chosen)


class NewScheduleForm(DefaultGuidesFields, ScheduleForm):
    """A weekly schedule with its default guides."""

    def to_input(self):
        return dataclasses.replace(super().to_input(), guides=self.chosen_guides())


class DefaultGuidesForm(DefaultGuidesFields, FlaskForm):
    give_to_coming = BooleanField(
        _l("Also give them to this schedule's coming departures"), default=True
    )


class BulkAssignForm(FlaskForm):
    """One guide, as lead or assistant, for the ticked departures or for a date range."""

    guide_id = SelectField(
        _l("Guide"), validators=[InputRequired(message=REQUIRED)], invalid_choice_message=BAD_CHOICE
    )
    role = SelectField(
        _l("Role"),
        choices=choices(ROLE_LABELS.items()),
        default=GuideRole.LEAD.value,
        invalid_choice_message=BAD_CHOICE,
    )
    scope = RadioField(
        _l("Which departures"),
        choices=choices(
            [
                (SELECTED, _l("The departures ticked in the list")),
                (RANGE, _l("Every departure between two days")),
            ]
        ),
        default=SELECTED,
        validators=[InputRequired(message=REQUIRED)],
        invalid_choice_message=BAD_CHOICE,
    )
    departure_ids = MultiCheckboxField(_l("Departures"), invalid_choice_message=BAD_CHOICE)
    first_day = date_field(_l("First day"), required=False)
    last_day = date_field(_l("Last day"), required=False)
    #: The button under the list: the ticked departures, whatever the radio says.
    assign_ticked = SubmitField(_l("Assign to the ticked departures"))

    def offer(self, guides: list[User], departure_ids: list[int]) -> None:
        self._guides = {str(user.id): user for user in guides}
        self.guide_id.choices = [(str(user.id), user.name) for user in guides]
        self.departure_ids.choices = [(str(i), str(i)) for i in departure_ids]

    def validate(self, extra_validators=None) -> bool:
        # The button under the list means the ticked departures, whatever the radio says.
        if self.assign_ticked.data:
            self.scope.data = SELECTED
            self.scope.raw_data = [SELECTED]
        valid = super().validate(extra_validators)
        # Checked here: an empty list passes the field's own choice check.
        if self.scope.data == SELECTED and not self.departure_ids.errors:
            if not self.departure_ids.data:
                self.departure_ids.errors.append(_l("Tick at least one departure in the list."))
                valid = False
        if self.scope.data == RANGE and not (self.first_day.errors or self.last_day.errors):
            first, last = self.first_day.data, self.last_day.data
            if first is None or last is None:
                self.last_day.errors.append(_l("Give the first and the last day."))
                valid = False
            elif last < first:
                self.last_day.errors.append(_l("The last day must not be before the first day."))
                valid = False
        return valid

    def guide(self) -> User:
        return self._guides[self.guide_id.data]

    def selection(self) -> Selection:
        if self.scope.data == RANGE:
            return Selection(first_day=self.first_day.data, last_day=self.last_day.data)
        return Selection(departure_ids=tuple(int(i) for i in self.departure_ids.data))
