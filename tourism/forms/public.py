"""Forms: what visitors may send, with messages in their language."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from babel import Locale
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .. import vocabulary
from ..money import parse_amount
from ..services.booking import lifecycle
from ..services.booking.contact_details import LIMITS, NEEDS_CONSENT_MISSING, phone_is_callable
from ..services.booking.pricing import Quote, quote
from ..services.messages.phones import CHANNEL_LABELS, InvalidPhone, default_region, to_e164
from ..timefmt import local_today
from .base import FlaskForm, SentOnce, ValidEmail

#: How far ahead visitors may search: departures are generated about two months ahead, and
#: bounding the date keeps date arithmetic far from its limits.
DAYS_AHEAD = 730


class WholeNumberRange(NumberRange):
    """``NumberRange`` for whole numbers of any size. WTForms' own check turns the number
    into a float (to test for NaN), which fails past 1e308 ("9" typed 400 times) and
    answered 500; such a number is outside every range here, so it gets the range's
    message. Always give ``message``."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, int) and abs(field.data) > 2**53:
            raise ValidationError(self.message % {"min": self.min, "max": self.max})
        super().__call__(form, field)


def field_problems(form) -> list[tuple[str, str]]:
    """Every error of ``form`` as (field id, "Label: message"), in the form's order, for a
    summary at the top of the page."""
    return [
        (field.id, f"{field.label.text}: {error}")
        for field in form
        if field.type not in ("CSRFTokenField", "HiddenField")
        for error in field.errors
    ]


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CatalogFilterForm(FlaskForm):
    """The catalog's filters; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    province = SelectField(_l("Province"), validators=[Optional()], validate_choice=True)
    theme = SelectField(_l("Theme"), validators=[Optional()], validate_choice=True)
    date = DateField(_l("Date"), validators=[Optional()])
    min_price = StringField(_l("Min. price (USD)"), validators=[Optional(), Length(max=12)])
    max_price = StringField(_l("Max. price (USD)"), validators=[Optional(), Length(max=12)])
    sort = SelectField(_l("Sort by"), validators=[Optional()], default="soonest")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        everywhere = [("", _l("All provinces"))]
        self.province.choices = choices(everywhere + list(vocabulary.PROVINCES.items()))
        self.theme.choices = choices([("", _l("All themes"))] + list(vocabulary.THEMES.items()))
        self.sort.choices = choices(vocabulary.SORTS.items())

    @staticmethod
    def _amount(field) -> int | None:
        # Optional() stops the chain for blank text, so " " reaches here unvalidated.
        text = (field.data or "").strip()
        if not text:
            return None
        try:
            return parse_amount(text)
        except ValueError as exc:
            raise ValidationError(_l("Write an amount like 25 or 25.50.")) from exc

    def validate_min_price(self, field) -> None:
        self._amount(field)

    def validate_max_price(self, field) -> None:
        self._amount(field)

    def validate_date(self, field) -> None:
        if field.data is None:
            return
        today = local_today()
        if not today - timedelta(days=1) <= field.data <= today + timedelta(days=DAYS_AHEAD):
            raise ValidationError(_l("Choose a date from today on, within the next two years."))

    def price_range(self) -> tuple[int | None, int | None]:
        return self._amount(self.min_price), self._amount(self.max_price)


#: Two-letter codes in CLDR's territory list that are not countries one lives in.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@lru_cache(maxsize=16)
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """ISO country codes with names in the visitor's language, Ecuador first (built once per
    language: every booking form shows them)."""
    territories = Locale.parse(locale).territories
    countries = sorted(
        (
            (code, name)
            for code, name in territories.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        ),
        key=lambda item: item[1],
    )
    ecuador = ("EC", territories.get("EC", "Ecuador"))
    return (ecuador, *(c for c in countries if c[0] != "EC"))


def country_name(code: str, locale: str) -> str:
    return Locale.parse(locale).territories.get(code, code)


class CountryField(SelectField):
    """The country select, checked with one set lookup: WTForms' own check builds an object
    for each of some 250 countries on every booking sent, to find the one chosen."""

    #: The codes offered, set with the choices by ``booking_form_for`` (built once per language).
    codes: frozenset[str] | None = None

    def pre_validate(self, form) -> None:
        if self.process_errors or not self.validate_choice:
            return
        codes = self.codes
        if codes is None:
            codes = {choice.value for choice in self.choices}
        if self.data not in codes:
            super().pre_validate(form)  # refused with WTForms' own message, translated


class BookingForm(SentOnce, FlaskForm):
    """Contact details and payment choice; ticket fields are added per experience.

    Everything a visitor can get wrong is checked here, so they see every problem at once,
    each next to its field: the tickets (at least one, within the limit and the seats left,
    which the view sets in ``seats_left``), the phone, and consent for special needs. The
    booking service checks again; only a race for the last seats is left for it to find."""

    #: The most tickets one booking may have (set on each experience's form class).
    max_tickets = 10

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
    country = CountryField(_l("Country"), validators=[DataRequired()])
    language = SelectField(_l("Language for messages"), validators=[DataRequired()])
    special_needs = TextAreaField(
        _l("Special needs (diet, mobility, health)"),
        validators=[Optional(), Length(max=LIMITS["special_needs"])],
    )
    #: Explicit consent to the use of ``special_needs``, which may be health data (its label,
    #: naming the association, is written by the template).
    special_needs_consent = BooleanField(_l("I agree"))
    #: Explicit opt-in to WhatsApp/SMS messages about the booking (email comes anyway).
    messages_opt_in = BooleanField(_l("Send me messages"))
    message_channel = RadioField(
        _l("Messages by"),
        choices=choices(CHANNEL_LABELS.items()),
        default="whatsapp",
        validators=[Optional()],
    )
    payment_method = RadioField(_l("Payment"), validators=[InputRequired()])
    #: The quote the page showed (``Quote.key``): a booking is made only for an amount the
    #: visitor has seen (the page's script keeps it current as tickets change).
    quoted = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Seats left on the departure, when the view knows them.
        self.seats_left: int | None = None
        #: Problems with the tickets as a whole (none chosen, too many), shown on the
        #: tickets' fieldset.
        self.ticket_errors: list[str] = []
        #: More tickets were asked for than there are seats left (a conflict, not a typo).
        self.seats_short = False
        #: The ticket fields, found once: a sent form asks for them five times.
        self._tickets = [field for field in self if field.name.startswith("qty_")]

    def ticket_fields(self):
        return self._tickets

    def quantities(self) -> dict[int, int]:
        return {int(f.name.removeprefix("qty_")): f.data or 0 for f in self.ticket_fields()}

    def quote_for(self, experience, addons_cents: int = 0) -> Quote:
        methods = [choice.value for choice in self.payment_method.choices]
        method = self.payment_method.data if self.payment_method.data in methods else None
        return quote(experience, self.quantities(), method, addons_cents)

    def validate_phone(self, field) -> None:
        if field.data and not phone_is_callable(field.data.strip()):
            raise ValidationError(
                _l("Please give a phone number we can call, with its country code.")
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.messages_opt_in.data and not self.phone.errors:
            try:
                to_e164(self.phone.data or "", default_region())
            except InvalidPhone as error:
                self.phone.errors = [*self.phone.errors, str(error)]
                valid = False
        self.ticket_errors = []
        if not any(field.errors for field in self.ticket_fields()):
            total = sum(self.quantities().values())
            if total == 0:
                self.ticket_errors.append(str(lifecycle.NoTickets()))
            elif total > self.max_tickets:
                self.ticket_errors.append(str(lifecycle.TooManyTickets(self.max_tickets)))
            elif self.seats_left is not None and 0 < self.seats_left < total:
                self.ticket_errors.append(str(lifecycle.seats_left_message(self.seats_left)))
                self.seats_short = True
        if (self.special_needs.data or "").strip() and not self.special_needs_consent.data:
            self.special_needs_consent.errors = [
                *self.special_needs_consent.errors,
                str(NEEDS_CONSENT_MISSING),
            ]
        return valid and not self.ticket_errors and not self.special_needs_consent.errors

    def error_list(self) -> list[tuple[str, str]]:
        """Every problem as (id of the field to jump to, message), in the page's order."""
        found = []
        tickets = self.ticket_fields()
        for field in tickets:
            found.extend((field.id, f"{field.label.text}: {error}") for error in field.errors)
        if tickets:
            found.extend((tickets[0].id, error) for error in self.ticket_errors)
        for field in self:
            if field in tickets or field.type in ("CSRFTokenField", "HiddenField"):
                continue
            if field is self.special_needs_consent:  # its message says what it is about
                found.extend((field.id, error) for error in field.errors)
                continue
            found.extend((field.id, f"{field.label.text}: {error}") for error in field.errors)
        return found


PAYMENT_LABELS = {
    "card": _l("Pay everything now by card"),
    "deposit": _l("Pay a %(percent)s%% deposit now by card, the rest in cash on arrival"),
    "on_arrival": _l("Pay on arrival, in cash, to the community"),
}


def _payment_label(method: str, deposit_percent: int) -> str:
    return str(PAYMENT_LABELS[method]) % {"percent": deposit_percent}


@lru_cache(maxsize=256)
def _booking_form_class(categories: tuple[tuple[int, str], ...], limit: int) -> type[BookingForm]:
    """The form class for one set of ticket fields, built once: creating a form class is the
    slow part of a booking request. Labels stay lazy, so one class serves every language."""

    class ExperienceBookingForm(BookingForm):
        max_tickets = limit

    for category_id, code in categories:
        setattr(
            ExperienceBookingForm,
            f"qty_{category_id}",
            IntegerField(
                vocabulary.PRICE_CATEGORIES.get(code, code),
                default=0,
                validators=[
                    Optional(),
                    WholeNumberRange(
                        min=0,
                        max=limit,
                        message=_ln(
                            "Choose between %(min)s and %(num)s ticket.",
                            "Choose between %(min)s and %(num)s tickets.",
                            limit,
                            min=0,
                        ),
                    ),
                ],
            ),
        )
    return ExperienceBookingForm


@lru_cache(maxsize=16)
def _country_select_choices(locale: str) -> tuple[tuple[SelectChoice, ...], frozenset[str]]:
    """The country select's choices in ``locale``, and their codes for the check."""
    offered = tuple(choices(country_choices(locale)))
    return offered, frozenset(choice.value for choice in offered)


def booking_form_for(
    experience, locale: str, languages: list[str], methods: list[str], **kwargs
) -> BookingForm:
    """A booking form with one ticket field per active price category of ``experience``,
    offering the payment ``methods`` that are available."""
    form_class = _booking_form_class(
        tuple((c.id, c.code) for c in experience.price_categories if c.is_active),
        experience.max_tickets_per_booking,
    )
    form = form_class(**kwargs)
    countries, form.country.codes = _country_select_choices(locale)
    form.country.choices = list(countries)
    form.language.choices = choices((code, vocabulary.LANGUAGES[code]) for code in languages)
    # Labels are translated when the page shows them: a sent form that redirects needs none.
    form.payment_method.choices = choices(
        (m, LazyString(_payment_label, m, experience.deposit_percent)) for m in methods
    )
    if not form.is_submitted() and methods:
        form.payment_method.data = methods[0]
    if not form.is_submitted():
        form.language.data = locale
    return form
