"""Management pages for association staff and admins (a platform admin sees every association).

Views are thin: a form, one service call, then a commit and a redirect, or the page again
with the error and its status. Every object is looked up through ``tenancy.get_scoped``, so
another association's experience, family, schedule or departure is simply not found (404).
Schedules, departures and the operations board live in ``manage_operations``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..forms_manage import AssociationForm, FamilyForm, GuideForm, InviteForm, PhotoForm
from ..forms_manage_experience import ExperienceForm, experience_form_data, new_experience_data
from ..models import Association, Experience, Family, Role
from ..services import experiences_admin, management, notifications, photos, tenancy
from .access import managers_only, platform_admin_required
from .effects import send_queued_emails
from .helpers import current_locale
from .media import upload_dir

bp = Blueprint("manage", __name__, url_prefix="/manage")

ID = "int(max=2147483647)"
BLANK_STOP_ROWS = 2


def acting_user():
    return current_user._get_current_object()


def scoped(model, object_id: int, roles=tenancy.MANAGERS):
    return tenancy.get_scoped(db.session, model, object_id, acting_user(), roles)


def page(template: str, status: int = 200, error: DomainError | str | None = None, **context):
    return render_template(template, error=str(error) if error else None, **context), status


def done(message: str, endpoint: str, **values):
    flash(message)
    return redirect(url_for(endpoint, **values), code=303)


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
        association = management.create_association(
            db.session, acting_user(), form.to_input(), utcnow()
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return page("manage/association_form.html", error.status_code, error, form=form)
    return done(
        _("%(name)s was created. Invite its first admin.", name=association.name),
        "manage.invite",
        association_id=association.id,
    )


# Experiences ------------------------------------------------------------------------------


@bp.get(f"/associations/<{ID}:association_id>/experiences")
@managers_only
def experiences(association_id: int):
    association = scoped(Association, association_id)
    items = experiences_admin.list_experiences(db.session, association)
    return page("manage/experiences.html", association=association, experiences=items)


def _experience_page(form, association, experience=None, status=200, error=None):
    return page(
        "manage/experience_form.html",
        status,
        error,
        form=form,
        association=association,
        experience=experience,
    )


@bp.route(f"/associations/<{ID}:association_id>/experiences/new", methods=["GET", "POST"])
@managers_only
def new_experience(association_id: int):
    association = scoped(Association, association_id)
    families = management.list_families(db.session, association)
    if request.method == "GET":
        form = ExperienceForm(families, data=new_experience_data(association))
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, association)
    form = ExperienceForm(families)
    if not form.validate():
        return _experience_page(form, association, status=400)
    try:
        experience = experiences_admin.create_experience(db.session, association, form.to_input())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _experience_page(form, association, status=error.status_code, error=error)
    return done(
        _("The experience was saved as a draft."),
        "manage.edit_experience",
        experience_id=experience.id,
    )


@bp.route(f"/experiences/<{ID}:experience_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_experience(experience_id: int):
    experience = scoped(Experience, experience_id)
    association = experience.association
    families = management.list_families(db.session, association)
    if request.method == "GET":
        form = ExperienceForm(families, data=experience_form_data(experience))
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, association, experience)
    form = ExperienceForm(families)
    if not form.validate():
        return _experience_page(form, association, experience, status=400)
    try:
        experiences_admin.update_experience(db.session, experience, form.to_input())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _experience_page(form, association, experience, error.status_code, error)
    return done(
        _("Your changes were saved."), "manage.edit_experience", experience_id=experience.id
    )


def _change_status(experience_id: int, change, message: str):
    experience = scoped(Experience, experience_id)
    try:
        change(db.session, experience)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form = ExperienceForm(
            management.list_families(db.session, experience.association),
            formdata=None,
            data=experience_form_data(experience),
        )
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, experience.association, experience, error.status_code, error)
    return done(message, "manage.edit_experience", experience_id=experience.id)


@bp.post(f"/experiences/<{ID}:experience_id>/publish")
@managers_only
def publish_experience(experience_id: int):
    return _change_status(
        experience_id,
        experiences_admin.publish_experience,
        _("The experience is published: tourists can find and book it."),
    )


@bp.post(f"/experiences/<{ID}:experience_id>/archive")
@managers_only
def archive_experience(experience_id: int):
    return _change_status(
        experience_id,
        experiences_admin.archive_experience,
        _("The experience is archived. Bookings already made are kept."),
    )


# Photos -----------------------------------------------------------------------------------


def _photos_page(experience, form, status=200, error=None):
    items = photos.list_photos(db.session, experience)
    return page("manage/photos.html", status, error, experience=experience, photos=items, form=form)


@bp.route(f"/experiences/<{ID}:experience_id>/photos", methods=["GET", "POST"])
@managers_only
def experience_photos(experience_id: int):
    experience = scoped(Experience, experience_id)
    form = PhotoForm()
    if request.method == "GET":
        return _photos_page(experience, form)
    if not form.validate():
        return _photos_page(experience, form, 400)
    try:
        photos.add_photo(
            db.session,
            experience,
            form.photo.data.stream,
            upload_dir(),
            form.alt_es.data,
            form.alt_en.data or "",
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _photos_page(experience, form, error.status_code, error)
    return done(_("The photo was added."), "manage.experience_photos", experience_id=experience.id)


@bp.post(f"/photos/<{ID}:photo_id>/delete")
@managers_only
def delete_photo(photo_id: int):
    photo = photos.scoped_photo(db.session, photo_id, acting_user())
    experience_id = photo.experience_id
    names = photos.delete_photo(db.session, photo)
    db.session.commit()
    photos.remove_files(upload_dir(), names)  # only once the row is gone for good
    return done(
        _("The photo was deleted."), "manage.experience_photos", experience_id=experience_id
    )


# Families and guides ----------------------------------------------------------------------


@bp.get(f"/associations/<{ID}:association_id>/families")
@managers_only
def families(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/families.html",
        association=association,
        families=management.list_families(db.session, association),
        summary=management.roster_summary(db.session, association),
    )


def _save_family(form, association, family=None):
    template = "manage/family_form.html"
    if not form.validate():
        return page(template, 400, form=form, association=association, family=family)
    try:
        if family is None:
            management.create_family(db.session, association, form.to_input())
        else:
            management.update_family(db.session, family, form.to_input())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
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
                "languages": [c for c in family.languages.split(",") if c],
                "representative_gender": family.representative_gender or "",
                "is_active": family.is_active,
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
        guides=management.list_guides(db.session, association),
        summary=management.roster_summary(db.session, association),
        can_invite=tenancy.has_role(acting_user(), association.id, (Role.ADMIN,)),
    )


@bp.route(f"/guides/<{ID}:membership_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_guide(membership_id: int):
    membership = management.guide_membership(db.session, membership_id, acting_user())
    context = {"membership": membership, "association": membership.association}
    if request.method == "GET":
        under_30 = {True: "yes", False: "no"}.get(membership.under_30, "")
        form = GuideForm(
            data={
                "phone": membership.phone,
                "community": membership.community,
                "languages": [c for c in membership.languages.split(",") if c],
                "under_30": under_30,
            }
        )
        return page("manage/guide_form.html", form=form, **context)
    form = GuideForm()
    if not form.validate():
        return page("manage/guide_form.html", 400, form=form, **context)
    try:
        management.update_guide(db.session, membership, form.to_input())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return page("manage/guide_form.html", error.status_code, error, form=form, **context)
    return done(
        _("The guide's details were saved."),
        "manage.guides",
        association_id=membership.association_id,
    )


# Invitations ------------------------------------------------------------------------------


def invitation_link(token: str) -> str:
    """The invitee's one-time address on the public site (``PUBLIC_URL``), as in the email."""
    return notifications.absolute_url("auth.accept_invitation", token=token)


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
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return page("manage/invite.html", error.status_code, error, **context)
    send_queued_emails()
    context.update(
        invitation=invitation, form=InviteForm(management.invitable_roles(user), formdata=None)
    )
    return page("manage/invite.html", **context)


from . import manage_operations, manage_splits  # noqa: E402, F401  (their views join this blueprint)
