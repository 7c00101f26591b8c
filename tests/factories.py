"""Test data factories: each returns a flushed object and accepts overrides."""

from __future__ import annotations

import itertools
import uuid
from datetime import time, timedelta

from tourism.database import utcnow
from tourism.models import (
    Association,
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    Experience,
    ExperienceStatus,
    ExperienceText,
    ExperienceTheme,
    Family,
    LegKind,
    Payment,
    PaymentStatus,
    PriceCategory,
    Route,
    RouteBooking,
    RouteBookingLeg,
    RouteLeg,
    RouteParticipation,
    Schedule,
    Stop,
    StopText,
)
from tourism.services.booking.references import new_manage_token, new_reference

_seq = itertools.count(1)


class Factories:
    def __init__(self, session) -> None:
        self.session = session

    def _add(self, obj):
        self.session.add(obj)
        self.session.flush()
        return obj

    def association(self, **kw) -> Association:
        n = next(_seq)
        letters = "".join(chr(ord("A") + (n // 26**i) % 26) for i in range(3))
        defaults = dict(slug=f"assoc-{n}", name=f"Association {n}", code=letters, province="napo")
        return self._add(Association(**(defaults | kw)))

    def family(self, association=None, **kw) -> Family:
        association = association or self.association()
        defaults = dict(name=f"Familia Test {next(_seq)}", is_demo=True)
        return self._add(Family(association=association, **(defaults | kw)))

    def experience(self, association=None, prices=None, themes=("cacao",), **kw) -> Experience:
        association = association or self.association()
        n = next(_seq)
        defaults = dict(
            slug=f"experience-{n}",
            status=ExperienceStatus.PUBLISHED,
            province=association.province,
            duration_minutes=240,
            languages="es,en",
            max_tickets_per_booking=10,
            cancellation_policy=[{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}],
        )
        experience = Experience(association=association, **(defaults | kw))
        experience.texts = [
            ExperienceText(
                locale="es",
                title=f"Ruta de prueba {n}",
                summary="Resumen",
                description="Descripción",
                meeting_point="Plaza de Tena",
            ),
            ExperienceText(
                locale="en",
                title=f"Test route {n}",
                summary="Summary",
                description="Description",
                meeting_point="Tena square",
            ),
        ]
        experience.themes = [ExperienceTheme(theme=t) for t in themes]
        prices = prices if prices is not None else {"adult": 4500, "child": 2500}
        experience.price_categories = [
            PriceCategory(code=code, price_cents=cents, position=i)
            for i, (code, cents) in enumerate(prices.items())
        ]
        return self._add(experience)

    def stop(self, experience, family=None, position=None, **kw) -> Stop:
        stop = Stop(
            experience=experience,
            family=family,
            position=position if position is not None else len(experience.stops),
            **kw,
        )
        stop.texts = [StopText(locale="es", name="Chakra de prueba", description="Parada")]
        return self._add(stop)

    def departure(self, experience=None, capacity=10, starts_in=timedelta(days=5), **kw):
        experience = experience or self.experience()
        starts_at = kw.pop("starts_at", utcnow().replace(microsecond=0) + starts_in)
        departure = Departure(
            experience=experience,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=experience.duration_minutes),
            capacity=capacity,
            **kw,
        )
        return self._add(departure)

    def schedule(self, experience=None, **kw) -> Schedule:
        experience = experience or self.experience()
        today = utcnow().date()
        defaults = dict(
            weekdays="TU,TH,SA",
            start_time=time(8, 30),
            duration_minutes=experience.duration_minutes,
            capacity=12,
            valid_from=today,
            valid_until=today + timedelta(days=60),
        )
        return self._add(Schedule(experience=experience, **(defaults | kw)))

    def booking(self, departure=None, quantities=None, status=BookingStatus.CONFIRMED, **kw):
        departure = departure or self.departure()
        experience = departure.experience
        categories = {pc.code: pc for pc in experience.price_categories}
        quantities = quantities or {"adult": 1}
        now = utcnow()
        booking = Booking(
            departure=departure,
            reference=new_reference(self.session, experience.association.code),
            manage_token=new_manage_token(),
            status=status,
            hold_expires_at=now + timedelta(minutes=30) if status == BookingStatus.HELD else None,
            contact_name="Ana Test",
            contact_email="ana@example.org",
            contact_phone="+593 99 123 4567",
            country="EC",
            language="es",
            total_cents=0,
            created_at=now,
        )
        for code, qty in quantities.items():
            booking.lines.append(
                BookingLine(
                    price_category_id=categories[code].id,
                    quantity=qty,
                    unit_price_cents=categories[code].price_cents,
                )
            )
        booking.total_cents = sum(line.amount_cents for line in booking.lines)
        for key, value in kw.items():
            setattr(booking, key, value)
        return self._add(booking)

    def route_booking_of(self, booking, slug="route-leg", **kw) -> RouteBooking:
        """A confirmed route booking whose one leg is ``booking``, of a route (``slug``) the
        booking's association curates; ``kw`` sets the route booking's own columns (its
        contact is the booking's unless given)."""
        association = booking.departure.experience.association
        route = Route(slug=slug, status=ExperienceStatus.PUBLISHED, curator=association)
        route.participations = [RouteParticipation(association_id=association.id)]
        leg = RouteLeg(
            route=route,
            position=0,
            day=1,
            kind=LegKind.EXPERIENCE,
            experience=booking.departure.experience,
            start_time=time(9),
        )
        defaults = dict(
            route=route,
            reference=new_reference(self.session, "RUT"),
            manage_token=new_manage_token(),
            status=BookingStatus.CONFIRMED,
            payment_method="on_arrival",
            start_date=booking.departure.starts_at.date(),
            people=1,
            contact_name=booking.contact_name,
            contact_email=booking.contact_email,
            contact_phone=booking.contact_phone,
            country="EC",
            language="es",
            total_cents=booking.total_cents,
        )
        route_booking = RouteBooking(**(defaults | kw))
        route_booking.legs = [RouteBookingLeg(leg=leg, booking=booking)]
        return self._add(route_booking)

    def card_payment(self, booking, fee_cents=0, amount_cents=None, **kw) -> Payment:
        """A card payment of ``booking`` that succeeded now (the whole total unless
        ``amount_cents``), with Stripe-shaped references; not posted to the ledger."""
        defaults = dict(
            booking=booking,
            provider="stripe",
            provider_ref="pi_" + uuid.uuid4().hex[:20],
            charge_ref="ch_" + uuid.uuid4().hex[:20],
            amount_cents=booking.total_cents if amount_cents is None else amount_cents,
            fee_cents=fee_cents,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=utcnow(),
        )
        return self._add(Payment(**(defaults | kw)))

    # --- People (appended for the accounts tests) ------------------------------------------

    def user(self, email=None, password=None, memberships=(), **kw):
        """A user with ``password`` (``PASSWORD`` unless given; ``""`` for none);
        ``memberships`` holds (association, role) pairs."""
        from tourism.models import Membership, User

        n = next(_seq)
        defaults = dict(
            email=email or f"person{n}@example.org",
            name=f"Person {n}",
            password_hash=_password_hash(PASSWORD if password is None else password) or None,
        )
        user = self._add(User(**(defaults | kw)))
        for association, role in memberships:
            self._add(Membership(user=user, association=association, role=role))
        return user


#: The password of ``Factories.user`` accounts unless a test gives another.
PASSWORD = "a long test password"
_hashes: dict[str, str] = {}


def _password_hash(password: str) -> str:
    """argon2 at 64 MiB takes a while: hash each test password once per test session."""
    from tourism.services.access.accounts import hash_password

    if not password:
        return ""
    if password not in _hashes:
        _hashes[password] = hash_password(password)
    return _hashes[password]


# --- Guides (appended for the guide tests) --------------------------------------------------


def _guide(self, association, **kw):
    """A user who guides for ``association`` (no password unless one is given)."""
    from tourism.models import Role

    kw.setdefault("password", "")
    return self.user(memberships=[(association, Role.GUIDE)], **kw)


def _assign(self, departure, user, role="lead"):
    """Put ``user`` on ``departure`` directly, without the service's checks."""
    from tourism.models import DepartureGuide, GuideRole

    return self._add(DepartureGuide(departure=departure, user=user, role=GuideRole(role)))


Factories.guide = _guide
Factories.assign = _assign


#: A typical split rule's parts, shared by the split-rule and posting tests.
SPLIT_PARTS = [
    {"party": "families", "basis_points": 5_000},
    {"party": "guides", "basis_points": 2_000, "cents_per_participant": 300},
    {"party": "association_fund", "basis_points": 1_500},
    {"party": "conservation_fund", "basis_points": 500},
    {"party": "platform", "basis_points": 1_000},
]


# --- Resellers (appended for the OCTO API tests) ---------------------------------------------


def _reseller(self, association=None, experiences=(), commission_bp=1_000, **kw):
    """A reseller of ``association`` selling ``experiences``; returns ``(reseller, key)``."""
    from tourism.models import Reseller
    from tourism.services.access.accounts import hash_token
    from tourism.services.channels.resellers import KEY_PREFIX

    n = next(_seq)
    association = association or (experiences[0].association if experiences else None)
    association = association or self.association()
    key = f"{KEY_PREFIX}test-key-{n}-" + "x" * 20
    defaults = dict(
        name=f"Reseller {n}",
        contact_email=f"desk{n}@reseller.example",
        contact_phone="+593 99 123 4567",
        commission_bp=commission_bp,
        key_hash=hash_token(key),
        key_prefix=key[:12],
    )
    reseller = Reseller(association=association, **(defaults | kw))
    reseller.experiences = list(experiences)
    return self._add(reseller), key


Factories.reseller = _reseller

# --- Routes across communities (appended for the route tests) -------------------------------


def _homestay(self, family=None, capacity=4, price=2500, **kw):
    from decimal import Decimal

    from tourism.models import Homestay

    family = family or self.family()
    defaults = dict(
        name=f"Casa {family.name}",
        description_es="Habitación",
        description_en="Room",
        latitude=Decimal("-1.000000"),
        longitude=Decimal("-77.800000"),
        location_is_approximate=True,
    )
    homestay = Homestay(
        family=family, capacity=capacity, price_cents_per_person_night=price, **(defaults | kw)
    )
    return self._add(homestay)


def _extra(self, association=None, price=800, stock=None, **kw):
    from tourism.models import Extra

    association = association or self.association()
    n = next(_seq)
    defaults = dict(code=f"extra-{n}", name_es=f"Extra {n}", name_en=f"Extra {n}")
    return self._add(
        Extra(association=association, price_cents=price, stock=stock, **(defaults | kw))
    )


def _route(self, start_date=None, capacities=(10, 10, 10), beds=(4, 4), approve=True, **kw):
    """A three-day route over three associations: an activity each day (08:30, 06:00 and
    10:00 local) with two homestay nights between, departures made for ``start_date``
    (five days from now unless given) and every association's approval."""
    from datetime import time as clock

    from tourism.models import ExperienceStatus, Route, RouteText
    from tourism.services.routes import curation
    from tourism.timefmt import local_to_utc

    start_date = start_date or (utcnow() + timedelta(days=5)).date()
    n = next(_seq)
    route = Route(
        slug=f"route-{n}",
        status=ExperienceStatus.DRAFT,
        cancellation_policy=[{"hours": 72, "percent": 100}],
        **kw,
    )
    route.texts = [
        RouteText(locale="es", title=f"Ruta {n}", summary="Resumen"),
        RouteText(locale="en", title=f"Route {n}", summary="Summary"),
    ]
    self._add(route)
    times = (clock(8, 30), clock(6, 0), clock(10, 0))
    associations = [self.association() for _ in range(3)]
    for day, (association, at, capacity) in enumerate(
        zip(associations, times, capacities, strict=True), start=1
    ):
        experience = self.experience(association=association, duration_minutes=180)
        when = local_to_utc(start_date + timedelta(days=day - 1), at)
        self.departure(experience, capacity=capacity, starts_at=when)
        curation.add_experience_leg(self.session, route, experience, day, at)
        if day < 3:
            homestay = self.homestay(self.family(association), capacity=beds[day - 1])
            curation.add_homestay_leg(self.session, route, homestay, day)
    if approve:
        for association in associations:
            curation.decide_participation(self.session, route, association, True, None, utcnow())
        curation.publish_route(self.session, route)
    self.session.refresh(route)
    return route


Factories.homestay = _homestay
Factories.route_extra = _extra
Factories.route = _route
