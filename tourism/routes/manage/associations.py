"""The management dashboard and new associations (platform admins)."""

from __future__ import annotations

from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import AssociationDetailsForm, AssociationForm
from ...models import Association, Role
from ...services.associations import management
from ...unit_of_work import unit_of_work
from ..access import admins_only, managers_only, platform_admin_required
from .blueprint import ID, acting_user, bp, done, page, scoped

# Dashboard and associations ---------------------------------------------------------------


@bp.get("/")
@managers_only
def dashboard():
    cards = management.dashboard(db.session, acting_user(), utcnow())
    return page("manage/dashboard.html", cards=cards)


@bp.route("/associations/new", methods=["GET", "POST"])
@platform_admin_required
def new_association():
    form = AssociationForm()
    if not form.is_submitted():
        return page("manage/association_form.html", form=form)
    if not form.validate():
        return page("manage/association_form.html", 400, form=form)
    try:
        with unit_of_work():
            association = management.create_association(
                db.session, acting_user(), form.to_input(), utcnow()
            )
    except DomainError as error:
        return page("manage/association_form.html", error.status_code, error, form=form)
    return done(
        _("%(name)s was created. Invite its first admin.", name=association.name),
        "manage.invite",
        association_id=association.id,
    )


@bp.route(f"/associations/<{ID}:association_id>/edit", methods=["GET", "POST"])
@admins_only
def edit_association(association_id: int):
    """The association's own details, kept by its admins: who sells the visits (legal name,
    RUC, address) and how tourists reach it."""
    association = scoped(Association, association_id, (Role.ADMIN,))
    form = AssociationDetailsForm(obj=association)
    context = {"form": form, "association": association}
    if not form.is_submitted():
        return page("manage/association_form.html", **context)
    if not form.validate():
        return page("manage/association_form.html", 400, **context)
    try:
        with unit_of_work():
            management.update_association(
                db.session, acting_user(), association, form.to_details(), utcnow()
            )
    except DomainError as error:
        return page("manage/association_form.html", error.status_code, error, **context)
    return done(_("The details of %(name)s are saved.", name=form.name.data), "manage.dashboard")
