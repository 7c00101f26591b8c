"""Routes as their curator composes them: texts, fee and policy, legs added, removed and
moved, publishing; and the answers of the associations asked to take part. An association
curates its own routes; platform admins curate the platform's (a route without curator)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.routes_manage import ActivityLegForm, NightLegForm, RouteForm, route_form_data
from ...i18n import current_locale
from ...models import (
    Association,
    Experience,
    ExperienceStatus,
    Family,
    Homestay,
    Route,
)
from ...services.routes import composing
from ...unit_of_work import unit_of_work
from ..access import managers_only, platform_admin_required
from .blueprint import ID, acting_user, bp, done, experience_title, page, scoped

#: A new route's policy rows, as experiences start.
NEW_POLICY = [{"hours": 72, "percent": 100}, {"hours": 24, "percent": 50}]


def _new_route_data() -> dict:
    return {"curator_fee": "0.00", "max_people_per_booking": 8, "policy": NEW_POLICY}


# Lists and new routes ---------------------------------------------------------------------


@bp.get(f"/associations/<{ID}:association_id>/routes")
@managers_only
def routes(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/routes.html",
        association=association,
        routes=composing.curated_routes(db.session, association),
        requests=composing.requests_to(db.session, association),
    )


@bp.get("/platform-routes")
@platform_admin_required
def platform_routes():
    return page(
        "manage/routes.html",
        association=None,
        routes=composing.curated_routes(db.session, None),
        requests=[],
    )


def _create(curator, template_context):
    form = RouteForm() if request.method == "POST" else RouteForm(data=_new_route_data())
    context = {"form": form, "route": None, **template_context}
    if request.method == "GET":
        return page("manage/route_form.html", **context)
    if not form.validate():
        return page("manage/route_form.html", 400, **context)
    try:
        with unit_of_work():
            route = composing.create_route(db.session, curator, form.to_input())
    except DomainError as error:
        return page("manage/route_form.html", error.status_code, error, **context)
    message = _("The route was saved as a draft. Add its legs.")
    return done(message, "manage.edit_route", route_id=route.id)


@bp.route(f"/associations/<{ID}:association_id>/routes/new", methods=["GET", "POST"])
@managers_only
def new_route(association_id: int):
    association = scoped(Association, association_id)
    return _create(association, {"association": association})


@bp.route("/platform-routes/new", methods=["GET", "POST"])
@platform_admin_required
def new_platform_route():
    return _create(None, {"association": None})


# One route --------------------------------------------------------------------------------


def _route(route_id: int) -> Route:
    """The route if the user may curate it: its association's managers, or platform admins
    (who alone curate the platform's routes)."""
    return scoped(Route, route_id)


def _leg_choices():
    """What a leg can be: any published experience and any active homestay, of any
    association (a route crosses communities; each association approves its part)."""
    experiences = db.session.scalars(
        select(Experience)
        .where(Experience.status == ExperienceStatus.PUBLISHED)
        .options(joinedload(Experience.association))
        .order_by(Experience.association_id, Experience.slug)
    ).unique()
    homestays = db.session.scalars(
        select(Homestay)
        .where(Homestay.is_active.is_(True))
        .options(joinedload(Homestay.family).joinedload(Family.association))
        .order_by(Homestay.id)
    ).unique()
    return (
        [(e.id, f"{e.association.name}: {experience_title(e)}") for e in experiences],
        # A family may keep several homestays, and two families may name theirs alike.
        [(h.id, f"{h.family.association.name}: {h.name} ({h.family.name})") for h in homestays],
    )


def _route_page(route, status=200, error=None, form=None, activity=None, night=None):
    experiences, homestays = _leg_choices()
    return page(
        "manage/route_form.html",
        status,
        error,
        route=route,
        association=route.curator,
        form=form or RouteForm(formdata=None, data=route_form_data(route)),
        activity_form=activity or ActivityLegForm(experiences, formdata=None),
        night_form=night or NightLegForm(homestays, formdata=None),
        locked=route.status != ExperienceStatus.DRAFT or composing.is_booked(db.session, route),
        statuses={p.association_id: p.status for p in route.participations},
        locale=current_locale(),
    )


@bp.route(f"/routes/<{ID}:route_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_route(route_id: int):
    route = _route(route_id)
    if request.method == "GET":
        return _route_page(route)
    form = RouteForm()
    if not form.validate():
        return _route_page(route, 400, form=form)
    try:
        with unit_of_work():
            composing.update_route(db.session, route, form.to_input())
    except DomainError as error:
        db.session.rollback()
        return _route_page(_route(route_id), error.status_code, error, form=form)
    return done(_("Your changes were saved."), "manage.edit_route", route_id=route_id)


def _change(route_id: int, change, message: str, **forms):
    """Run ``change(route)`` in one transaction; on a refusal, the page again with the
    message and nothing written."""
    route = _route(route_id)
    try:
        with unit_of_work():
            change(route)
    except DomainError as error:
        db.session.rollback()
        return _route_page(_route(route_id), error.status_code, error, **forms)
    return done(message, "manage.edit_route", route_id=route_id)


@bp.post(f"/routes/<{ID}:route_id>/activities")
@managers_only
def add_route_activity(route_id: int):
    route = _route(route_id)
    experiences, _homestays = _leg_choices()
    form = ActivityLegForm(experiences)
    if not form.validate():
        return _route_page(route, 400, activity=form)
    experience = db.session.get(Experience, form.experience_id.data)
    return _change(
        route_id,
        lambda r: composing.add_activity(
            db.session, r, experience, form.day.data, form.start_time.data, acting_user(), utcnow()
        ),
        _("The activity was added."),
        activity=form,
    )


@bp.post(f"/routes/<{ID}:route_id>/nights")
@managers_only
def add_route_night(route_id: int):
    route = _route(route_id)
    _experiences, homestays = _leg_choices()
    form = NightLegForm(homestays)
    if not form.validate():
        return _route_page(route, 400, night=form)
    homestay = db.session.get(Homestay, form.homestay_id.data)
    return _change(
        route_id,
        lambda r: composing.add_night(
            db.session, r, homestay, form.day.data, acting_user(), utcnow()
        ),
        _("The night was added."),
        night=form,
    )


@bp.post(f"/routes/<{ID}:route_id>/legs/<{ID}:leg_id>/remove")
@managers_only
def remove_route_leg(route_id: int, leg_id: int):
    return _change(
        route_id,
        lambda r: composing.remove_leg(db.session, r, leg_id),
        _("The leg was removed."),
    )


@bp.post(f"/routes/<{ID}:route_id>/legs/<{ID}:leg_id>/move")
@managers_only
def move_route_leg(route_id: int, leg_id: int):
    up = request.form.get("direction") != "down"
    return _change(
        route_id,
        lambda r: composing.move_leg(db.session, r, leg_id, up),
        _("The leg was moved."),
    )


@bp.post(f"/routes/<{ID}:route_id>/publish")
@managers_only
def publish_route(route_id: int):
    return _change(
        route_id,
        lambda r: composing.publish(db.session, r),
        _("The route is published."),
    )


@bp.post(f"/routes/<{ID}:route_id>/withdraw")
@managers_only
def withdraw_route(route_id: int):
    return _change(
        route_id,
        lambda r: composing.withdraw(db.session, r),
        _("The route is no longer on sale; its bookings stand."),
    )


# Taking part in other associations' routes ------------------------------------------------


@bp.post(f"/associations/<{ID}:association_id>/routes/<{ID}:route_id>/answer")
@managers_only
def answer_route(association_id: int, route_id: int):
    association = scoped(Association, association_id)
    approve = request.form.get("answer") == "approve"
    with unit_of_work():
        composing.decide(db.session, association, route_id, approve, acting_user(), utcnow())
    message = (
        _("%(name)s takes part in this route.", name=association.name)
        if approve
        else _("%(name)s declined taking part in this route.", name=association.name)
    )
    return done(message, "manage.routes", association_id=association_id)
