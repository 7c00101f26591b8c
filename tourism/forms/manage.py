"""Forms of the management pages (the experience form is in ``forms_manage_experience``).
Each turns what staff typed into a service's input; every message is explicit and
translatable, because sub-forms do not get Flask-WTF's translations of WTForms' defaults."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from .. import vocabulary
from ..errors import InvalidRequest
from ..services.associations import management, rosters
from ..services.messages.phones import PERSON_CHANNEL_LABELS
from ..services.operations import schedules as schedules_admin
from ..services.operations.recurrence import WEEKDAY_CODES
from ..timefmt import local_today
from .base import FlaskForm
from .public import WholeNumberRange, choices

REQUIRED = _l("This information is required.")
WHOLE = _l("Write a whole number.")
BAD_DATE = _l("Write a date like 2025-06-14.")
BAD_TIME = _l("Write a time like 08:30.")


def too_long(limit: int):
    """The message for a text over ``limit`` characters (one plural rule per language)."""
    return _ln("Write at most %(num)s character.", "Write at most %(num)s characters.", limit)


RANGE = _l("Choose a number from %(min)s to %(max)s.")
BAD_CHOICE = _l("Choose an option from the list.")
WEEKDAY_LABELS = {
    "MO": _l("Monday"),
    "TU": _l("Tuesday"),
    "WE": _l("Wednesday"),
    "TH": _l("Thursday"),
    "FR": _l("Friday"),
    "SA": _l("Saturday"),
    "SU": _l("Sunday"),
}
#: Management dates stay within a sane distance of today, far from date arithmetic's limits.
PAST_DAYS, FUTURE_DAYS = 366, 5 * 366


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by ``manage/_forms.html``)."""


def visible(form, field) -> None:
    """Something a reader can see: not only spaces or invisible characters (a zero-width
    space would stand as a cancellation's reason shown to tourists)."""
    if not any(
        not char.isspace() and unicodedata.category(char) not in ("Cf", "Cc")
        for char in field.data or ""
    ):
        raise StopValidation(REQUIRED)


def text_field(label, limit: int, required: bool = False, area: bool = False):
    field = TextAreaField if area else StringField
    first = [InputRequired(message=REQUIRED), visible] if required else [Optional()]
    return field(label, validators=[*first, Length(max=limit, message=too_long(limit))])


def whole_field(label, low: int, high: int, required: bool = True):
    first = InputRequired(message=REQUIRED) if required else Optional()
    return IntegerField(
        label,
        validators=[first, WholeNumberRange(min=low, max=high, message=RANGE)],
        invalid_value_message=WHOLE,
    )


def date_field(label, required: bool = True):
    first = InputRequired(message=REQUIRED) if required else Optional()
    return DateField(label, validators=[first, near_today], invalid_value_message=BAD_DATE)


def near_today(form, field) -> None:
    if field.data is None:
        return
    today = local_today()
    if not today - timedelta(days=PAST_DAYS) <= field.data <= today + timedelta(days=FUTURE_DAYS):
        raise ValidationError(_l("Choose a date within the next five years."))


def not_too_far(form, field) -> None:
    """``near_today``'s future bound only: a day already past is left to the service, which
    says why it must be to come."""
    if field.data is not None and field.data > local_today() + timedelta(days=FUTURE_DAYS):
        raise ValidationError(_l("Choose a date within the next five years."))


def checkboxes_field(label, vocabulary_items, required: bool = False):
    validators = [InputRequired(message=REQUIRED)] if required else [Optional()]
    return MultiCheckboxField(
        label,
        validators=validators,
        choices=choices(vocabulary_items),
        invalid_choice_message=BAD_CHOICE,
    )


# Associations, families, guides, invitations ----------------------------------------------


class AssociationDetailsForm(FlaskForm):
    """What an association's admins edit themselves: its name, who sells (legal name, RUC,
    address) and how tourists reach it."""

    name = text_field(_l("Name"), 160, required=True)
    legal_name = text_field(_l("Legal name"), 200)
    tax_id = text_field(_l("RUC (tax number)"), 20)
    address = text_field(_l("Address"), 300)
    contact_email = EmailField(
        _l("Contact email"), validators=[Optional(), Length(max=254, message=too_long(254))]
    )
    contact_phone = TelField(
        _l("Contact phone (also on WhatsApp)"),
        validators=[Optional(), Length(max=40, message=too_long(40))],
    )
    founded_year = whole_field(_l("Year founded"), 1900, 2100, required=False)
    description_es = text_field(_l("Description in Spanish"), 5000, area=True)
    description_en = text_field(_l("Description in English"), 5000, area=True)

    def details(self) -> dict:
        return {
            "name": self.name.data,
            "legal_name": self.legal_name.data or "",
            "tax_id": self.tax_id.data or "",
            "address": self.address.data or "",
            "contact_email": self.contact_email.data or "",
            "contact_phone": self.contact_phone.data or "",
            "description_es": self.description_es.data or "",
            "description_en": self.description_en.data or "",
            "founded_year": self.founded_year.data,
        }

    def to_details(self) -> management.AssociationDetails:
        return management.AssociationDetails(**self.details())


class AssociationForm(AssociationDetailsForm):
    """A new association (platform admins): its details, plus the address and code."""

    slug = text_field(_l("Web address (e.g. kallari)"), 60, required=True)
    code = text_field(_l("Booking code (three letters, e.g. KAL)"), 3, required=True)
    province = SelectField(
        _l("Province"),
        choices=choices(vocabulary.PROVINCES.items()),
        invalid_choice_message=BAD_CHOICE,
    )

    def to_input(self) -> management.AssociationInput:
        return management.AssociationInput(
            slug=self.slug.data.strip().lower(),
            code=self.code.data.strip().upper(),
            province=self.province.data,
            **self.details(),
        )


GENDER_CHOICES = [("", _l("Prefers not to say")), *rosters.GENDERS.items()]


class FamilyForm(FlaskForm):
    name = text_field(_l("Family name"), 160, required=True)
    community = text_field(_l("Community"), 160)
    contact_name = text_field(_l("Contact person"), 160)
    contact_phone = TelField(
        _l("Contact phone"), validators=[Optional(), Length(max=40, message=too_long(40))]
    )
    email = EmailField(
        _l("Email (optional: notices when the family prefers email, or WhatsApp and SMS fail)"),
        validators=[Optional(), Length(max=254, message=too_long(254))],
    )
    languages = checkboxes_field(_l("Languages spoken"), vocabulary.LANGUAGES.items())
    representative_gender = SelectField(
        _l("The family is represented by (optional)"),
        choices=choices(GENDER_CHOICES),
        invalid_choice_message=BAD_CHOICE,
        default="",
    )
    is_active = BooleanField(_l("Active (can host stops)"), default=True)
    message_consent = BooleanField(
        _l(
            "The family agreed to get WhatsApp or SMS notices at this phone (who comes when, "
            "payouts)"
        )
    )
    message_channel = SelectField(
        _l("Notices by"),
        choices=choices(PERSON_CHANNEL_LABELS.items()),
        invalid_choice_message=BAD_CHOICE,
        default="whatsapp",
    )

    def to_input(self) -> rosters.FamilyInput:
        return rosters.FamilyInput(
            name=self.name.data,
            community=self.community.data or "",
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "",
            languages=tuple(self.languages.data or ()),
            representative_gender=self.representative_gender.data or None,
            is_active=self.is_active.data,
            message_consent=bool(self.message_consent.data),
            message_channel=self.message_channel.data or "whatsapp",
            email=self.email.data or "",
        )


YES_NO = [("", _l("Prefers not to say")), ("yes", _l("Yes")), ("no", _l("No"))]


class GuideForm(FlaskForm):
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=40, message=too_long(40))])
    community = text_field(_l("Community"), 160)
    languages = checkboxes_field(_l("Guides in"), vocabulary.LANGUAGES.items())
    under_30 = SelectField(
        _l("Under 30 years old (optional)"),
        choices=choices(YES_NO),
        invalid_choice_message=BAD_CHOICE,
        default="",
    )
    message_consent = BooleanField(
        _l("The guide agreed to get WhatsApp or SMS notices at this phone (tomorrow's departures)")
    )
    message_channel = SelectField(
        _l("Notices by"),
        choices=choices(PERSON_CHANNEL_LABELS.items()),
        invalid_choice_message=BAD_CHOICE,
        default="whatsapp",
    )

    def to_input(self) -> rosters.GuideInput:
        return rosters.GuideInput(
            phone=self.phone.data or "",
            community=self.community.data or "",
            languages=tuple(self.languages.data or ()),
            under_30={"yes": True, "no": False}.get(self.under_30.data),
            message_consent=bool(self.message_consent.data),
            message_channel=self.message_channel.data or "whatsapp",
        )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(message=REQUIRED), Length(max=254, message=too_long(254))],
    )
    role = SelectField(_l("Role"), invalid_choice_message=BAD_CHOICE)

    def __init__(self, roles, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r.value, management.ROLE_LABELS[r]) for r in roles)


# Photos -----------------------------------------------------------------------------------


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP)"), validators=[FileRequired(message=REQUIRED)])
    alt_es = text_field(
        _l("Description for people who cannot see it (Spanish)"), 300, required=True
    )
    alt_en = text_field(_l("Description for people who cannot see it (English)"), 300)


# Schedules and departures -----------------------------------------------------------------


class WindowForm(FlaskForm):
    window_from = date_field(_l("From"))
    window_until = date_field(_l("Until"))

    def validate_window_until(self, field) -> None:
        if self.window_from.data and field.data:
            try:
                schedules_admin.check_window(self.window_from.data, field.data)
            except InvalidRequest as error:
                raise ValidationError(str(error)) from error


class ScheduleForm(WindowForm):
    weekdays = checkboxes_field(_l("Weekdays"), WEEKDAY_LABELS.items(), required=True)
    start_time = TimeField(
        _l("Start time (local)"),
        validators=[InputRequired(message=REQUIRED)],
        format=["%H:%M", "%H:%M:%S"],
        invalid_value_message=BAD_TIME,
    )
    duration_minutes = whole_field(
        _l("Duration (minutes)"), 15, schedules_admin.MAX_DURATION_MINUTES
    )
    capacity = whole_field(_l("Seats per departure"), 1, schedules_admin.MAX_CAPACITY)
    valid_from = date_field(_l("Runs from"))
    valid_until = date_field(_l("Runs until (optional)"), required=False)
    preview = SubmitField(_l("Preview departures"))
    save = SubmitField(_l("Save and create departures"))

    def validate_valid_until(self, field) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The schedule must end on or after the day it starts."))

    def to_input(self) -> schedules_admin.ScheduleInput:
        return schedules_admin.ScheduleInput(
            weekdays=tuple(code for code in WEEKDAY_CODES if code in (self.weekdays.data or ())),
            start_time=self.start_time.data,
            duration_minutes=self.duration_minutes.data,
            capacity=self.capacity.data,
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
        )


class DepartureForm(FlaskForm):
    capacity = whole_field(_l("Seats"), 1, schedules_admin.MAX_CAPACITY)
    day = date_field(_l("Date"))
    start_time = TimeField(
        _l("Start time (local)"),
        validators=[InputRequired(message=REQUIRED)],
        format=["%H:%M", "%H:%M:%S"],
        invalid_value_message=BAD_TIME,
    )


class CancelDepartureForm(FlaskForm):
    reason = text_field(_l("Reason, shown to the tourists"), 300, required=True, area=True)


class OperationsForm(FlaskForm):
    """The board's window, read from the query string (no CSRF token)."""

    class Meta:
        csrf = False

    day = date_field(_l("Day"), required=False)
    view = SelectField(
        _l("Show"),
        choices=choices([("day", _l("Day")), ("week", _l("Week"))]),
        default="day",
        invalid_choice_message=BAD_CHOICE,
    )
    association = IntegerField(
        _l("Association"),
        validators=[Optional(), WholeNumberRange(min=1, max=2**31 - 1, message=BAD_CHOICE)],
        invalid_value_message=WHOLE,
    )

    def chosen_day(self) -> date:
        return self.day.data or local_today()


# Messages ---------------------------------------------------------------------------------


class ReplyForm(FlaskForm):
    """A reply to what a visitor wrote on WhatsApp/SMS (the service checks the 24 h window)."""

    body = text_field(_l("Your reply"), 1000, required=True, area=True)


class ChangeDateForm(FlaskForm):
    """The departure a booking moves to (the service checks it, junk included)."""

    departure_id = StringField(_l("New date"), validators=[InputRequired(message=REQUIRED)])


class CancelBookingForm(FlaskForm):
    """Staff cancel one booking: the reason the visitor reads, and the refund (the service
    checks the choice, junk included)."""

    reason = text_field(_l("Reason, shown to the visitor"), 300, required=True)
    refund = StringField(_l("Refund"))
