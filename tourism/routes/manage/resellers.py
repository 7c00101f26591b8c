"""Resellers of an association (its admins): who may sell its experiences through the OCTO
API, with which key and commission. A new key is shown once, on the page that created it."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.channels import RateForm, ResellerForm
from ...models import Association, Experience, Reseller, Role
from ...services.channels import resellers
from ...unit_of_work import unit_of_work
from ..access import admins_only
from .blueprint import ID, acting_user, bp, done, experience_title, page, scoped

ADMINS = (Role.ADMIN,)


def _offer(form: ResellerForm, association: Association) -> ResellerForm:
    experiences = resellers.association_experiences(db.session, association)
    form.offer_experiences([(e, experience_title(e)) for e in experiences])
    return form


def _key_page(reseller: Reseller, key: str):
    """The one page that shows a key; nothing keeps a copy of it (no cache, no history)."""
    body, status = page(
        "manage/reseller_key.html",
        201,
        reseller=reseller,
        key=key,
        association=reseller.association,
    )
    return body, status, {"Cache-Control": "no-store"}


@bp.get(f"/associations/<{ID}:association_id>/resellers")
@admins_only
def reseller_list(association_id: int):
    association = scoped(Association, association_id, ADMINS)
    return page(
        "manage/resellers.html",
        association=association,
        resellers=resellers.list_resellers(db.session, association),
    )


@bp.route(f"/associations/<{ID}:association_id>/resellers/new", methods=["GET", "POST"])
@admins_only
def new_reseller(association_id: int):
    association = scoped(Association, association_id, ADMINS)
    form = _offer(ResellerForm(), association)
    context = {"form": form, "association": association, "reseller": None}
    if request.method == "GET":
        return page("manage/reseller_form.html", **context)
    if not form.validate():
        return page("manage/reseller_form.html", 400, **context)
    try:
        with unit_of_work():
            reseller, key = resellers.create_reseller(
                db.session, acting_user(), association, form.to_input(), utcnow()
            )
    except DomainError as error:
        return page("manage/reseller_form.html", error.status_code, error, **context)
    return _key_page(reseller, key)


@bp.route(f"/resellers/<{ID}:reseller_id>/edit", methods=["GET", "POST"])
@admins_only
def edit_reseller(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    association = reseller.association
    if request.method == "GET":
        form = ResellerForm(
            data={
                "name": reseller.name,
                "contact_email": reseller.contact_email,
                "contact_phone": reseller.contact_phone,
                "commission": reseller.commission_percent,
                "prepaid": reseller.prepaid,
                "experiences": [str(e.id) for e in reseller.experiences],
            }
        )
    else:
        form = ResellerForm()
    _offer(form, association)
    context = {"form": form, "association": association, "reseller": reseller}
    if request.method == "GET":
        return page("manage/reseller_form.html", **context)
    if not form.validate():
        return page("manage/reseller_form.html", 400, **context)
    try:
        with unit_of_work():
            resellers.update_reseller(
                db.session, acting_user(), reseller, form.to_input(), utcnow()
            )
    except DomainError as error:
        return page("manage/reseller_form.html", error.status_code, error, **context)
    return done(_("The reseller was saved."), "manage.reseller_list", association_id=association.id)


@bp.post(f"/resellers/<{ID}:reseller_id>/revoke")
@admins_only
def revoke_reseller_key(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    association_id = reseller.association_id
    with unit_of_work():
        resellers.revoke_key(db.session, acting_user(), reseller, utcnow())
    return done(
        _("The key was revoked: the reseller can no longer book."),
        "manage.reseller_list",
        association_id=association_id,
    )


@bp.post(f"/resellers/<{ID}:reseller_id>/key")
@admins_only
def new_reseller_key(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    with unit_of_work():
        key = resellers.issue_key(db.session, acting_user(), reseller, utcnow())
    return _key_page(reseller, key)


def _rates_page(reseller: Reseller, status: int = 200, error=None, failed=None):
    rates = {rate.experience_id: rate for rate in reseller.rates}
    rows = [
        (experience, experience_title(experience), rates.get(experience.id))
        for experience in reseller.experiences
    ]
    return page(
        "manage/reseller_rates.html",
        status,
        error,
        reseller=reseller,
        association=reseller.association,
        rows=rows,
        form=failed or RateForm(),
        failed_id=failed.experience_id if failed else None,
    )


@bp.get(f"/resellers/<{ID}:reseller_id>/rates")
@admins_only
def reseller_rates(reseller_id: int):
    return _rates_page(scoped(Reseller, reseller_id, ADMINS))


@bp.post(f"/resellers/<{ID}:reseller_id>/rates/<{ID}:experience_id>")
@admins_only
def set_reseller_rate(reseller_id: int, experience_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    experience = db.session.get(Experience, experience_id)
    form = RateForm()
    form.experience_id = experience_id
    if experience is None or not resellers.may_sell(reseller, experience):
        return _rates_page(reseller, 404, _("This reseller may not sell that experience."))
    if not form.validate():
        return _rates_page(reseller, 400, failed=form)
    try:
        with unit_of_work():
            if form.net_cents() is not None:
                resellers.set_rate(
                    db.session,
                    acting_user(),
                    reseller,
                    experience,
                    0,
                    utcnow(),
                    net_cents=form.net_cents(),
                )
            elif form.commission_bp() is None:
                resellers.remove_rate(db.session, acting_user(), reseller, experience, utcnow())
            else:
                resellers.set_rate(
                    db.session, acting_user(), reseller, experience, form.commission_bp(), utcnow()
                )
    except DomainError as error:
        return _rates_page(reseller, error.status_code, error, failed=form)
    return done(
        _("The commission was saved: it applies to sales from now on."),
        "manage.reseller_rates",
        reseller_id=reseller.id,
    )
