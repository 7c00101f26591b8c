"""The demo's private group requests: a school's, quoted on a private departure the catalog
never shows, and an agency's waiting for an answer; seeded once, and never mailed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.routes.test_manage_access import ES, login
from tourism.database import utcnow, write_transactions
from tourism.demo import groups as demo_groups
from tourism.demo import seed_demo
from tourism.models import (
    Departure,
    Experience,
    GroupMessage,
    GroupQuote,
    GroupRequest,
    GroupRequestStatus,
    Job,
    Notification,
    QuotePricing,
    QuoteStatus,
    RequesterKind,
    User,
)
from tourism.services.catalog.search import CatalogFilters, search_experiences
from tourism.services.groups import quotes
from tourism.timefmt import display_zone, local, local_today

COUNTED = (GroupRequest, GroupMessage, GroupQuote, Departure, Notification, Job)


def _seed(session) -> None:
    with write_transactions():
        seed_demo(session, local_today(), display_zone(), history=False)
        session.commit()


def _requests(session) -> list[GroupRequest]:
    return list(session.scalars(select(GroupRequest).order_by(GroupRequest.id)))


def test_the_demo_has_a_quoted_school_request_and_an_unanswered_agency_request(session):
    _seed(session)
    today, now = local_today(), utcnow()
    school, agency = _requests(session)
    assert school.experience.slug == "kallari-cacao-route"
    assert (school.requester_kind, school.language, school.group_size) == (
        RequesterKind.SCHOOL,
        "es",
        24,
    )
    assert "Tena" in school.name and "Demo" in school.name
    assert "maní" in school.needs and school.email.endswith("@example.org")
    assert today + timedelta(days=14) <= school.date_from < school.date_to
    assert school.status == GroupRequestStatus.OPEN

    # The thread: the teacher asks, the staff answer, both in the request's language.
    question, answer = sorted(school.messages, key=lambda m: m.created_at)
    assert question.from_requester and question.body == demo_groups.SCHOOL_QUESTION
    assert not answer.from_requester and answer.author.email == demo_groups.STAFF_EMAIL
    assert answer.body == demo_groups.SCHOOL_ANSWER
    assert all(m.body.startswith("Buenos días") for m in (question, answer))

    # The quote stands: per person, for the group, on a private departure in the range.
    quote = quotes.live_quote(school, now)
    assert quote is not None and quote.status == QuoteStatus.OFFERED
    assert quote.pricing == QuotePricing.PER_PERSON
    assert quote.total_cents == demo_groups.SCHOOL_PRICE_CENTS * 24
    assert now + timedelta(days=2) < quote.expires_at < now + timedelta(days=7)
    departure = quote.departure
    assert departure.group_request_id == school.id and departure.capacity == 24
    assert school.date_from <= local(departure.starts_at).date() <= school.date_to

    assert agency.id > school.id and agency.created_at > school.created_at
    assert (agency.requester_kind, agency.language) == (RequesterKind.AGENCY, "en")
    assert agency.messages == [] and agency.quotes == []
    assert agency.status == GroupRequestStatus.OPEN

    # Nothing waits to be mailed to the invented requesters.
    assert session.scalar(select(func.count(Notification.id))) == 0
    assert session.scalar(select(func.count(Job.id))) == 0


def test_the_quotes_private_departure_is_not_in_the_catalog_nor_the_api(session, client):
    _seed(session)
    quote = session.scalars(select(GroupQuote)).one()
    departure_id, day = quote.departure_id, local(quote.departure.starts_at).date()
    slug = quote.request.experience.slug

    # The catalog filtered on the quote's day does not offer the experience for it.
    filters = CatalogFilters(on_date=day)
    entries = search_experiences(session, filters, utcnow(), display_zone())
    cacao = session.scalars(select(Experience).where(Experience.slug == slug)).one()
    assert cacao.id not in {entry.experience.id for entry in entries}

    answer = client.get(
        f"/api/v1/experiences/{slug}/availability",
        query_string={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()},
    )
    assert answer.status_code == 200
    assert departure_id not in {d["id"] for d in answer.get_json()["departures"]}
    page = client.get(f"/experiences/{slug}")
    assert page.status_code == 200
    assert f"/departures/{departure_id}/book".encode() not in page.data
    assert client.get(f"/departures/{departure_id}/book").status_code == 404


def test_seeding_the_demo_twice_adds_no_request(session):
    _seed(session)
    before = {model.__name__: session.scalar(select(func.count(model.id))) for model in COUNTED}
    assert before["GroupRequest"] == 2 and before["GroupQuote"] == 1
    with write_transactions():
        assert seed_demo(session, local_today(), display_zone(), history=False) is False
        session.commit()
    after = {model.__name__: session.scalar(select(func.count(model.id))) for model in COUNTED}
    assert after == before


def test_the_staff_page_offers_to_change_or_withdraw_the_quote_and_the_requester_to_accept_it(
    session, client
):
    _seed(session)
    school = demo_groups.school_request(session)
    quote = session.scalars(select(GroupQuote)).one()
    staff = session.scalars(select(User).where(User.email == demo_groups.STAFF_EMAIL)).one()
    thread = client.get(f"/group-requests/{school.token}", headers=ES)
    assert thread.status_code == 200
    assert f"/group-requests/{school.token}/accept".encode() in thread.data
    assert "botas de caucho" in demo_groups.SCHOOL_ANSWER
    assert b"botas de caucho" in thread.data

    login(client, staff)
    page = client.get(f"/manage/group-requests/{school.id}", headers=ES)
    assert page.status_code == 200
    for action in ("change", "withdraw"):
        assert f"/group-requests/{school.id}/quotes/{quote.id}/{action}".encode() in page.data
