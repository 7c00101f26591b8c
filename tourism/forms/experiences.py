"""The experience form of the management pages: texts per language, prices typed in
dollars, stops and refund tiers as repeated rows. Rows are plain ``wtforms.Form`` sub-forms,
so the page carries one CSRF token."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import vocabulary
from ..models import PaymentMethod
from ..money import decimal_text, parse_amount
from ..services.catalog import experiences as exp
from ..services.catalog.experience_input import (
    MAX_POLICY_HOURS,
    MAX_POLICY_TIERS,
    MAX_STOPS,
    MAX_TICKETS,
)
from ..text_input import ascii_whole_number
from .base import FlaskForm, Form
from .manage import BAD_CHOICE, checkboxes_field, text_field, too_long, whole_field
from .public import choices

PAYMENT_OPTION_LABELS = {
    PaymentMethod.CARD.value: _l("Card, everything online"),
    PaymentMethod.DEPOSIT.value: _l("Deposit online, the rest in cash"),
    PaymentMethod.ON_ARRIVAL.value: _l("Cash on arrival"),
}


class SpanishTextsForm(Form):
    title = text_field(_l("Title"), exp.TEXT_LIMITS["title"], required=True)
    summary = text_field(_l("Summary"), exp.TEXT_LIMITS["summary"], area=True)
    description = text_field(_l("Description"), exp.TEXT_LIMITS["description"], area=True)
    what_to_bring = text_field(_l("What to bring"), exp.TEXT_LIMITS["what_to_bring"], area=True)
    meeting_point = text_field(_l("Meeting point"), exp.TEXT_LIMITS["meeting_point"])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self)

    def to_input(self) -> exp.TextInput:
        return exp.TextInput(**{name: (self[name].data or "").strip() for name in exp.TEXT_LIMITS})


class EnglishTextsForm(SpanishTextsForm):
    # No Optional(): it would stop the chain before validate_title sees an empty title.
    title = StringField(
        _l("Title"),
        validators=[
            Length(max=exp.TEXT_LIMITS["title"], message=too_long(exp.TEXT_LIMITS["title"]))
        ],
    )

    def validate_title(self, field) -> None:
        if not (field.data or "").strip() and not self.is_blank():
            raise ValidationError(_l("Give the English title too, or leave English empty."))


class StopRowForm(Form):
    stop_id = HiddenField()
    family_id = SelectField(_l("Host family"), default="", invalid_choice_message=BAD_CHOICE)
    duration_minutes = whole_field(_l("Minutes"), 1, exp.MAX_DURATION_MINUTES, required=False)
    name_es = StringField(_l("Name (Spanish)"), validators=[Length(max=200, message=too_long(200))])
    description_es = text_field(_l("Description (Spanish)"), 5000, area=True)
    name_en = text_field(_l("Name (English)"), 200)
    description_en = text_field(_l("Description (English)"), 5000, area=True)
    remove = BooleanField(_l("Remove this stop"))

    def validate_stop_id(self, field) -> None:
        if field.data and ascii_whole_number(field.data, leading_zeros=False) is None:
            raise ValidationError(BAD_CHOICE)

    def validate_name_es(self, field) -> None:
        if not (field.data or "").strip() and not self.is_blank() and not self.remove.data:
            raise ValidationError(_l("Every stop needs a Spanish name (or tick Remove)."))

    def is_blank(self) -> bool:
        texts = (self.name_es, self.description_es, self.name_en, self.description_en)
        return not (
            self.stop_id.data or self.family_id.data or any((f.data or "").strip() for f in texts)
        )


class TierForm(Form):
    hours = whole_field(_l("At least this many hours before"), 0, MAX_POLICY_HOURS, False)
    percent = whole_field(_l("Refund, in percent"), 0, 100, required=False)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and (self.hours.data is None) != (self.percent.data is None):
            self.percent.errors.append(_l("Give both the hours and the refund, or neither."))
            return False
        return valid


class ExperienceForm(FlaskForm):
    slug = text_field(_l("Web address (e.g. cacao-route)"), 80, required=True)
    province = SelectField(
        _l("Province"),
        choices=choices(vocabulary.PROVINCES.items()),
        invalid_choice_message=BAD_CHOICE,
    )
    themes = checkboxes_field(_l("Themes"), vocabulary.THEMES.items())
    languages = checkboxes_field(_l("Languages offered"), vocabulary.LANGUAGES.items(), True)
    duration_minutes = whole_field(_l("Duration (minutes)"), 15, exp.MAX_DURATION_MINUTES)
    max_tickets_per_booking = whole_field(_l("Most tickets per booking"), 1, MAX_TICKETS)
    es = FormField(SpanishTextsForm)
    en = FormField(EnglishTextsForm)
    stops = FieldList(FormField(StopRowForm), min_entries=1, max_entries=MAX_STOPS)
    policy = FieldList(FormField(TierForm), min_entries=3, max_entries=MAX_POLICY_TIERS)
    payment_options = checkboxes_field(
        _l("Ways to pay"), PAYMENT_OPTION_LABELS.items(), required=True
    )
    deposit_percent = whole_field(_l("Deposit paid online, in percent"), 1, 100)

    def __init__(self, families=(), *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.family_choices = choices(
            [("", _l("No host family"))] + [(str(f.id), f.name) for f in families]
        )
        for row in self.stops:
            row.form.family_id.choices = self.family_choices

    def drop_removed_new_stops(self) -> None:
        """Forget the rows never saved that are ticked for removal (saved stops stay, ticked,
        until the form is saved: unticking them is how one changes one's mind)."""
        self.stops.entries = [
            row for row in self.stops.entries if row.form.stop_id.data or not row.form.remove.data
        ]
        if not self.stops.entries:
            self.add_blank_stops(1)

    def add_blank_stops(self, count: int) -> None:
        for _ in range(count):
            if len(self.stops) >= MAX_STOPS:
                return
            self.stops.append_entry()
            self.stops[-1].form.family_id.choices = self.family_choices

    def price_fields(self):
        """(code, price field, on-sale field) per ticket type, in the vocabulary's order."""
        return [
            (code, self[f"price_{code}"], self[f"active_{code}"])
            for code in vocabulary.PRICE_CATEGORIES
        ]

    def to_input(self) -> exp.ExperienceInput:
        texts = {"es": self.es.form.to_input()}
        if not self.en.form.is_blank():
            texts["en"] = self.en.form.to_input()
        prices = tuple(
            exp.PriceInput(
                code=code,
                price_cents=parse_price(price.data) if (price.data or "").strip() else None,
                active=bool(active.data),
            )
            for code, price, active in self.price_fields()
        )
        stops = []
        for row in self.stops:
            stop = row.form
            if stop.remove.data or stop.is_blank():
                continue
            stops.append(
                exp.StopInput(
                    stop_id=int(stop.stop_id.data) if stop.stop_id.data else None,
                    family_id=int(stop.family_id.data) if stop.family_id.data else None,
                    duration_minutes=stop.duration_minutes.data,
                    texts={
                        "es": (stop.name_es.data or "", stop.description_es.data or ""),
                        "en": (stop.name_en.data or "", stop.description_en.data or ""),
                    },
                )
            )
        policy = tuple(
            (row.form.hours.data, row.form.percent.data)
            for row in self.policy
            if row.form.hours.data is not None and row.form.percent.data is not None
        )
        return exp.ExperienceInput(
            slug=(self.slug.data or "").strip().lower(),
            province=self.province.data,
            themes=tuple(self.themes.data or ()),
            languages=tuple(self.languages.data or ()),
            duration_minutes=self.duration_minutes.data,
            max_tickets_per_booking=self.max_tickets_per_booking.data,
            deposit_percent=self.deposit_percent.data,
            texts=texts,
            prices=prices,
            stops=tuple(stops),
            policy=policy,
            payment_options=tuple(self.payment_options.data or ()),
        )


#: What staff type as a price: dollars, optionally cents after a point or comma. Stricter than
#: ``parse_amount`` alone, which would also read "1e3" or "4 5".
PRICE_SHAPE = re.compile(r"\$?\s?[0-9]{1,7}(?:[.,][0-9]{1,2})?")


def parse_price(text: str) -> int:
    if not PRICE_SHAPE.fullmatch(text.strip()):
        raise ValueError("not a price")
    return parse_amount(text)


AMOUNT_SHAPE = _l("Write an amount like 45 or 45.50.")


def _validate_price(form, field) -> None:
    if not (field.data or "").strip():
        return
    try:
        cents = parse_price(field.data)
    except ValueError as exc:
        raise ValidationError(AMOUNT_SHAPE) from exc
    if cents <= 0:
        raise ValidationError(_l("Write a price above zero, like 45 or 45.50."))


for _code, _label in vocabulary.PRICE_CATEGORIES.items():
    setattr(
        ExperienceForm,
        f"price_{_code}",
        StringField(
            _label, validators=[Optional(), Length(max=12, message=too_long(12)), _validate_price]
        ),
    )
    setattr(ExperienceForm, f"active_{_code}", BooleanField(_l("On sale"), default=True))


def experience_form_data(experience) -> dict:
    """What the edit form shows for ``experience``."""
    texts = {t.locale: t for t in experience.texts}
    data = {
        "slug": experience.slug,
        "province": experience.province,
        "themes": experience.theme_codes,
        "languages": experience.language_codes,
        "duration_minutes": experience.duration_minutes,
        "max_tickets_per_booking": experience.max_tickets_per_booking,
        "payment_options": experience.payment_option_codes,
        "deposit_percent": experience.deposit_percent,
        "policy": [
            {"hours": t["hours"], "percent": t["percent"]}
            for t in experience.cancellation_policy or []
        ],
        "stops": [],
    }
    for locale in ("es", "en"):
        text = texts.get(locale)
        data[locale] = {name: getattr(text, name) for name in exp.TEXT_LIMITS} if text else {}
    for category in experience.price_categories:
        data[f"price_{category.code}"] = decimal_text(category.price_cents)
        data[f"active_{category.code}"] = category.is_active
    for stop in experience.stops:
        by_locale = {t.locale: t for t in stop.texts}
        row = {
            "stop_id": str(stop.id),
            "family_id": str(stop.family_id) if stop.family_id else "",
            "duration_minutes": stop.duration_minutes,
        }
        for locale in ("es", "en"):
            text = by_locale.get(locale)
            row[f"name_{locale}"] = text.name if text else ""
            row[f"description_{locale}"] = text.description if text else ""
        data["stops"].append(row)
    return data


def new_experience_data(association) -> dict:
    return {
        "province": association.province,
        "languages": ["es"],
        "duration_minutes": 240,
        "max_tickets_per_booking": 10,
        "payment_options": [PaymentMethod.ON_ARRIVAL.value],
        "deposit_percent": 30,
        "policy": [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}],
    }
