"""Private group requests and their message thread.

A school, an agency, a family or anyone else asks an association, on one of its experiences,
for a private visit: dates (one day or a range), group size, language, needs. The request is
stored with a private link for the requester; the association sees it on its management pages
and both write to each other in a thread (the association in the requester's language, which
the request names). Every function only flushes; the caller commits.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import email_addresses, faults
from ...errors import DomainError, InvalidRequest, NotFound
from ...models import (
    Association,
    Experience,
    ExperienceStatus,
    GroupMessage,
    GroupRequest,
    GroupRequestStatus,
    RequesterKind,
    User,
)
from ..booking.caps import serialise_form_key
from ..booking.contact_details import phone_is_callable
from ..booking.references import new_manage_token

MAX_GROUP = 200
MAX_RANGE_DAYS = 60
#: How far ahead a group may ask.
MAX_DAYS_AHEAD = 730
LIMITS = {"name": 120, "email": 254, "phone": 40, "needs": 2000, "message": 2000}
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")


class RequestSentAgain(DomainError):
    """The request form was sent again (a double click, a slow connection): nothing new is
    written, the request its first sending made stands."""

    status_code = 303
    default_message = _l("This request had already been sent: here it is. Nothing was sent twice.")

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token


class RequestClosed(DomainError):
    status_code = 409
    default_message = _l("This group request is closed; write a new one if you need to.")


@dataclass
class GroupRequestInput:
    requester_kind: str
    name: str
    email: str
    phone: str
    language: str
    group_size: int
    date_from: date
    date_to: date | None
    needs: str = ""
    #: The form page's key (``forms.base.SentOnce``), when it came with one of ours.
    submission_key: str | None = None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def submit_request(
    session: Session,
    experience: Experience,
    data: GroupRequestInput,
    today: date,
    languages: list[str],
    now: datetime,
) -> GroupRequest:
    """Store a request for ``experience`` (published), or raise with a clear message and
    write nothing. ``today`` is the local date: the first day may not be before it."""
    if experience.status != ExperienceStatus.PUBLISHED:
        raise NotFound()
    if data.requester_kind not in {kind.value for kind in RequesterKind}:
        raise InvalidRequest(
            _l("Please say who is asking: a school, an agency, a family or other.")
        )
    name, phone, needs = data.name.strip(), data.phone.strip(), data.needs.strip()
    if not name:
        raise InvalidRequest(_l("Please give the name of the person booking."))
    for key, value in (("name", name), ("phone", phone), ("needs", needs), ("email", data.email)):
        if len(value) > LIMITS[key]:
            raise InvalidRequest(_l("A field is too long."))
    try:
        email = email_addresses.normalised(data.email)
    except email_addresses.EmailNotValidError as exc:
        raise InvalidRequest(_l("Please give a valid email address.")) from exc
    if phone and not phone_is_callable(phone):
        raise InvalidRequest(_l("Please give a phone number we can call, with its country code."))
    if data.language not in languages:
        raise InvalidRequest(_l("Please choose a language."))
    if not _whole(data.group_size) or not 1 <= data.group_size <= MAX_GROUP:
        raise InvalidRequest(
            _l("The group size must be between %(low)s and %(high)s."), low=1, high=MAX_GROUP
        )
    first = data.date_from
    last = data.date_to or first
    if not isinstance(first, date) or not isinstance(last, date):
        raise InvalidRequest(_l("Give the day of the visit."))
    if first < today or first > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidRequest(_l("Choose a day from today on."))
    if last < first:
        raise InvalidRequest(_l("The last day must not be before the first day."))
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidRequest(
            _ln(
                "Choose a range of at most %(num)s day.",
                "Choose a range of at most %(num)s days.",
                MAX_RANGE_DAYS,
            )
        )
    key = _unless_sent_before(session, data.submission_key, email)
    request = GroupRequest(
        association_id=experience.association_id,
        experience_id=experience.id,
        token=new_manage_token(),
        status=GroupRequestStatus.OPEN,
        requester_kind=RequesterKind(data.requester_kind),
        name=name,
        email=email,
        phone=phone,
        language=data.language,
        group_size=data.group_size,
        date_from=first,
        date_to=last,
        needs=needs,
        created_at=now,
        submission_key=key,
    )
    session.add(request)
    session.flush()
    faults.point("group_requests.sent")
    return request


def _unless_sent_before(session: Session, key: str | None, email: str) -> str | None:
    """The form key for the new request, after making sure it has sent nothing yet: the
    same key and email is the form sent twice (``RequestSentAgain``); the same key with
    another email is not this visitor's page (a shared computer kept it), and its request is
    made without the key. Two sendings wait for each other here (``serialise_form_key``),
    so the second sees what the first committed."""
    if key is None:
        return None
    serialise_form_key(session, key)
    sent = session.execute(
        select(GroupRequest.token, GroupRequest.email).where(GroupRequest.submission_key == key)
    ).first()
    if sent is None:
        return key
    if sent.email.casefold() != email.casefold():
        return None
    raise RequestSentAgain(sent.token)


def post_message(
    session: Session,
    request: GroupRequest,
    body: str,
    now: datetime,
    author: User | None = None,
) -> GroupMessage:
    """Add a message to the thread: from the association when ``author`` is given, else from
    the requester. A closed request takes no more messages."""
    text = (body or "").strip()
    if not text:
        raise InvalidRequest(_l("Write a message first."))
    if len(text) > LIMITS["message"]:
        raise InvalidRequest(_l("A field is too long."))
    if request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()
    message = GroupMessage(
        request_id=request.id,
        from_requester=author is None,
        author_id=author.id if author is not None else None,
        body=text,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def close_request(session: Session, request: GroupRequest) -> GroupRequest:
    if request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()
    request.status = GroupRequestStatus.CLOSED
    session.flush()
    return request


def find_by_token(session: Session, token: str) -> GroupRequest:
    """The request a requester's private link points to; any other token is not found."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        raise NotFound()
    request = session.scalar(select(GroupRequest).where(GroupRequest.token == token))
    if request is None or not hmac.compare_digest(request.token, token):
        raise NotFound()
    return request


def list_requests(session: Session, association: Association) -> list[GroupRequest]:
    """The association's requests, open ones first, newest first."""
    return list(
        session.scalars(
            select(GroupRequest)
            .where(GroupRequest.association_id == association.id)
            .order_by(GroupRequest.status != GroupRequestStatus.OPEN, GroupRequest.id.desc())
        )
    )
