"""An association's extras (add-ons: lunch, a chocolate box, a guayusa pack, a canoe
transfer): their names, price, optional stock, who provides them (a family of the
association, or the association itself) and the experiences whose booking form offers them.

Extras are retired, never deleted: bookings keep pointing at what they sold. A change of
price applies to bookings made from then on (a booking keeps its unit price).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidRequest
from ...models import Association, Experience, Extra, Family
from .experience_input import whole

#: The most one extra may cost (cents), and the largest stock one may have.
MAX_EXTRA_CENTS = 1_000_00
MAX_STOCK = 10_000


@dataclass(frozen=True)
class ExtraInput:
    name_es: str
    name_en: str
    price_cents: int
    #: None: no limit.
    stock: int | None = None
    stock_per_departure: bool = False
    #: The family that provides it; None: the association itself.
    family_id: int | None = None
    experience_ids: tuple[int, ...] = ()
    is_active: bool = True


def association_extras(session: Session, association: Association) -> list[Extra]:
    return list(
        session.scalars(
            select(Extra)
            .where(Extra.association_id == association.id)
            .order_by(Extra.is_active.desc(), Extra.name_es, Extra.id)
        )
    )


def _provider(session: Session, association: Association, family_id: int | None):
    if family_id is None:
        return None
    family = session.get(Family, family_id) if isinstance(family_id, int) else None
    if family is None or family.association_id != association.id:
        raise InvalidRequest(_l("Choose a family of this association, or none."))
    return family


def _experiences(session: Session, association: Association, ids) -> list[Experience]:
    wanted = set(ids)
    if not all(isinstance(i, int) for i in wanted):
        raise InvalidRequest(_l("Choose experiences of this association."))
    found = list(
        session.scalars(
            select(Experience)
            .where(Experience.id.in_(wanted or {-1}), Experience.association_id == association.id)
            .order_by(Experience.id)
        )
    )
    if len(found) != len(wanted):
        raise InvalidRequest(_l("Choose experiences of this association."))
    return found


def save_extra(
    session: Session, association: Association, extra: Extra | None, data: ExtraInput
) -> Extra:
    """Create an extra of ``association``, or change one of its extras; raise
    ``InvalidRequest`` (nothing changed) on bad input."""
    name_es, name_en = data.name_es.strip(), data.name_en.strip()
    if not name_es:
        raise InvalidRequest(_l("An extra needs a name in Spanish."))
    if len(name_es) > 160 or len(name_en) > 160:
        raise InvalidRequest(_l("A field is too long."))
    whole(data.price_cents, 1, MAX_EXTRA_CENTS, _l("Write a price above zero, like 45 or 45.50."))
    if data.stock is not None:
        whole(data.stock, 0, MAX_STOCK, _l("Stock: a number from 0 to %(num)s.", num=MAX_STOCK))
    elif data.stock_per_departure:
        raise InvalidRequest(_l("Give the stock that each departure has."))
    family = _provider(session, association, data.family_id)
    experiences = _experiences(session, association, data.experience_ids)
    if extra is None:
        extra = Extra(
            association_id=association.id,
            code=f"{association.code.lower()}-{secrets.token_hex(4)}",
            price_cents=data.price_cents,
        )
        session.add(extra)
    elif extra.association_id != association.id:
        raise InvalidRequest()
    extra.name_es, extra.name_en = name_es, name_en or name_es
    extra.price_cents = data.price_cents
    extra.stock = data.stock
    extra.stock_per_departure = bool(data.stock_per_departure and data.stock is not None)
    extra.family = family
    extra.experiences = experiences
    extra.is_active = data.is_active
    session.flush()
    return extra


def retire_extra(session: Session, extra: Extra) -> None:
    """No longer offered anywhere; bookings that have it keep it."""
    extra.is_active = False
    session.flush()
