"""The split-rule form: a percentage and an optional fixed amount per visitor for each party,
a weight per hosted stop, and the day the rule takes effect.

Admins think in percentages and dollars; the service stores basis points and cents. The form
converts, strictly: "12.5" or "12,5" percent is 1,250 basis points; anything with more than
two decimals, a sign or letters is refused with a message in the admin's language.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from ..services.ledger.splits import BASIS_POINTS, Party
from .base import FlaskForm
from .experiences import parse_price
from .manage import date_field, too_long, whole_field

#: Party → its label on the form and in the tourist-facing lines.
PARTY_LABELS = {
    Party.FAMILIES: _l("Host families"),
    Party.GUIDES: _l("Guides"),
    Party.ASSOCIATION_FUND: _l("Association's community fund"),
    Party.CONSERVATION_FUND: _l("Conservation fund"),
    Party.PLATFORM: _l("Platform commission"),
}

PERCENT_SHAPE = re.compile(r"(?P<units>[0-9]{1,3})(?:[.,](?P<hundredths>[0-9]{1,2}))?")
MAX_STOP_WEIGHT = 100


def parse_percent(text: str) -> int:
    """ "12.5" → 1250 basis points; ValueError unless 0–100 with at most two decimals."""
    match = PERCENT_SHAPE.fullmatch(text.strip().removesuffix("%").strip())
    if match is None:
        raise ValueError("not a percentage")
    points = int(match["units"]) * 100 + int((match["hundredths"] or "0").ljust(2, "0"))
    if points > BASIS_POINTS:
        raise ValueError("above 100%")
    return points


def format_percent(points: int) -> str:
    """1250 → "12.5", 5000 → "50" (what the form shows back)."""
    whole, rest = divmod(points, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(whole)


def _validate_percent(form, field) -> None:
    try:
        parse_percent(field.data or "0")
    except ValueError as exc:
        raise ValidationError(_l("Write a percentage from 0 to 100, like 20 or 12.5.")) from exc


def _cents(text: str | None) -> int:
    return parse_price(text) if (text or "").strip() else 0


def _validate_fixed(form, field) -> None:
    if not (field.data or "").strip():
        return
    try:
        parse_price(field.data)
    except ValueError as exc:
        raise ValidationError(_l("Write an amount like 5 or 2.50.")) from exc


class SplitRuleForm(FlaskForm):
    effective_on = date_field(_l("In force from"), required=False)

    def validate_effective_on(self, field) -> None:
        if field.data is not None and field.data < self.today:
            raise ValidationError(_l("Choose today or a later day."))

    def __init__(self, stops=(), today: date | None = None, *args, **kwargs) -> None:
        self.today = today or date.today()
        super().__init__(*args, **kwargs)
        self.hosted_stops = list(stops)

    def party_fields(self):
        """(party, label, percent field, fixed-amount field) for every party, in order."""
        return [
            (party, PARTY_LABELS[party], self[f"percent_{party}"], self[f"fixed_{party}"])
            for party in Party
        ]

    def weight_fields(self):
        return [(stop, self[f"weight_{stop.id}"]) for stop in self.hosted_stops]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        points = sum(parse_percent(field.data or "0") for _, _, field, _ in self.party_fields())
        if points != BASIS_POINTS:
            self.form_errors.append(
                _l(
                    "The percentages add up to %(total)s%%; they must add up to 100%%.",
                    total=format_percent(points),
                )
            )
            return False
        return True

    def parts(self) -> list[dict]:
        """The rule's parts in the service's shape (basis points and cents)."""
        return [
            {
                "party": party.value,
                "basis_points": parse_percent(percent.data or "0"),
                "cents_per_participant": parse_price(fixed.data)
                if (fixed.data or "").strip()
                else 0,
            }
            for party, _, percent, fixed in self.party_fields()
        ]

    def stop_weights(self) -> dict[int, int] | None:
        """Stop id → weight, or None when every stop weighs the same (the default); all zero
        is passed on for the service to refuse."""
        weights = {stop.id: field.data for stop, field in self.weight_fields()}
        if len(set(weights.values())) <= 1 and any(weights.values()):
            return None
        return weights


def stop_label(stop) -> str:
    return stop.family.name if stop.family is not None else str(stop.id)


def split_rule_form(stops, today: date, **kwargs) -> SplitRuleForm:
    """A form with a weight field for each hosted stop of the experience."""

    class Form(SplitRuleForm):
        pass

    for stop in stops:
        setattr(
            Form,
            f"weight_{stop.id}",
            whole_field(stop_label(stop), 0, MAX_STOP_WEIGHT),
        )
    return Form(stops, today, **kwargs)


for _party in Party:
    setattr(
        SplitRuleForm,
        f"percent_{_party}",
        StringField(
            _l("Share (%)"),
            validators=[Length(max=8, message=too_long(8)), _validate_percent],
            default="0",
        ),
    )
    setattr(
        SplitRuleForm,
        f"fixed_{_party}",
        StringField(
            _l("Fixed per visitor ($)"),
            validators=[Length(max=12, message=too_long(12)), _validate_fixed],
        ),
    )
