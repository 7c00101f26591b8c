"""Demo private group requests on the Kallari Cacao Route, made through the group services.

Two requests show the workflow without anyone writing one first:

- a school in Tena (Spanish, 24 people, a range of days a few weeks ahead, food needs noted)
  with a short thread, the teacher's question and the staff's answer, and a quote from the
  Kallari demo staff: a price per person on a private departure (which the catalog, the API
  and resellers never show), standing for a few days;
- a travel agency in Quito (English), newer and not yet answered.

The requesters are invented and say so ("Demo"), with ``example.org`` addresses. Quoting
queues the email telling the requester (the service always does); the demo takes that email
out of the outbox again, so that no worker or ``flask send-emails`` ever sends mail to an
invented requester. Dates are relative to the seed's ``today``.
"""

from __future__ import annotations

import datetime
import zoneinfo
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import Experience, GroupRequest, Job, Notification, QuotePricing, User
from ..services.groups import quotes
from ..services.groups import requests as group_requests
from ..services.messages.email_jobs import delivery_key
from ..services.messages.links import absolute_url
from ..services.operations.recurrence import WEEKDAY_CODES
from . import kallari

#: Who answers and quotes for Kallari (a demo account, see ``DEMO_USERS``).
STAFF_EMAIL = "personal@kallari.demo"
EXPERIENCE_SLUG = kallari.CACAO_ROUTE["slug"]
#: The languages a demo request may be in: those the demo's texts are written in, whichever
#: catalogs the app has compiled.
LANGUAGES = ["es", "en"]

SCHOOL = dict(
    requester_kind="school",
    name="Docente Demo — Unidad Educativa Demo, Tena",
    email="escuela.demo@example.org",
    phone="+593 99 000 2401",
    language="es",
    group_size=24,
    needs=(
        "Somos 22 estudiantes de décimo año y 2 docentes. Tres estudiantes son vegetarianos "
        "y uno tiene alergia al maní."
    ),
)
#: The school's visit: from this many days after ``today``, for this many days.
SCHOOL_STARTS_IN, SCHOOL_RANGE_DAYS = 21, 5
SCHOOL_QUESTION = (
    "Buenos días. ¿El almuerzo en la chakra puede ser sin carne para tres estudiantes y sin "
    "maní para uno? ¿Y qué deben llevar los chicos para la cosecha del cacao?"
)
SCHOOL_ANSWER = (
    "Buenos días. Sí: la familia que cocina prepara el almuerzo sin carne para tres y sin "
    "maní para uno. Para la cosecha, que traigan botas de caucho, repelente, agua y ropa que "
    "se pueda ensuciar. Te enviamos la cotización para el grupo en una salida privada."
)
#: The quote: per person, in cents; the last day it may be accepted, days after ``today``.
SCHOOL_PRICE_CENTS = 2_800
SCHOOL_QUOTE_STANDS_DAYS = 4

AGENCY = dict(
    requester_kind="agency",
    name="Demo Travel Desk — Agencia Demo, Quito",
    email="agencia.demo@example.org",
    phone="+593 2 000 0099",
    language="en",
    group_size=10,
    needs="Ten adults from a cacao buyers' tour; two walk slowly and would like a shorter path.",
)
AGENCY_STARTS_IN, AGENCY_RANGE_DAYS = 40, 3


def seed_groups(
    session: Session, today: datetime.date, zone: zoneinfo.ZoneInfo, now: datetime.datetime
) -> list[GroupRequest]:
    """The two demo requests (school quoted, agency waiting), through the group services.
    Called once by ``seed_demo``; only flushes. Returns them, the school's first."""
    experience = session.scalars(select(Experience).where(Experience.slug == EXPERIENCE_SLUG)).one()
    staff = session.scalars(select(User).where(User.email == STAFF_EMAIL)).one()
    asked, answered = now - timedelta(days=3), now - timedelta(days=2)

    school = group_requests.submit_request(
        session,
        experience,
        _dated(SCHOOL, today, SCHOOL_STARTS_IN, SCHOOL_RANGE_DAYS),
        today,
        LANGUAGES,
        asked,
    )
    group_requests.post_message(session, school, SCHOOL_QUESTION, asked + timedelta(minutes=5))
    group_requests.post_message(session, school, SCHOOL_ANSWER, answered, author=staff)
    quotes.make_quote(
        session,
        school,
        quotes.QuoteInput(
            pricing=QuotePricing.PER_PERSON.value,
            amount_cents=SCHOOL_PRICE_CENTS,
            day=_quiet_day(school),
            start=kallari.CACAO_ROUTE["schedule"]["start"],
            valid_until=today + timedelta(days=SCHOOL_QUOTE_STANDS_DAYS),
        ),
        staff,
        answered + timedelta(minutes=10),
        zone,
        absolute_url("groups.thread", token=school.token),
    )
    _keep_out_of_outbox(session, [SCHOOL["email"]])

    agency = group_requests.submit_request(
        session,
        experience,
        _dated(AGENCY, today, AGENCY_STARTS_IN, AGENCY_RANGE_DAYS),
        today,
        LANGUAGES,
        now - timedelta(hours=5),
    )
    return [school, agency]


def school_request(session: Session) -> GroupRequest | None:
    """The demo school's request, if the demo data is loaded (its private link is printed by
    ``flask seed-demo``: only the requester's email carries it, and the demo sends none)."""
    return session.scalars(
        select(GroupRequest).where(GroupRequest.email == SCHOOL["email"]).order_by(GroupRequest.id)
    ).first()


def _dated(
    data: dict, today: datetime.date, starts_in: int, days: int
) -> group_requests.GroupRequestInput:
    """The request ``data`` for ``days`` days from ``starts_in`` days after ``today``."""
    first = today + timedelta(days=starts_in)
    return group_requests.GroupRequestInput(
        **data, date_from=first, date_to=first + timedelta(days=days - 1)
    )


def _quiet_day(request: GroupRequest) -> datetime.date:
    """The first day of the request's range without a public departure of the experience (a
    private departure at the same time as a public one would be refused), else the first."""
    public = set(kallari.CACAO_ROUTE["schedule"]["weekdays"].split(","))
    day = request.date_from
    while day <= request.date_to:
        if WEEKDAY_CODES[day.weekday()] not in public:
            return day
        day += timedelta(days=1)
    return request.date_from


def _keep_out_of_outbox(session: Session, recipients: list[str]) -> None:
    """Drop the emails the services queued for the invented ``recipients`` (and their
    send-email jobs): the demo data is never mailed."""
    queued = list(
        session.scalars(select(Notification).where(Notification.recipient.in_(recipients)))
    )
    keys = [delivery_key(notification) for notification in queued]
    if keys:
        session.execute(delete(Job).where(Job.key.in_(keys)))
    for notification in queued:
        session.delete(notification)
    session.flush()
