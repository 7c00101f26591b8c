"""The route list's filters: number of days, community, most one person pays."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..money import parse_amount
from ..services.routes import curation
from ..services.routes.discovery import RouteFilters
from .base import FlaskForm
from .public import WholeNumberRange

BAD_AMOUNT = _l("Write an amount like 25 or 25.50.")
#: The highest price one can filter by (cents): far above any route, far below overflow.
MAX_FILTER_CENTS = 100_000_00


class RouteFilterForm(FlaskForm):
    """Read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    days = IntegerField(
        _l("Days"),
        validators=[
            Optional(),
            WholeNumberRange(
                min=1, max=curation.MAX_DAYS, message=_l("Choose a number from %(min)s to %(max)s.")
            ),
        ],
        invalid_value_message=_l("Write a whole number."),
    )
    community = SelectField(_l("Community"), validators=[Optional()], validate_choice=True)
    max_price = StringField(
        _l("Max. price per person (USD)"), validators=[Optional(), Length(max=12)]
    )

    def __init__(self, communities=(), *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.community.choices = [("", _l("All communities"))] + list(communities)

    def validate_max_price(self, field) -> None:
        self._cents()

    def _cents(self) -> int | None:
        # Optional() stops the chain for blank text, so " " reaches here unvalidated.
        text = (self.max_price.data or "").strip()
        if not text:
            return None
        try:
            cents = parse_amount(text)
        except ValueError as exc:
            raise ValidationError(BAD_AMOUNT) from exc
        if not 0 <= cents <= MAX_FILTER_CENTS:
            raise ValidationError(BAD_AMOUNT)
        return cents

    def to_filters(self) -> RouteFilters:
        return RouteFilters(
            days=self.days.data,
            community=self.community.data or None,
            max_price_cents=self._cents(),
        )
