"""Who sells the visits: each association that publishes experiences, with the identity and
contacts tourists (and the law) need, and what its terms of sale are made of."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...errors import NotFound
from ...models import Association, Experience, ExperienceStatus


@dataclass(frozen=True)
class SellerTerms:
    """An association and the published experiences its terms of sale cover."""

    association: Association
    experiences: list[Experience]


def sellers(session: Session) -> list[Association]:
    """Associations with at least one published experience, by name."""
    published = select(Experience.association_id).where(
        Experience.status == ExperienceStatus.PUBLISHED
    )
    return list(
        session.execute(
            select(Association).where(Association.id.in_(published)).order_by(Association.name)
        ).scalars()
    )


def seller_terms(session: Session, slug: str) -> SellerTerms:
    """The association with ``slug`` and its published experiences (texts and prices loaded);
    ``NotFound`` when there is no such association or it sells nothing."""
    association = session.execute(
        select(Association).where(Association.slug == slug)
    ).scalar_one_or_none()
    if association is None:
        raise NotFound()
    experiences = list(
        session.execute(
            select(Experience)
            .where(
                Experience.association_id == association.id,
                Experience.status == ExperienceStatus.PUBLISHED,
            )
            .options(selectinload(Experience.texts), selectinload(Experience.price_categories))
            .order_by(Experience.id)
        ).scalars()
    )
    if not experiences:
        raise NotFound()
    return SellerTerms(association=association, experiences=experiences)
