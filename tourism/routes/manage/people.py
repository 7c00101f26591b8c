"""The families and guides rosters, and invitations of staff and guides."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import FamilyForm, GuideForm, InviteForm
from ...i18n import current_locale
from ...models import Association, Family, Role
from ...services.access import tenancy
from ...services.associations import management, rosters
from ...services.messages import links
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped

# Families and guides ----------------------------------------------------------------------


@bp.get(f"/associations/<{ID}:association_id>/families")
@managers_only
def families(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/families.html",
        association=association,
        families=rosters.list_families(db.session, association),
        summary=rosters.roster_summary(db.session, association),
    )


def _save_family(form, association, family=None):
    template = "manage/family_form.html"
    if not form.validate():
        return page(template, 400, form=form, association=association, family=family)
    try:
        with unit_of_work():
            if family is None:
                rosters.create_family(db.session, association, form.to_input())
            else:
                rosters.update_family(db.session, family, form.to_input())
    except DomainError as error:
        return page(template, error.status_code, error, form=form, association=association)
    return done(_("The family was saved."), "manage.families", association_id=association.id)


@bp.route(f"/associations/<{ID}:association_id>/families/new", methods=["GET", "POST"])
@managers_only
def new_family(association_id: int):
    association = scoped(Association, association_id)
    form = FamilyForm()
    if request.method == "GET":
        return page("manage/family_form.html", form=form, association=association, family=None)
    return _save_family(form, association)


@bp.route(f"/families/<{ID}:family_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_family(family_id: int):
    family = scoped(Family, family_id)
    if request.method == "GET":
        form = FamilyForm(
            data={
                "name": family.name,
                "community": family.community,
                "contact_name": family.contact_name,
                "contact_phone": family.contact_phone,
                "email": family.email,
                "languages": [c for c in family.languages.split(",") if c],
                "representative_gender": family.representative_gender or "",
                "is_active": family.is_active,
                "message_consent": family.message_consent_at is not None,
                "message_channel": family.message_channel or "whatsapp",
            }
        )
        return page(
            "manage/family_form.html", form=form, association=family.association, family=family
        )
    return _save_family(FamilyForm(), family.association, family)


@bp.get(f"/associations/<{ID}:association_id>/guides")
@managers_only
def guides(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/guides.html",
        association=association,
        guides=rosters.list_guides(db.session, association),
        summary=rosters.roster_summary(db.session, association),
        can_invite=tenancy.has_role(acting_user(), association.id, (Role.ADMIN,)),
    )


@bp.route(f"/guides/<{ID}:membership_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_guide(membership_id: int):
    membership = rosters.guide_membership(db.session, membership_id, acting_user())
    context = {"membership": membership, "association": membership.association}
    if request.method == "GET":
        under_30 = {True: "yes", False: "no"}.get(membership.under_30, "")
        form = GuideForm(
            data={
                "phone": membership.phone,
                "community": membership.community,
                "languages": [c for c in membership.languages.split(",") if c],
                "under_30": under_30,
                "message_consent": membership.user.message_consent_at is not None,
                "message_channel": membership.user.message_channel or "whatsapp",
            }
        )
        return page("manage/guide_form.html", form=form, **context)
    form = GuideForm()
    if not form.validate():
        return page("manage/guide_form.html", 400, form=form, **context)
    try:
        with unit_of_work():
            rosters.update_guide(db.session, membership, form.to_input())
    except DomainError as error:
        return page("manage/guide_form.html", error.status_code, error, form=form, **context)
    return done(
        _("The guide's details were saved."),
        "manage.guides",
        association_id=membership.association_id,
    )


# Invitations ------------------------------------------------------------------------------


def invitation_link(token: str) -> str:
    """The invitee's one-time address on the public site (``PUBLIC_URL``), as in the email."""
    return links.absolute_url("auth.accept_invitation", token=token)


@bp.route(f"/associations/<{ID}:association_id>/invitations/new", methods=["GET", "POST"])
@managers_only
def invite(association_id: int):
    user = acting_user()
    association = scoped(Association, association_id, roles=(Role.ADMIN,))
    form = InviteForm(management.invitable_roles(user))
    context = {"form": form, "association": association, "invitation": None}
    if request.method == "GET":
        return page("manage/invite.html", **context)
    if not form.validate():
        return page("manage/invite.html", 400, **context)
    try:
        with unit_of_work():
            invitation = management.invite_member(
                db.session,
                user,
                association,
                form.email.data,
                form.role.data,
                utcnow(),
                link=invitation_link,
                language=user.locale or current_locale(),
            )
    except DomainError as error:
        return page("manage/invite.html", error.status_code, error, **context)
    context.update(
        invitation=invitation, form=InviteForm(management.invitable_roles(user), formdata=None)
    )
    return page("manage/invite.html", **context)
