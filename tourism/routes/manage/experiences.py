"""Experiences as staff shape them: texts, prices, stops, policy, payment options, photos,
and publishing."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...errors import DomainError
from ...extensions import db
from ...forms.experiences import ExperienceForm, experience_form_data, new_experience_data
from ...forms.groups import MinimumForm
from ...forms.manage import PhotoForm
from ...models import Association, Experience
from ...services.associations import rosters
from ...services.catalog import experiences as experiences_admin
from ...services.catalog import photos
from ...services.catalog.experience_input import MAX_STOPS
from ...services.operations import minimums
from ...unit_of_work import unit_of_work
from ...uploads import upload_dir
from ..access import managers_only
from .blueprint import BLANK_STOP_ROWS, ID, acting_user, bp, done, page, scoped

#: The name of the "Add a stop" button.
ADD_STOP = "add_stop"

# Experiences ------------------------------------------------------------------------------


@bp.get(f"/associations/<{ID}:association_id>/experiences")
@managers_only
def experiences(association_id: int):
    association = scoped(Association, association_id)
    items = experiences_admin.list_experiences(db.session, association)
    return page("manage/experiences.html", association=association, experiences=items)


def _experience_page(
    form,
    association,
    experience=None,
    status=200,
    error=None,
    minimum_form=None,
    minimum_error=None,
):
    if experience is not None and minimum_form is None:
        minimum_form = MinimumForm(
            formdata=None,
            data={
                "min_participants": experience.min_participants,
                "min_cutoff_hours": experience.min_cutoff_hours,
            },
        )
    return page(
        "manage/experience_form.html",
        status,
        error,
        form=form,
        association=association,
        experience=experience,
        max_stops=MAX_STOPS,
        minimum_form=minimum_form,
        minimum_error=str(minimum_error) if minimum_error else None,
    )


def _one_more_stop(form, association, experience=None):
    """ "Add a stop": the form again as it was typed, with one more empty stop row and
    without the new rows ticked for removal. Nothing is saved or checked yet: it works
    without JavaScript (stops.js adds the row in the page when it can)."""
    form.drop_removed_new_stops()
    form.add_blank_stops(1)
    return _experience_page(form, association, experience)


@bp.route(f"/associations/<{ID}:association_id>/experiences/new", methods=["GET", "POST"])
@managers_only
def new_experience(association_id: int):
    association = scoped(Association, association_id)
    families = rosters.list_families(db.session, association)
    if request.method == "GET":
        form = ExperienceForm(families, data=new_experience_data(association))
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, association)
    form = ExperienceForm(families)
    if ADD_STOP in request.form:
        return _one_more_stop(form, association)
    if not form.validate():
        return _experience_page(form, association, status=400)
    try:
        with unit_of_work():
            experience = experiences_admin.create_experience(
                db.session, association, form.to_input()
            )
    except DomainError as error:
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
    families = rosters.list_families(db.session, association)
    if request.method == "GET":
        form = ExperienceForm(families, data=experience_form_data(experience))
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, association, experience)
    form = ExperienceForm(families)
    if ADD_STOP in request.form:
        return _one_more_stop(form, association, experience)
    if not form.validate():
        return _experience_page(form, association, experience, status=400)
    try:
        with unit_of_work():
            experiences_admin.update_experience(db.session, experience, form.to_input())
    except DomainError as error:
        return _experience_page(form, association, experience, error.status_code, error)
    return done(
        _("Your changes were saved."), "manage.edit_experience", experience_id=experience.id
    )


def _change_status(experience_id: int, change, message: str):
    experience = scoped(Experience, experience_id)
    try:
        with unit_of_work():
            change(db.session, experience)
    except DomainError as error:
        form = ExperienceForm(
            rosters.list_families(db.session, experience.association),
            formdata=None,
            data=experience_form_data(experience),
        )
        form.add_blank_stops(BLANK_STOP_ROWS)
        return _experience_page(form, experience.association, experience, error.status_code, error)
    return done(message, "manage.edit_experience", experience_id=experience.id)


@bp.post(f"/experiences/<{ID}:experience_id>/minimum")
@managers_only
def experience_minimum(experience_id: int):
    """Set the visitors each departure needs to run, and the cutoff that decides it."""
    experience = scoped(Experience, experience_id)
    minimum_form = MinimumForm()
    error = None
    status = 400
    if minimum_form.validate():
        try:
            with unit_of_work():
                minimums.set_minimum(
                    experience,
                    minimum_form.min_participants.data,
                    minimum_form.min_cutoff_hours.data,
                )
        except DomainError as failure:
            error, status = failure, failure.status_code
        else:
            return done(
                _("The minimum was saved."), "manage.edit_experience", experience_id=experience.id
            )
    experience = scoped(Experience, experience_id)
    form = ExperienceForm(
        rosters.list_families(db.session, experience.association),
        formdata=None,
        data=experience_form_data(experience),
    )
    form.add_blank_stops(BLANK_STOP_ROWS)
    return _experience_page(
        form,
        experience.association,
        experience,
        status,
        minimum_form=minimum_form,
        minimum_error=error,
    )


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
        with unit_of_work():
            photos.add_photo(
                db.session,
                experience,
                form.photo.data.stream,
                upload_dir(),
                form.alt_es.data,
                form.alt_en.data or "",
            )
    except DomainError as error:
        return _photos_page(experience, form, error.status_code, error)
    return done(_("The photo was added."), "manage.experience_photos", experience_id=experience.id)


@bp.post(f"/photos/<{ID}:photo_id>/delete")
@managers_only
def delete_photo(photo_id: int):
    photo = photos.scoped_photo(db.session, photo_id, acting_user())
    experience_id = photo.experience_id
    with unit_of_work():
        names = photos.delete_photo(db.session, photo)
    photos.remove_files(upload_dir(), names)  # only once the row is gone for good
    return done(
        _("The photo was deleted."), "manage.experience_photos", experience_id=experience_id
    )
