"""The route booking form: a start date, how many people, extras and the contact details
of the ordinary booking form (``BookingForm``), checked the same way."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from wtforms import IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional

from .. import vocabulary
from ..i18n import current_locale
from ..services.booking import contact_details
from ..services.routes.booking import MAX_EXTRA_QUANTITY
from ..services.routes.tickets import route_category_codes
from .base import FlaskForm
from .public import (
    BookingForm,
    WholeNumberRange,
    choices,
    country_choices,
)


class RouteBookingForm(BookingForm):
    """Contact details as for one experience, plus the route's own choices; ticket fields
    are replaced by the number of people (every leg is booked for all of them)."""

    max_people = 8

    start_date = SelectField(_l("Start date"), validators=[DataRequired()])
    people = IntegerField(_l("People"), default=2, validators=[InputRequired()])

    def extra_fields(self):
        return [field for field in self if field.name.startswith("extra_")]

    def extras(self) -> dict[int, int]:
        return {int(f.name.removeprefix("extra_")): f.data or 0 for f in self.extra_fields()}

    def ticket_fields(self):
        return [field for field in self if field.name.startswith("tickets_")]

    def tickets(self) -> dict[str, int]:
        """Of the people, how many per category besides adult (the rest are adults)."""
        return {f.name.removeprefix("tickets_"): f.data or 0 for f in self.ticket_fields()}

    def validate(self, extra_validators=None) -> bool:
        # The ordinary form's own checks, but not its ticket rules (there are no tickets).
        valid = FlaskForm.validate(self, extra_validators)
        self.ticket_errors = []
        if self.people.data is not None and not self.people.errors:
            if not 1 <= self.people.data <= self.max_people:
                self.people.errors = [
                    str(
                        _ln(
                            "Choose between 1 and %(num)s person.",
                            "Choose between 1 and %(num)s people.",
                            self.max_people,
                        )
                    )
                ]
                valid = False
        fields = self.ticket_fields()
        if self.people.data and not self.people.errors and not any(f.errors for f in fields):
            if sum(self.tickets().values()) > self.people.data:
                fields[0].errors = [str(_l("There are more tickets of a kind than people."))]
                valid = False
        if (self.special_needs.data or "").strip() and not self.special_needs_consent.data:
            self.special_needs_consent.errors = [str(contact_details.NEEDS_CONSENT_MISSING)]
            valid = False
        return valid


@lru_cache(maxsize=64)
def _route_form_class(
    extras: tuple[tuple[int, str, str], ...], people: int, codes: tuple[str, ...] = ()
):
    class OneRouteBookingForm(RouteBookingForm):
        max_people = people

    for code in codes:
        setattr(
            OneRouteBookingForm,
            f"tickets_{code}",
            IntegerField(
                _TicketLabel(code),
                default=0,
                validators=[
                    Optional(),
                    WholeNumberRange(
                        min=0,
                        max=people,
                        message=_l("Choose a number from %(min)s to %(max)s."),
                    ),
                ],
            ),
        )

    for extra_id, name_es, name_en in extras:
        setattr(
            OneRouteBookingForm,
            f"extra_{extra_id}",
            IntegerField(
                _ExtraLabel(name_es, name_en),
                default=0,
                validators=[
                    Optional(),
                    WholeNumberRange(
                        min=0,
                        max=MAX_EXTRA_QUANTITY,
                        message=_l("Extras must be whole numbers, zero or more."),
                    ),
                ],
            ),
        )
    return OneRouteBookingForm


class _TicketLabel:
    """ "Of them, children (5–12)": a category's label in the page's language."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __str__(self) -> str:
        name = vocabulary.PRICE_CATEGORIES.get(self.code, self.code)
        return str(_l("Of them: %(category)s", category=name))


class _ExtraLabel:
    """An extra's name in the language of the page being drawn."""

    def __init__(self, name_es: str, name_en: str) -> None:
        self.name_es, self.name_en = name_es, name_en

    def __str__(self) -> str:
        return self.name_en if current_locale() == "en" else self.name_es


#: How a route can be paid, in words (a deposit is each activity's own share).
ROUTE_PAYMENT_LABELS = {
    "card": _l("Pay the whole route now by card"),
    "deposit": _l(
        "Pay each activity's deposit now by card; the rest in cash to each community on arrival"
    ),
    "on_arrival": _l("Pay each community its part in cash when you arrive there"),
}


def route_booking_form_for(
    route,
    start_dates: list[tuple[str, str]],
    locale: str,
    languages: list[str],
    methods: list[str] | None = None,
    **kwargs,
) -> RouteBookingForm:
    """The booking form of ``route``: ``start_dates`` as (ISO date, label) choices."""
    form_class = _route_form_class(
        tuple(
            (e.id, e.name_es, e.name_en)
            for e in route.extras
            if e.is_active and not e.stock_per_departure
        ),
        route.max_people_per_booking,
        tuple(route_category_codes(route)),
    )
    form = form_class(**kwargs)
    form.start_date.choices = choices(start_dates)
    form.country.choices = choices(country_choices(locale))
    form.language.choices = choices((code, vocabulary.LANGUAGES[code]) for code in languages)
    methods = methods or ["on_arrival"]
    form.payment_method.choices = choices((m, str(ROUTE_PAYMENT_LABELS[m])) for m in methods)
    if not form.is_submitted():
        form.payment_method.data = methods[0]
        form.language.data = locale
    return form
