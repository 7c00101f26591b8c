"""Forms of the route-composing pages: a route's texts, fee and policy, and its legs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..services.catalog.experience_input import MAX_POLICY_TIERS
from ..services.routes import composing, curation, homestays
from .base import FlaskForm
from .experiences import AMOUNT_SHAPE, TierForm, _validate_price, parse_price
from .manage import (
    BAD_CHOICE,
    BAD_TIME,
    REQUIRED,
    date_field,
    text_field,
    too_long,
    whole_field,
)


def _validate_fee(form, field) -> None:
    """An amount, zero included: the curator's fee is 0 when there is none."""
    if (field.data or "").strip():
        try:
            parse_price(field.data)
        except ValueError as exc:
            raise ValidationError(AMOUNT_SHAPE) from exc


class RouteForm(FlaskForm):
    slug = text_field(_l("Web address (e.g. cacao-route)"), 80, required=True)
    title_es = text_field(_l("Title (Spanish)"), 200, required=True)
    summary_es = text_field(_l("Summary (Spanish)"), 400)
    description_es = text_field(_l("Description (Spanish)"), 5000, area=True)
    title_en = text_field(_l("Title (English)"), 200)
    summary_en = text_field(_l("Summary (English)"), 400)
    description_en = text_field(_l("Description (English)"), 5000, area=True)
    curator_fee = StringField(
        _l("Curator's fee per person (e.g. 2.00; 0 for none)"),
        validators=[Optional(), Length(max=12, message=too_long(12)), _validate_fee],
    )
    max_people_per_booking = whole_field(_l("Most people per booking"), 1, composing.MAX_PEOPLE)
    policy = FieldList(FormField(TierForm), min_entries=3, max_entries=MAX_POLICY_TIERS)

    def to_input(self) -> composing.RouteInput:
        fee = (self.curator_fee.data or "").strip()
        return composing.RouteInput(
            slug=(self.slug.data or "").strip().lower(),
            texts={
                locale: (
                    getattr(self, f"title_{locale}").data or "",
                    getattr(self, f"summary_{locale}").data or "",
                    getattr(self, f"description_{locale}").data or "",
                )
                for locale in composing.LOCALES
            },
            curator_fee_cents=parse_price(fee) if fee else 0,
            max_people_per_booking=self.max_people_per_booking.data,
            policy=tuple(
                (row.form.hours.data, row.form.percent.data)
                for row in self.policy
                if row.form.hours.data is not None and row.form.percent.data is not None
            ),
        )


def route_form_data(route) -> dict:
    texts = {t.locale: t for t in route.texts}
    data = {
        "slug": route.slug,
        "curator_fee": f"{route.curator_fee_cents // 100}.{route.curator_fee_cents % 100:02d}",
        "max_people_per_booking": route.max_people_per_booking,
        "policy": [
            {"hours": t["hours"], "percent": t["percent"]} for t in route.cancellation_policy or []
        ],
    }
    for locale, text in texts.items():
        data |= {
            f"title_{locale}": text.title,
            f"summary_{locale}": text.summary,
            f"description_{locale}": text.description,
        }
    return data


def _day_field():
    return whole_field(_l("Day of the route"), 1, curation.MAX_DAYS)


class ActivityLegForm(FlaskForm):
    experience_id = SelectField(
        _l("Experience"), coerce=int, invalid_choice_message=BAD_CHOICE, validate_choice=True
    )
    day = _day_field()
    start_time = TimeField(
        _l("Start time (local)"),
        validators=[InputRequired(message=REQUIRED)],
        format=["%H:%M", "%H:%M:%S"],
        invalid_value_message=BAD_TIME,
    )

    def __init__(self, experiences=(), *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "activity")
        super().__init__(*args, **kwargs)
        self.experience_id.choices = list(experiences)


class NightLegForm(FlaskForm):
    homestay_id = SelectField(
        _l("Homestay"), coerce=int, invalid_choice_message=BAD_CHOICE, validate_choice=True
    )
    day = _day_field()

    def __init__(self, homestays=(), *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "night")
        super().__init__(*args, **kwargs)
        self.homestay_id.choices = list(homestays)


class HomestayForm(FlaskForm):
    name = text_field(_l("Name of the homestay"), 160, required=True)
    description_es = text_field(_l("Description (Spanish)"), 5000, area=True)
    description_en = text_field(_l("Description (English)"), 5000, area=True)
    capacity = whole_field(_l("Beds (people a night)"), 1, homestays.MAX_BEDS)
    price = StringField(
        _l("Price per person and night (e.g. 25.00)"),
        validators=[
            # Spaces only are no price (InputRequired would let them through to parse_price).
            DataRequired(message=REQUIRED),
            Length(max=12, message=too_long(12)),
            _validate_price,
        ],
    )
    meals_included = BooleanField(_l("Meals included"))
    is_active = BooleanField(_l("Takes guests"), default=True)

    def to_input(self) -> homestays.HomestayInput:
        return homestays.HomestayInput(
            name=self.name.data or "",
            description_es=self.description_es.data or "",
            description_en=self.description_en.data or "",
            capacity=self.capacity.data,
            price_cents_per_person_night=parse_price(self.price.data),
            meals_included=bool(self.meals_included.data),
            is_active=bool(self.is_active.data),
        )


def homestay_form_data(homestay) -> dict:
    cents = homestay.price_cents_per_person_night
    return {
        "name": homestay.name,
        "description_es": homestay.description_es,
        "description_en": homestay.description_en,
        "capacity": homestay.capacity,
        "price": f"{cents // 100}.{cents % 100:02d}",
        "meals_included": homestay.meals_included,
        "is_active": homestay.is_active,
    }


class BlackoutForm(FlaskForm):
    night = date_field(_l("Night (the date the guests would arrive)"))
