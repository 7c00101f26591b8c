"""How an experience's money is shared: its split-rule versions, and a form for admins to
preview and approve the next one.

Staff see the rules; only an admin of the association approves (the service checks it too).
"Preview" shows what one ticket would give every party and host family without storing
anything; "Approve" stores a new version in force from the chosen day (local midnight) or,
without a day, from now. The views join the ``manage`` blueprint.
"""

from __future__ import annotations

from datetime import time

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.split_rules import PARTY_LABELS, format_percent, split_rule_form
from ...models import Experience, Role, Stop
from ...money import decimal_text
from ...services.access import tenancy
from ...services.ledger import split_rules
from ...services.ledger.splits import Party
from ...timefmt import local_to_utc, local_today
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped

APPROVE = "approve"


def _hosted_stops(experience: Experience) -> list[Stop]:
    return [stop for stop in experience.stops if stop.family_id is not None]


def _form_data(rule, stops) -> dict:
    """The form prefilled from ``rule`` (the latest version), or empty shares."""
    data: dict = {f"weight_{stop.id}": 1 for stop in stops}
    if rule is None:
        return data
    for part in rule.parts:
        data[f"percent_{part['party']}"] = format_percent(int(part["basis_points"]))
        cents = int(part["cents_per_participant"])
        data[f"fixed_{part['party']}"] = decimal_text(cents) if cents else ""
    weights = {int(stop_id): int(weight) for stop_id, weight in rule.stop_weights}
    for stop in stops:
        data[f"weight_{stop.id}"] = weights.get(stop.id, 0 if weights else 1)
    return data


def _example_price(experience: Experience):
    """The first ticket on sale: the preview shows what one such ticket gives everyone."""
    return next((pc for pc in experience.price_categories if pc.is_active), None)


def _page(experience, form, status=200, error=None, preview=None):
    now = utcnow()
    in_force = split_rules.rule_in_force(db.session, experience, now)
    return page(
        "manage/split_rules.html",
        status,
        error,
        experience=experience,
        form=form,
        versions=split_rules.versions(db.session, experience),
        in_force=in_force,
        now=now,
        preview=preview,
        example=_example_price(experience),
        party_labels=PARTY_LABELS,
        parties=list(Party),
        stops={stop.id: stop for stop in experience.stops},
        family_names={stop.family_id: stop.family.name for stop in _hosted_stops(experience)},
        format_percent=format_percent,
        can_approve=tenancy.has_role(acting_user(), experience.association_id, (Role.ADMIN,)),
    )


@bp.route(f"/experiences/<{ID}:experience_id>/split-rules", methods=["GET", "POST"])
@managers_only
def split_rules_page(experience_id: int):
    experience = scoped(Experience, experience_id)
    stops = _hosted_stops(experience)
    today = local_today()
    if request.method == "GET":
        latest = next(iter(split_rules.versions(db.session, experience)), None)
        form = split_rule_form(stops, today, formdata=None, data=_form_data(latest, stops))
        return _page(experience, form)

    form = split_rule_form(stops, today)
    if not form.validate():
        return _page(experience, form, status=400)
    parts, weights = form.parts(), form.stop_weights()
    try:
        with unit_of_work():
            if request.form.get("action") != APPROVE:
                example = _example_price(experience)
                preview = split_rules.example_split(
                    db.session, experience, parts, weights, example.price_cents if example else 0, 1
                )
                return _page(experience, form, preview=preview)
            now = utcnow()
            day = form.effective_on.data
            effective_from = now if day is None or day == today else local_to_utc(day, time.min)
            rule = split_rules.approve_rule(
                db.session, experience, parts, acting_user(), effective_from, now, weights
            )
    except DomainError as error:
        return _page(experience, form, error.status_code, error)
    return done(
        _("Version %(version)d of the split rule is approved.", version=rule.version),
        "manage.split_rules_page",
        experience_id=experience.id,
    )
