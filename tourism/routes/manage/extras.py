"""An association's extras: the list, a new one, changes, and retiring one."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...forms.extras import ExtraForm, extra_form_data
from ...models import Association, Experience, Extra, Family
from ...services.catalog import extras
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, bp, done, experience_title, page, scoped


@bp.get(f"/associations/<{ID}:association_id>/extras")
@managers_only
def extras_list(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/extras.html",
        association=association,
        extras=extras.association_extras(db.session, association),
    )


def _form(association, extra=None, formdata=True) -> ExtraForm:
    if formdata:
        form = ExtraForm()
    else:
        data = extra_form_data(extra) if extra is not None else {}
        form = ExtraForm(formdata=None, data=data)
    families = db.session.scalars(
        select(Family).where(Family.association_id == association.id).order_by(Family.name)
    )
    experiences = db.session.scalars(
        select(Experience)
        .where(Experience.association_id == association.id)
        .order_by(Experience.id)
    )
    form.offer(association, families, experiences, experience_title)
    return form


def _save(association, extra, form):
    context = {"association": association, "extra": extra, "form": form}
    if not form.validate():
        return page("manage/extra_form.html", 400, **context)
    try:
        with unit_of_work():
            extras.save_extra(db.session, association, extra, form.to_input())
    except DomainError as error:
        return page("manage/extra_form.html", error.status_code, error, **context)
    return done(_("The extra is saved."), "manage.extras_list", association_id=association.id)


@bp.route(f"/associations/<{ID}:association_id>/extras/new", methods=["GET", "POST"])
@managers_only
def new_extra(association_id: int):
    association = scoped(Association, association_id)
    if request.method == "GET":
        form = _form(association, formdata=False)
        return page("manage/extra_form.html", association=association, extra=None, form=form)
    return _save(association, None, _form(association))


@bp.route(f"/extras/<{ID}:extra_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_extra(extra_id: int):
    extra = scoped(Extra, extra_id)
    association = extra.association
    if request.method == "GET":
        form = _form(association, extra, formdata=False)
        return page("manage/extra_form.html", association=association, extra=extra, form=form)
    return _save(association, extra, _form(association, extra))


@bp.post(f"/extras/<{ID}:extra_id>/retire")
@managers_only
def retire_extra(extra_id: int):
    extra = scoped(Extra, extra_id)
    association_id = extra.association_id
    with unit_of_work():
        extras.retire_extra(db.session, extra)
    return done(
        _("The extra is no longer offered."), "manage.extras_list", association_id=association_id
    )
