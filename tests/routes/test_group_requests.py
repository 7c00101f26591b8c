"""Private group requests through the pages: the requester's form and private thread, and
the association's list, reply and closing; bad input in the visitor's language with the
right status and nothing written; another association's request is not found."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES
from tourism.extensions import db
from tourism.models import ExperienceStatus, GroupMessage, GroupRequest, GroupRequestStatus
from tourism.timefmt import local_today

app, kallari, make, staff, winak = (
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def experience(make, kallari):
    experience = make.experience(kallari, status=ExperienceStatus.PUBLISHED)
    db.session.commit()
    return experience


def form(**changes) -> dict:
    first = local_today() + timedelta(days=20)
    data = {
        "requester_kind": "school",
        "group_size": "32",
        "date_from": first.isoformat(),
        "date_to": (first + timedelta(days=3)).isoformat(),
        "language": "en",
        "needs": "Ages 12 to 14",
        "name": "Unidad Educativa Tena",
        "email": "profe@example.org",
        "phone": "",
    }
    return data | changes


def requests() -> int:
    return db.session.scalar(select(func.count(GroupRequest.id)))


def test_the_experience_page_links_to_the_request_form(client, experience):
    html = client.get(f"/experiences/{experience.slug}", headers=ES).get_data(as_text=True)
    assert f"/experiences/{experience.slug}/group-request" in html
    page = client.get(f"/experiences/{experience.slug}/group-request", headers=ES)
    assert page.status_code == 200
    assert "Personas en el grupo" in page.get_data(as_text=True)


def test_a_request_and_its_thread(client, experience):
    response = client.post(f"/experiences/{experience.slug}/group-request", data=form())
    assert response.status_code == 303
    token = db.session.scalars(select(GroupRequest.token)).one()
    assert response.headers["Location"].endswith(f"/group-requests/{token}")
    sent = client.post(f"/group-requests/{token}", data={"body": "Is there a bus?"})
    assert sent.status_code == 303
    html = client.get(f"/group-requests/{token}", headers=EN).get_data(as_text=True)
    assert "Is there a bus?" in html and "Ages 12 to 14" in html
    empty = client.post(f"/group-requests/{token}", data={"body": ""}, headers=EN)
    assert empty.status_code == 400
    # The page speaks the visitor's language, as every page does.
    assert "This field is required" in empty.get_data(as_text=True)
    spanish = client.post(f"/group-requests/{token}", data={"body": ""}, headers=ES)
    assert spanish.status_code == 400 and '<html lang="es">' in spanish.get_data(as_text=True)
    assert db.session.scalar(select(func.count(GroupMessage.id))) == 1


def _shown_key(client, experience) -> str:
    page = client.get(f"/experiences/{experience.slug}/group-request").get_data(as_text=True)
    found = re.search(r'name="submission" type="hidden" value="([A-Za-z0-9_-]{22})"', page)
    assert found, "the request form carries its own key"
    assert "data-send-once" in page and "send-once" in page
    return found[1]


def test_a_request_form_sent_twice_makes_one_request(client, experience):
    """A double click on "Send the request" on a slow connection: the second sending lands on
    the first one's private page, which says nothing was sent twice."""
    url = f"/experiences/{experience.slug}/group-request"
    key = _shown_key(client, experience)
    first = client.post(url, data=form(submission=key))
    second = client.post(url, data=form(submission=key), headers=ES)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert requests() == 1
    page = client.get(second.headers["Location"], headers=ES).get_data(as_text=True)
    assert "Esta solicitud ya se había enviado" in page
    # The same page sent with another email is not this visitor's form: it is a request of
    # its own, without the key. A new page (its own key) asks again.
    other = client.post(url, data=form(submission=key, email="otra@example.org"))
    assert other.status_code == 303 and other.headers["Location"] != first.headers["Location"]
    again = client.post(url, data=form(submission=_shown_key(client, experience)))
    assert again.status_code == 303 and requests() == 3
    keys = db.session.scalars(select(GroupRequest.submission_key).order_by(GroupRequest.id))
    assert list(keys)[:2] == [key, None]


@pytest.mark.parametrize("key", ["", "short", "x" * 23, "../../etc/passwd", "é" * 22])
def test_a_request_without_one_of_our_keys_is_sent_as_before(client, experience, key):
    url = f"/experiences/{experience.slug}/group-request"
    assert client.post(url, data=form(submission=key)).status_code == 303
    assert client.post(url, data=form(submission=key)).status_code == 303
    assert requests() == 2
    assert set(db.session.scalars(select(GroupRequest.submission_key))) == {None}


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"group_size": "0"}, 400, "Indica un número de personas de 1 a 200."),
        ({"group_size": "treinta"}, 400, "No es un valor entero válido"),
        ({"requester_kind": "army"}, 400, "Quién pregunta"),
        ({"date_from": "mañana"}, 400, "Día de la visita"),
        ({"email": "no"}, 400, "correo"),
        ({"phone": "llámame"}, 400, "teléfono"),
        ({"date_from": "2020-01-01", "date_to": ""}, 400, "Elige un día a partir de hoy."),
        ({"date_to": "2020-01-01"}, 400, "El último día no puede ser anterior al primero."),
        # A day that does not exist is not a date (it was "required", though it was filled in).
        ({"date_from": "2027-02-30"}, 400, "No es una fecha válida"),
        ({"date_from": "9999-12-31"}, 400, "dentro de los próximos cinco años"),
        ({"date_to": "9999-12-31"}, 400, "dentro de los próximos cinco años"),
    ],
)
def test_bad_requests_are_explained_in_spanish_and_nothing_is_written(
    client, experience, changes, status, message
):
    response = client.post(
        f"/experiences/{experience.slug}/group-request", data=form(**changes), headers=ES
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert requests() == 0


def test_unknown_links_are_not_found(client):
    assert client.get("/group-requests/" + "x" * 43).status_code == 404
    assert client.get("/experiences/nope/group-request").status_code == 404


def test_the_association_answers_and_closes(client, staff, kallari, experience):
    client.post(f"/experiences/{experience.slug}/group-request", data=form())
    request = db.session.scalars(select(GroupRequest)).one()
    listing = client.get(f"/manage/associations/{kallari.id}/group-requests", headers=ES)
    assert "Unidad Educativa Tena" in listing.get_data(as_text=True)
    page = client.get(f"/manage/group-requests/{request.id}", headers=ES)
    assert "Escribe en Inglés, el idioma del grupo." in page.get_data(as_text=True)
    reply = client.post(
        f"/manage/group-requests/{request.id}", data={"body": "Yes, we have a bus."}
    )
    assert reply.status_code == 303
    closed = client.post(f"/manage/group-requests/{request.id}/close")
    assert closed.status_code == 303
    late = client.post(
        f"/manage/group-requests/{request.id}", data={"body": "One more thing"}, headers=ES
    )
    assert late.status_code == 409
    db.session.expire_all()
    request = db.session.get(GroupRequest, request.id)
    assert request.status == GroupRequestStatus.CLOSED
    assert [m.body for m in request.messages] == ["Yes, we have a bus."]
    again = client.post(f"/group-requests/{request.token}", data={"body": "Hi"}, headers=EN)
    assert again.status_code == 409
    assert "This group request is closed" in again.get_data(as_text=True)


def test_another_associations_request_is_not_found(client, staff, make, winak):
    theirs = make.experience(winak, status=ExperienceStatus.PUBLISHED)
    db.session.commit()
    client.post(f"/experiences/{theirs.slug}/group-request", data=form())
    request = db.session.scalars(select(GroupRequest)).one()
    assert client.get(f"/manage/group-requests/{request.id}").status_code == 404
    reply = client.post(f"/manage/group-requests/{request.id}", data={"body": "hi"})
    assert reply.status_code == 404
    assert client.post(f"/manage/group-requests/{request.id}/close").status_code == 404
    assert client.get(f"/manage/associations/{winak.id}/group-requests").status_code == 404
    db.session.expire_all()
    assert db.session.get(GroupRequest, request.id).status == GroupRequestStatus.OPEN
    assert db.session.scalar(select(func.count(GroupMessage.id))) == 0
