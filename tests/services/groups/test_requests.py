"""Private group requests: stored with their private link, refused with a clear message
(nothing written) on bad input, and a thread that a closed request no longer takes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest, NotFound
from tourism.extensions import db
from tourism.models import ExperienceStatus, GroupMessage, GroupRequest, GroupRequestStatus
from tourism.services.groups import requests as svc

LANGS = ["es", "en"]
TODAY = date(2026, 12, 4)


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


def data(**changes) -> svc.GroupRequestInput:
    base = dict(
        requester_kind="school",
        name="Unidad Educativa Tena",
        email="profe@example.org",
        phone="+593 6 288 0000",
        language="en",
        group_size=32,
        date_from=TODAY + timedelta(days=20),
        date_to=TODAY + timedelta(days=25),
        needs="Ages 12 to 14; two vegetarians.",
    )
    return svc.GroupRequestInput(**(base | changes))


def submit(experience, **changes):
    return svc.submit_request(db.session, experience, data(**changes), TODAY, LANGS, utcnow())


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_request_is_stored_for_the_experiences_association(make):
    experience = make.experience(status=ExperienceStatus.PUBLISHED)
    request = submit(experience)
    assert request.association_id == experience.association_id
    assert request.status == GroupRequestStatus.OPEN
    assert len(request.token) >= 40
    assert svc.find_by_token(db.session, request.token) is request
    assert svc.list_requests(db.session, experience.association) == [request]
    one_day = submit(experience, date_to=None, email="otra@example.org")
    assert one_day.date_to == one_day.date_from


@pytest.mark.parametrize(
    "changes",
    [
        {"requester_kind": "army"},
        {"name": "  "},
        {"email": "no"},
        {"phone": "call me"},
        {"language": "xx"},
        {"group_size": 0},
        {"group_size": 201},
        {"group_size": "30"},
        {"group_size": True},
        {"date_from": TODAY - timedelta(days=1)},
        {"date_to": TODAY + timedelta(days=19)},
        {"date_to": TODAY + timedelta(days=200)},
        {"date_from": TODAY + timedelta(days=900), "date_to": None},
        {"needs": "x" * 2001},
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(make, changes):
    experience = make.experience(status=ExperienceStatus.PUBLISHED)
    with pytest.raises(InvalidRequest):
        submit(experience, **changes)
    assert count(GroupRequest) == 0


def test_an_unpublished_experience_takes_no_requests(make):
    with pytest.raises(NotFound):
        submit(make.experience(status=ExperienceStatus.DRAFT))


def test_the_thread_and_closing(make):
    experience = make.experience(status=ExperienceStatus.PUBLISHED)
    staff = make.user(password="")
    request = submit(experience)
    svc.post_message(db.session, request, "Do you have a bus?", utcnow())
    svc.post_message(db.session, request, "Yes, from Tena.", utcnow(), author=staff)
    assert [(m.from_requester, m.body) for m in request.messages] == [
        (True, "Do you have a bus?"),
        (False, "Yes, from Tena."),
    ]
    with pytest.raises(InvalidRequest):
        svc.post_message(db.session, request, "   ", utcnow())
    with pytest.raises(InvalidRequest):
        svc.post_message(db.session, request, "x" * 2001, utcnow())
    svc.close_request(db.session, request)
    with pytest.raises(svc.RequestClosed):
        svc.post_message(db.session, request, "Hello?", utcnow())
    with pytest.raises(svc.RequestClosed):
        svc.close_request(db.session, request)
    assert count(GroupMessage) == 2


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "../../etc"])
def test_unknown_links_are_not_found(make, token):
    with pytest.raises(NotFound):
        svc.find_by_token(db.session, token)
