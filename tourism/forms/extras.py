"""The form of an association's extras (``services/catalog/extras.py``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..services.catalog import extras
from .base import FlaskForm
from .experiences import _validate_price, parse_price
from .manage import (
    BAD_CHOICE,
    RANGE,
    REQUIRED,
    WHOLE,
    MultiCheckboxField,
    text_field,
    too_long,
)
from .public import WholeNumberRange


class ExtraForm(FlaskForm):
    name_es = text_field(_l("Name (Spanish)"), 160, required=True)
    name_en = text_field(_l("Name (English)"), 160)
    price = StringField(
        _l("Price per unit (e.g. 7.50)"),
        validators=[
            # Spaces only are no price (InputRequired would let them through to parse_price).
            DataRequired(message=REQUIRED),
            Length(max=12, message=too_long(12)),
            _validate_price,
        ],
    )
    stock = IntegerField(
        _l("Stock (empty: no limit)"),
        validators=[Optional(), WholeNumberRange(min=0, max=extras.MAX_STOCK, message=RANGE)],
        invalid_value_message=WHOLE,
    )
    stock_per_departure = BooleanField(_l("The stock is for each departure"))
    family_id = SelectField(
        _l("Provided by"), default="", invalid_choice_message=BAD_CHOICE, validate_choice=True
    )
    experience_ids = MultiCheckboxField(
        _l("Offered on the booking form of"), invalid_choice_message=BAD_CHOICE
    )
    is_active = BooleanField(_l("On sale"), default=True)

    def offer(self, association, families, experiences, title) -> None:
        self.family_id.choices = [("", _l("%(name)s (the association)", name=association.name))]
        self.family_id.choices += [(str(f.id), f.name) for f in families]
        self.experience_ids.choices = [(str(e.id), title(e)) for e in experiences]

    def to_input(self) -> extras.ExtraInput:
        return extras.ExtraInput(
            name_es=self.name_es.data or "",
            name_en=self.name_en.data or "",
            price_cents=parse_price(self.price.data),
            stock=self.stock.data,
            stock_per_departure=bool(self.stock_per_departure.data),
            family_id=int(self.family_id.data) if self.family_id.data else None,
            experience_ids=tuple(int(i) for i in self.experience_ids.data or ()),
            is_active=bool(self.is_active.data),
        )


def extra_form_data(extra) -> dict:
    cents = extra.price_cents
    return {
        "name_es": extra.name_es,
        "name_en": extra.name_en,
        "price": f"{cents // 100}.{cents % 100:02d}",
        "stock": extra.stock,
        "stock_per_departure": extra.stock_per_departure,
        "family_id": str(extra.family_id) if extra.family_id else "",
        "experience_ids": [str(e.id) for e in extra.experiences],
        "is_active": extra.is_active,
    }
