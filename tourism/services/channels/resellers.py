"""Resellers of an association: created by its admins, each with an API key shown once and
stored only as a hash, a commission, and the experiences it may sell."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import email_addresses
from ...errors import InvalidRequest
from ...models import Association, Experience, Reseller, ResellerRate, User
from ...money import format_money
from ..access import audit
from ..access.accounts import hash_token
from ..booking.contact_details import phone_is_callable

#: Every key starts so: a key pasted in the wrong place is easy to recognise (and to scan for).
KEY_PREFIX = "chk_"
#: The commission can be at most the whole price (in basis points).
MAX_COMMISSION_BP = 10_000

RESELLER_CREATED = "reseller.created"
RESELLER_KEY_ISSUED = "reseller.key_issued"
RESELLER_KEY_REVOKED = "reseller.key_revoked"
RESELLER_UPDATED = "reseller.updated"
RESELLER_RATE_SET = "reseller.rate_set"
RESELLER_RATE_REMOVED = "reseller.rate_removed"


@dataclass
class ResellerInput:
    name: str
    contact_email: str
    contact_phone: str
    commission_bp: int
    experience_ids: list[int]
    prepaid: bool = False


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _experiences(session: Session, association: Association, ids: list[int]) -> list[Experience]:
    """The chosen experiences, all of ``association`` (another's is refused, not ignored)."""
    if not ids:
        return []
    found = list(
        session.scalars(
            select(Experience)
            .where(Experience.id.in_(ids), Experience.association_id == association.id)
            .order_by(Experience.id)
        )
    )
    if len(found) != len(set(ids)):
        raise InvalidRequest(_l("That experience is not one of this association's."))
    return found


def _apply(session: Session, reseller: Reseller, data: ResellerInput) -> None:
    if not 0 <= data.commission_bp <= MAX_COMMISSION_BP:
        raise InvalidRequest(_l("The commission must be between 0 and 100 percent."))
    # The reseller stands as the contact of each reservation until its guest is named: its
    # email and phone must pass the checks every booking's contact passes.
    try:
        email_addresses.normalised(data.contact_email.strip())
    except email_addresses.EmailNotValidError as error:
        raise InvalidRequest(_l("Please give a valid email address.")) from error
    if not phone_is_callable(data.contact_phone.strip()):
        raise InvalidRequest(_l("Please give a phone number we can call, with its country code."))
    reseller.name = data.name.strip()
    reseller.contact_email = data.contact_email.strip()
    reseller.contact_phone = data.contact_phone.strip()
    reseller.commission_bp = data.commission_bp
    reseller.prepaid = data.prepaid
    reseller.experiences = _experiences(session, reseller.association, data.experience_ids)


def create_reseller(
    session: Session, actor: User, association: Association, data: ResellerInput, now: datetime
) -> tuple[Reseller, str]:
    """A new reseller with a fresh key; returns it with the key, which is never shown again."""
    reseller = Reseller(association=association, created_at=now)
    _apply(session, reseller, data)
    key = _new_key()
    reseller.key_hash, reseller.key_prefix = hash_token(key), key[:12]
    session.add(reseller)
    session.flush()
    audit.record(
        session,
        RESELLER_CREATED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=association.id,
        at=now,
    )
    return reseller, key


def update_reseller(
    session: Session, actor: User, reseller: Reseller, data: ResellerInput, now: datetime
) -> Reseller:
    """New name, contact, commission or experiences; bookings made keep their commission."""
    _apply(session, reseller, data)
    session.flush()
    audit.record(
        session,
        RESELLER_UPDATED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
    )
    return reseller


def issue_key(session: Session, actor: User, reseller: Reseller, now: datetime) -> str:
    """Replace the reseller's key with a new one (the old one stops at once); returns it."""
    key = _new_key()
    reseller.key_hash, reseller.key_prefix = hash_token(key), key[:12]
    reseller.key_revoked_at = None
    session.flush()
    audit.record(
        session,
        RESELLER_KEY_ISSUED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
    )
    return key


def revoke_key(session: Session, actor: User, reseller: Reseller, now: datetime) -> None:
    """Stop the reseller's key: from the commit on, every request with it is refused
    (``FORBIDDEN``: the key is known, and known to be revoked)."""
    reseller.key_revoked_at = now
    session.flush()
    audit.record(
        session,
        RESELLER_KEY_REVOKED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
    )


def key_digest(key: str) -> str | None:
    """What a key is stored as (its hash), or ``None`` when it cannot be one of ours."""
    if not key or len(key) > 100 or not key.startswith(KEY_PREFIX):
        return None
    return hash_token(key)


def reseller_for_digest(session: Session, digest: str | None) -> Reseller | None:
    """The reseller whose key has this digest (check ``is_active``: it may be revoked)."""
    if digest is None:
        return None
    return session.execute(select(Reseller).where(Reseller.key_hash == digest)).scalar_one_or_none()


def reseller_for_key(session: Session, key: str) -> Reseller | None:
    """The reseller whose key this is (check ``is_active``: it may be revoked), else
    ``None`` (unknown or malformed)."""
    return reseller_for_digest(session, key_digest(key))


def list_resellers(session: Session, association: Association) -> list[Reseller]:
    return list(
        session.scalars(
            select(Reseller)
            .where(Reseller.association_id == association.id)
            .order_by(Reseller.name, Reseller.id)
        )
    )


def association_experiences(session: Session, association: Association) -> list[Experience]:
    """The experiences a reseller of ``association`` could be given."""
    return list(
        session.scalars(
            select(Experience)
            .where(Experience.association_id == association.id)
            .order_by(Experience.id)
        )
    )


def may_sell(reseller: Reseller, experience: Experience) -> bool:
    return experience.association_id == reseller.association_id and any(
        e.id == experience.id for e in reseller.experiences
    )


# Commission per experience ---------------------------------------------------------------------


def commission_for(reseller: Reseller, experience: Experience) -> int:
    """The reseller's commission on ``experience`` now, in basis points: its rate for that
    experience if it has one (0 with a net rate), else its usual commission."""
    for rate in reseller.rates:
        if rate.experience_id == experience.id:
            return rate.commission_bp
    return reseller.commission_bp


def net_rate_for(reseller: Reseller, experience: Experience) -> int | None:
    """The net rate the reseller pays us per ticket of ``experience``, in cents, when its
    rate there is a net rate; ``None`` when it earns a commission."""
    for rate in reseller.rates:
        if rate.experience_id == experience.id:
            return rate.net_cents
    return None


def set_rate(
    session: Session,
    actor: User,
    reseller: Reseller,
    experience: Experience,
    commission_bp: int,
    now: datetime,
    net_cents: int | None = None,
) -> ResellerRate:
    """Give the reseller its own commission on one experience it may sell, or with
    ``net_cents`` a net rate: it pays us that per ticket and keeps the rest of the retail
    price (``commission_bp`` is then ignored and stored as 0). Bookings already made keep the
    terms they were sold with: the change applies to later sales."""
    if not may_sell(reseller, experience):
        raise InvalidRequest(_l("This reseller may not sell that experience."))
    if net_cents is not None:
        cheapest = min(
            (pc.price_cents for pc in experience.price_categories if pc.is_active), default=0
        )
        if not isinstance(net_cents, int) or not 0 <= net_cents <= cheapest:
            raise InvalidRequest(
                _l("The net rate must be between 0 and the lowest ticket price, %(price)s."),
                price=format_money(cheapest, experience.currency),
            )
        commission_bp = 0
    if not 0 <= commission_bp <= MAX_COMMISSION_BP:
        raise InvalidRequest(_l("The commission must be between 0 and 100 percent."))
    rate = session.scalar(
        select(ResellerRate).where(
            ResellerRate.reseller_id == reseller.id, ResellerRate.experience_id == experience.id
        )
    )
    if rate is None:
        rate = ResellerRate(reseller=reseller, experience=experience)
        session.add(rate)
    rate.commission_bp, rate.net_cents, rate.updated_at = commission_bp, net_cents, now
    session.flush()
    session.expire(reseller, ["rates"])
    audit.record(
        session,
        RESELLER_RATE_SET,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
        detail=f"experience {experience.id}: "
        + (f"net {net_cents} cents" if net_cents is not None else f"{commission_bp} bp"),
    )
    return rate


def remove_rate(
    session: Session, actor: User, reseller: Reseller, experience: Experience, now: datetime
) -> None:
    """Back to the reseller's usual commission on ``experience`` (for later sales)."""
    rate = session.scalar(
        select(ResellerRate).where(
            ResellerRate.reseller_id == reseller.id, ResellerRate.experience_id == experience.id
        )
    )
    if rate is None:
        return
    session.delete(rate)
    session.flush()
    session.expire(reseller, ["rates"])
    audit.record(
        session,
        RESELLER_RATE_REMOVED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
        detail=f"experience {experience.id}",
    )
