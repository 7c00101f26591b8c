"""The management dashboard and new associations (platform admins)."""

from __future__ import annotations

from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import AssociationForm
from ...services.associations import management
from ...unit_of_work import unit_of_work
from ..access import managers_only, platform_admin_required
from .blueprint import acting_user, bp, done, page

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
