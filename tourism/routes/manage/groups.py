"""Private group requests as the association answers them: the list, one request with its
thread, a reply, closing it."""

from __future__ import annotations

from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.groups import REQUESTER_KINDS, MessageForm
from ...models import Association, GroupRequest
from ...services.groups import requests as group_requests
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped


@bp.get(f"/associations/<{ID}:association_id>/group-requests")
@managers_only
def group_requests_page(association_id: int):
    association = scoped(Association, association_id)
    items = group_requests.list_requests(db.session, association)
    return page(
        "manage/group_requests.html", association=association, requests=items, kinds=REQUESTER_KINDS
    )


def _request_page(request, form, status=200, error=None):
    return page(
        "manage/group_request.html",
        status,
        error,
        request=request,
        association=request.experience.association,
        form=form,
        kinds=REQUESTER_KINDS,
    )


@bp.route(f"/group-requests/<{ID}:request_id>", methods=["GET", "POST"])
@managers_only
def group_request(request_id: int):
    """One request and its thread; staff reply in the requester's language."""
    request = scoped(GroupRequest, request_id)
    form = MessageForm()
    if not form.is_submitted():
        return _request_page(request, form)
    if not form.validate():
        return _request_page(request, form, 400)
    try:
        with unit_of_work():
            group_requests.post_message(
                db.session, request, form.body.data, utcnow(), author=acting_user()
            )
    except DomainError as error:
        return _request_page(scoped(GroupRequest, request_id), form, error.status_code, error)
    return done(_("Your message was sent."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/close")
@managers_only
def close_group_request(request_id: int):
    request = scoped(GroupRequest, request_id)
    try:
        with unit_of_work():
            group_requests.close_request(db.session, request)
    except DomainError as error:
        return _request_page(
            scoped(GroupRequest, request_id), MessageForm(), error.status_code, error
        )
    return done(_("The request is closed."), "manage.group_request", request_id=request_id)
