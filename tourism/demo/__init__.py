"""Demo data: the associations of the case study, invented demo families, and their experiences.

The associations and their facts come from the case study "Modelos Comunitarios para una
Tierra Viva — Las Chakras Amazónicas" (Regions4, 2025). Families, communities, guides, prices,
schedules, meeting points and bookings are invented and say so ("Familia Demo …",
"Comunidad demo …", "Visitante Demo …"); none of them describes real people or places.

Kichwa and Shuar texts are deliberately absent: they must come from the communities themselves.

This module builds the demo (``seed_demo``); the content of each association lives in its own
module (``kallari``, ``winak``, ``asopromas``, ``tsatsayaku``), the shared refund policies in
``common``; the group requests live in ``groups``.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..database import utcnow
from ..models import (
    Association,
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    ExperienceText,
    ExperienceTheme,
    Family,
    GuideRole,
    Membership,
    PaymentMethod,
    PriceCategory,
    Role,
    Schedule,
    Stop,
    StopText,
    User,
)
from ..services.booking.references import new_manage_token, new_reference
from ..services.operations.recurrence import generate_departures
from . import asopromas, kallari, tsatsayaku, winak

SCHEDULE_DAYS_BACK = 7
SCHEDULE_DAYS_AHEAD = 120
DEPARTURE_DAYS_AHEAD = 60


# --------------------------------------------------------------------------- content
#
# Listed in the order they are created (ids, and so ties in listings, follow it).

ASSOCIATIONS = [
    kallari.ASSOCIATION,
    winak.ASSOCIATION,
    asopromas.ASSOCIATION,
    tsatsayaku.ASSOCIATION,
]

#: Invented demo households, per association slug: (name, community).
FAMILIES = {
    "kallari": kallari.FAMILIES,
    "winak": winak.FAMILIES,
    "asopromas": asopromas.FAMILIES,
    "tsatsayaku": tsatsayaku.FAMILIES,
}

EXPERIENCES = [
    kallari.CACAO_ROUTE,
    winak.GUAYUSA_DAWN,
    asopromas.KUJENITO_CHOCOLATE,
    kallari.MINGA_CRAFTS,
    tsatsayaku.CHAKRA_SCHOOL,
    winak.DRAFT_RIVER_WALK,
]


# --------------------------------------------------------------------------- bookings
#
# Demo bookings on the first upcoming departures of the Cacao Route (capacity 12), as lists of
# bookings, each a mapping of price category code to quantity. The second departure is sold out
# (12), the third nearly full (11), the others partly booked.

CACAO_ROUTE_BOOKINGS = [
    [{"adult": 2, "child": 1}],
    [{"adult": 4, "child": 2}, {"adult": 2, "resident": 2}, {"resident": 2}],
    [{"adult": 6, "child": 2}, {"resident": 3}],
    [{"adult": 2}],
    [{"adult": 3, "resident": 1}],
]

DEMO_VISITORS = [
    ("EC", "es"),
    ("US", "en"),
    ("DE", "en"),
    ("EC", "es"),
    ("US", "en"),
]


# --------------------------------------------------------------------------- building


from .groups import seed_groups  # noqa: E402
from .history import seed_history, seed_rules  # noqa: E402
from .routes import seed_routes  # noqa: E402


def seed_demo(
    session: Session, today: datetime.date, zone: zoneinfo.ZoneInfo, history: bool = True
) -> bool:
    """Create the demo associations, families, experiences, schedules, departures, split
    rules, a few bookings, two group requests (one quoted) and (``history``) six months of
    past visits with their money (on SQLite that needs ``write_transactions()``). Returns
    False (and does nothing) if the demo data is already there (the association with slug
    'kallari'). Only flushes."""
    exists = session.execute(select(Association.id).where(Association.slug == "kallari")).first()
    if exists is not None:
        return False

    associations: dict[str, Association] = {}
    families: dict[str, Family] = {}
    for data in ASSOCIATIONS:
        association = Association(
            slug=data["slug"],
            name=data["name"],
            code=data["code"],
            province=data["province"],
            founded_year=data["founded_year"],
            description_es=data["description_es"],
            description_en=data["description_en"],
            contact_email=f"{data['slug']}.demo@example.org",
            identity_is_demo=True,
            **data["identity"],
        )
        session.add(association)
        associations[data["slug"]] = association
        for name, community in FAMILIES[data["slug"]]:
            family = Family(association=association, name=name, community=community, is_demo=True)
            session.add(family)
            families[name] = family
    session.flush()

    experiences: dict[str, Experience] = {}
    schedules: dict[str, Schedule] = {}
    for data in EXPERIENCES:
        experience = _build_experience(data, associations[data["association"]], families)
        session.add(experience)
        experiences[data["slug"]] = experience
        spec = data["schedule"]
        schedules[data["slug"]] = Schedule(
            experience=experience,
            weekdays=spec["weekdays"],
            start_time=spec["start"],
            duration_minutes=data["duration_minutes"],
            capacity=spec["capacity"],
            valid_from=today - timedelta(days=SCHEDULE_DAYS_BACK),
            valid_until=today + timedelta(days=SCHEDULE_DAYS_AHEAD),
        )
        session.add(schedules[data["slug"]])
    session.flush()

    end = today + timedelta(days=DEPARTURE_DAYS_AHEAD)
    for schedule in schedules.values():
        generate_departures(session, schedule, today, end, zone)

    now = utcnow()
    _cancel_one_departure(session, experiences["winak-guayusa-dawn"], now)
    _book_cacao_route(session, experiences["kallari-cacao-route"], associations["kallari"], now)
    _demo_people(session, associations, experiences["kallari-cacao-route"], now)
    session.flush()
    seed_routes(session, today, associations, families, experiences)
    seed_rules(session, now)
    if history:
        seed_history(session, now)
    seed_groups(session, today, zone, now)
    return True


#: Demo accounts share one password, printed in the README; never use them in production.
DEMO_PASSWORD = "demo-chakra-2026"  # noqa: S105 — a documented demo credential
DEMO_USERS = [
    # email, name, association slug, role (None: platform admin)
    ("plataforma@chakraroutes.demo", "Demo Plataforma", None, None),
    ("admin@kallari.demo", "Demo Admin Kallari", "kallari", Role.ADMIN),
    ("tesoreria@kallari.demo", "Demo Tesorería Kallari", "kallari", Role.ADMIN),
    ("personal@kallari.demo", "Demo Personal Kallari", "kallari", Role.STAFF),
    ("guia@kallari.demo", "Demo Guía Kallari", "kallari", Role.GUIDE),
    ("admin@winak.demo", "Demo Admin Wiñak", "winak", Role.ADMIN),
    ("guia@winak.demo", "Demo Guía Wiñak", "winak", Role.GUIDE),
]


@functools.cache
def _demo_password_hash() -> str:
    """Hashed once per process: argon2 at 64 MiB takes about half a second, and the test
    suite loads the demo data many times."""
    from ..services.access.accounts import hash_password

    return hash_password(DEMO_PASSWORD)


def _demo_people(session: Session, associations, cacao_route: Experience, now) -> None:
    """Demo accounts, and the Kallari demo guide leading the next Cacao Route departures."""
    password_hash = _demo_password_hash()
    users = {}
    for email, name, slug, role in DEMO_USERS:
        user = User(email=email, name=name, password_hash=password_hash, locale="es")
        user.is_platform_admin = role is None
        session.add(user)
        users[email] = user
        if role is not None:
            session.add(
                Membership(
                    user=user,
                    association=associations[slug],
                    role=role,
                    languages="es,qu" if role == Role.GUIDE else "es",
                )
            )
    session.flush()
    upcoming = session.execute(
        select(Departure)
        .where(Departure.experience_id == cacao_route.id, Departure.starts_at > now)
        .order_by(Departure.starts_at)
        .limit(4)
    ).scalars()
    guide = users["guia@kallari.demo"]
    for departure in upcoming:
        session.add(DepartureGuide(departure=departure, user=guide, role=GuideRole.LEAD))


def _build_experience(
    data: dict, association: Association, families: dict[str, Family]
) -> Experience:
    experience = Experience(
        association=association,
        slug=data["slug"],
        status=data["status"],
        province=data["province"],
        duration_minutes=data["duration_minutes"],
        languages=data["languages"],
        currency="USD",
        max_tickets_per_booking=data["max_tickets_per_booking"],
        cancellation_policy=[dict(tier) for tier in data["cancellation_policy"]],
        payment_options=data.get("payment_options", "card,on_arrival"),
        deposit_percent=data.get("deposit_percent", 30),
    )
    for locale, text in data["texts"].items():
        experience.texts.append(ExperienceText(locale=locale, **text))
    for theme in data["themes"]:
        experience.themes.append(ExperienceTheme(theme=theme))
    for position, (code, cents) in enumerate(data["prices"]):
        experience.price_categories.append(
            PriceCategory(code=code, price_cents=cents, position=position)
        )
    for position, (family_name, minutes, texts) in enumerate(data["stops"]):
        stop = Stop(
            position=position,
            family=families[family_name] if family_name else None,
            duration_minutes=minutes,
        )
        for locale, (name, description) in texts.items():
            stop.texts.append(StopText(locale=locale, name=name, description=description))
        experience.stops.append(stop)
    return experience


def _upcoming_departures(
    session: Session, experience: Experience, now: datetime.datetime
) -> list[Departure]:
    return list(
        session.execute(
            select(Departure)
            .where(
                Departure.experience_id == experience.id,
                Departure.status == DepartureStatus.SCHEDULED,
                Departure.starts_at > now,
            )
            .order_by(Departure.starts_at)
        ).scalars()
    )


def _cancel_one_departure(session: Session, experience: Experience, now: datetime.datetime) -> None:
    """Cancel the second upcoming departure (the first one may leave too soon to notice)."""
    upcoming = _upcoming_departures(session, experience, now)
    if not upcoming:
        return
    departure = upcoming[1] if len(upcoming) > 1 else upcoming[0]
    departure.status = DepartureStatus.CANCELLED
    departure.cancel_reason = "Demo: río crecido / high river"


def _book_cacao_route(
    session: Session,
    experience: Experience,
    association: Association,
    now: datetime.datetime,
) -> None:
    prices = {category.code: category for category in experience.price_categories}
    upcoming = _upcoming_departures(session, experience, now)
    visitor = 0
    for departure, bookings in zip(upcoming, CACAO_ROUTE_BOOKINGS, strict=False):
        for quantities in bookings:
            country, language = DEMO_VISITORS[visitor % len(DEMO_VISITORS)]
            visitor += 1
            lines = [
                BookingLine(
                    price_category=prices[code],
                    quantity=quantity,
                    unit_price_cents=prices[code].price_cents,
                )
                for code, quantity in quantities.items()
            ]
            booking = Booking(
                departure=departure,
                reference=new_reference(session, association.code),
                manage_token=new_manage_token(),
                status=BookingStatus.CONFIRMED,
                payment_method=PaymentMethod.ON_ARRIVAL.value,
                contact_name=f"Visitante Demo {visitor}",
                contact_email=f"demo{visitor}@example.org",
                contact_phone=f"+593 99 000 {visitor:04d}",
                country=country,
                language=language,
                special_needs="",
                total_cents=sum(line.quantity * line.unit_price_cents for line in lines),
                currency=experience.currency,
                created_at=now,
                confirmed_at=now,
                lines=lines,
            )
            session.add(booking)
        # Flush per departure so the next reference lookup sees the ones just made.
        session.flush()
