"""A family's homestays, one or several (beds, price per person and night, meals, blackout
nights, retiring one), the coordinates of homestays and stops (admins; demo values are
marked approximate), and who sleeps at a family's homes on which night."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.routes_manage import BlackoutForm, HomestayForm, homestay_form_data
from ...models import Experience, Family, Homestay, Role, Stop
from ...services.access import tenancy
from ...services.routes import homestays
from ...timefmt import local_today
from ...unit_of_work import unit_of_work
from ..access import admins_only, managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped

ADMINS = (Role.ADMIN,)


def _homestay_page(family, homestay, status=200, error=None, form=None, blackout_form=None):
    """One homestay of the family (``homestay`` None: a new one)."""
    if form is None:
        data = homestay_form_data(homestay) if homestay else {"name": f"Casa {family.name}"}
        form = HomestayForm(formdata=None, data=data)
    return page(
        "manage/homestay.html",
        status,
        error,
        family=family,
        association=family.association,
        homestay=homestay,
        form=form,
        blackout_form=blackout_form or BlackoutForm(formdata=None),
        can_place=tenancy.has_role(acting_user(), family.association_id, ADMINS),
        today=local_today(),
    )


@bp.get(f"/families/<{ID}:family_id>/homestays")
@managers_only
def family_homestays(family_id: int):
    """Every homestay of a family, those taking guests first."""
    family = scoped(Family, family_id)
    return page(
        "manage/homestays.html",
        family=family,
        association=family.association,
        homestays=homestays.family_homestays(db.session, family),
    )


def _save(family, homestay):
    form = HomestayForm()
    if not form.validate():
        return _homestay_page(family, homestay, 400, form=form)
    try:
        with unit_of_work():
            saved = homestays.save_homestay(db.session, family, homestay, form.to_input())
            homestay_id = saved.id
    except DomainError as error:
        db.session.rollback()
        if homestay is not None:
            homestay = scoped(Homestay, homestay.id)
        return _homestay_page(
            scoped(Family, family.id), homestay, error.status_code, error, form=form
        )
    return done(_("The homestay is saved."), "manage.edit_homestay", homestay_id=homestay_id)


@bp.route(f"/families/<{ID}:family_id>/homestays/new", methods=["GET", "POST"])
@managers_only
def new_homestay(family_id: int):
    family = scoped(Family, family_id)
    if request.method == "GET":
        return _homestay_page(family, None)
    return _save(family, None)


@bp.route(f"/homestays/<{ID}:homestay_id>", methods=["GET", "POST"])
@managers_only
def edit_homestay(homestay_id: int):
    homestay = scoped(Homestay, homestay_id)
    if request.method == "GET":
        return _homestay_page(homestay.family, homestay)
    return _save(homestay.family, homestay)


@bp.post(f"/homestays/<{ID}:homestay_id>/retire")
@managers_only
def retire_homestay(homestay_id: int):
    homestay = scoped(Homestay, homestay_id)
    family_id = homestay.family_id
    with unit_of_work():
        homestays.retire_homestay(db.session, homestay)
    return done(
        _("The homestay takes no new guests."), "manage.family_homestays", family_id=family_id
    )


def _homestay_change(homestay_id: int, change, message: str, roles=tenancy.MANAGERS, **forms):
    homestay = scoped(Homestay, homestay_id, roles)
    try:
        with unit_of_work():
            change(homestay)
    except DomainError as error:
        db.session.rollback()
        homestay = scoped(Homestay, homestay_id, roles)
        return _homestay_page(homestay.family, homestay, error.status_code, error, **forms)
    return done(message, "manage.edit_homestay", homestay_id=homestay_id)


@bp.post(f"/homestays/<{ID}:homestay_id>/blackouts")
@managers_only
def add_homestay_blackout(homestay_id: int):
    homestay = scoped(Homestay, homestay_id)
    form = BlackoutForm()
    if not form.validate():
        return _homestay_page(homestay.family, homestay, 400, blackout_form=form)
    night = form.night.data
    return _homestay_change(
        homestay_id,
        lambda h: homestays.add_blackout(db.session, h, night, local_today()),
        _("The night is closed to guests."),
        blackout_form=form,
    )


@bp.post(f"/homestays/<{ID}:homestay_id>/blackouts/<{ID}:blackout_id>/remove")
@managers_only
def remove_homestay_blackout(homestay_id: int, blackout_id: int):
    return _homestay_change(
        homestay_id,
        lambda h: homestays.remove_blackout(db.session, h, blackout_id),
        _("The night is open to guests again."),
    )


@bp.post(f"/homestays/<{ID}:homestay_id>/coordinates")
@admins_only
def homestay_coordinates(homestay_id: int):
    form = request.form
    return _homestay_change(
        homestay_id,
        lambda h: homestays.set_coordinates(
            h, form.get("latitude", ""), form.get("longitude", ""), "approximate" in form
        ),
        _("The coordinates are saved."),
        roles=ADMINS,
    )


# Stops' coordinates -----------------------------------------------------------------------


def _stops(experience):
    return list(
        db.session.scalars(
            select(Stop)
            .where(Stop.experience_id == experience.id)
            .options(selectinload(Stop.texts))
            .order_by(Stop.position)
        )
    )


def _places_page(experience, status=200, error=None):
    return page(
        "manage/stop_places.html",
        status,
        error,
        experience=experience,
        association=experience.association,
        stops=_stops(experience),
        can_place=tenancy.has_role(acting_user(), experience.association_id, ADMINS),
    )


@bp.get(f"/experiences/<{ID}:experience_id>/places")
@managers_only
def stop_places(experience_id: int):
    """The stops' coordinates: staff read them, admins change them."""
    return _places_page(scoped(Experience, experience_id))


@bp.post(f"/stops/<{ID}:stop_id>/coordinates")
@admins_only
def stop_coordinates(stop_id: int):
    stop = scoped(Stop, stop_id, ADMINS)
    experience_id = stop.experience_id
    form = request.form
    try:
        with unit_of_work():
            homestays.set_coordinates(
                stop, form.get("latitude", ""), form.get("longitude", ""), "approximate" in form
            )
    except DomainError as error:
        db.session.rollback()
        return _places_page(scoped(Experience, experience_id, ADMINS), error.status_code, error)
    return done(_("The coordinates are saved."), "manage.stop_places", experience_id=experience_id)


# Guests of a family -----------------------------------------------------------------------


@bp.get(f"/families/<{ID}:family_id>/guests")
@managers_only
def family_guests(family_id: int):
    """Who sleeps at the family's home on which night, with their needs: for the family,
    printed or read out, and for the staff who prepare the meals."""
    family = scoped(Family, family_id)
    return page(
        "manage/family_guests.html",
        family=family,
        association=family.association,
        guests=homestays.guests(db.session, family, local_today(), utcnow()),
    )
