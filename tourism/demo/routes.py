"""Demo content for routes across communities: approximate coordinates for every demo stop,
two demo homestays, four extras and one three-day route over Kallari, Wiñak and ASOPROMÁS.

Coordinates are rough points near the towns each association works from (Tena and
Archidona in Napo, El Pangui in Zamora Chinchipe), invented for the demo and marked
approximate; they are not where any real family lives. The real distance between Napo and
Zamora Chinchipe is a long day on the road: a real route would plan that transfer.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

from ..database import utcnow
from ..models import ExperienceStatus, Extra, Homestay, HomestayBlackout, Route, RouteText
from ..services.routes import curation
from .common import paragraphs

#: Per experience slug, (latitude, longitude) of each stop in order (approximate, demo).
STOP_COORDINATES = {
    "kallari-cacao-route": [
        ("-0.9850", "-77.8150"),
        ("-0.9960", "-77.7980"),
        ("-1.0080", "-77.7850"),
        ("-0.9930", "-77.8120"),
    ],
    "kallari-minga-crafts": [("-0.9790", "-77.8230"), ("-1.0080", "-77.7850")],
    "winak-guayusa-dawn": [
        ("-0.9120", "-77.8070"),
        ("-0.9050", "-77.7960"),
        ("-0.9200", "-77.7900"),
    ],
    "winak-draft-river-walk": [("-0.9300", "-77.7800")],
    "asopromas-kujenito-chocolate": [
        ("-3.6230", "-78.5860"),
        ("-3.6310", "-78.5790"),
        ("-3.6180", "-78.5900"),
    ],
    "tsatsayaku-chakra-school": [
        ("-1.0500", "-77.6700"),
        ("-1.0560", "-77.6620"),
        ("-1.0450", "-77.6780"),
    ],
}

HOMESTAYS = [
    {
        "family": "Familia Demo Andi",
        "name": "Casa de la Familia Demo Andi",
        "capacity": 6,
        "price_cents_per_person_night": 2800,
        "meals_included": True,
        "latitude": "-1.0150",
        "longitude": "-77.7750",
        "description_es": (
            "Dos habitaciones con mosquiteros en una casa kichwa junto a la chakra; cena y "
            "desayuno con lo que da la chakra. (Hospedaje de demostración.)"
        ),
        "description_en": (
            "Two rooms with mosquito nets in a Kichwa house by the chakra; dinner and "
            "breakfast from what the chakra gives. (Demo homestay.)"
        ),
        "blackouts_in_days": [20],
    },
    {
        "family": "Familia Demo Cerda",
        "name": "Casa de la Familia Demo Cerda",
        "capacity": 4,
        "price_cents_per_person_night": 2500,
        "meals_included": False,
        "latitude": "-0.9150",
        "longitude": "-77.8000",
        "description_es": (
            "Una habitación para cuatro cerca de la olla de guayusa del amanecer. Comidas "
            "aparte. (Hospedaje de demostración.)"
        ),
        "description_en": (
            "One room for four near the dawn guayusa pot. Meals are extra. (Demo homestay.)"
        ),
        "blackouts_in_days": [],
    },
]

#: (code, association, provider family or None for the association, es, en, cents, stock)
EXTRAS = [
    (
        "kallari-lunch",
        "kallari",
        "Familia Demo Tanguila",
        "Almuerzo de chakra (maito)",
        "Chakra lunch (maito)",
        900,
        None,
    ),
    (
        "kujenito-chocolate-box",
        "asopromas",
        None,
        "Caja de chocolate Kujeñito",
        "Kujeñito chocolate box",
        1500,
        30,
    ),
    (
        "winak-guayusa-pack",
        "winak",
        "Familia Demo Vargas",
        "Paquete de guayusa seca",
        "Dried guayusa pack",
        600,
        40,
    ),
    (
        "napo-canoe-transfer",
        "kallari",
        "Familia Demo Shiguango",
        "Traslado en canoa por el Napo",
        "Canoe transfer on the Napo",
        1200,
        None,
    ),
]

#: The demo experience of each association that offers its extras when booked alone.
EXPERIENCE_OF = {
    "kallari": "kallari-cacao-route",
    "winak": "winak-guayusa-dawn",
    "asopromas": "asopromas-kujenito-chocolate",
}

ROUTE = {
    "slug": "cacao-guayusa-chocolate-route",
    "curator": "kallari",
    "curator_fee_cents": 200,
    "max_people_per_booking": 6,
    "cancellation_policy": [{"hours": 72, "percent": 100}, {"hours": 24, "percent": 50}],
    # (day, experience slug, local start) and (day, homestay family) in order.
    "legs": [
        (1, "kallari-cacao-route", time(8, 30)),
        (1, "Familia Demo Andi", None),
        (2, "winak-guayusa-dawn", time(5, 0)),
        (2, "Familia Demo Cerda", None),
        (3, "asopromas-kujenito-chocolate", time(9, 0)),
    ],
    "extras": [code for code, *_ in EXTRAS],
    "texts": {
        "es": {
            "title": "Cacao, guayusa y chocolate: tres días entre comunidades",
            "summary": (
                "La Ruta del Cacao Kallari, una noche con una familia kichwa, la guayusa del "
                "amanecer con Wiñak y la planta de chocolate de ASOPROMÁS: una sola reserva."
            ),
            "description": paragraphs(
                "Día 1: la Ruta del Cacao con Kallari, de la chakra a la tableta, y la noche "
                "en la casa de una familia kichwa.",
                "Día 2: de madrugada, guayusa y chakra con Wiñak; la noche cerca de la olla "
                "de guayusa.",
                "Día 3: la planta de chocolate Kujeñito de ASOPROMÁS. (Ruta de demostración: "
                "el traslado real de Napo a Zamora Chinchipe es largo.)",
            ),
        },
        "en": {
            "title": "Cacao, guayusa and chocolate: three days across communities",
            "summary": (
                "The Kallari Cacao Route, a night with a Kichwa family, the Wiñak guayusa "
                "dawn and the ASOPROMÁS chocolate plant: one booking."
            ),
            "description": paragraphs(
                "Day 1: the Cacao Route with Kallari, from the chakra to the bar, and the "
                "night in a Kichwa family's house.",
                "Day 2: guayusa before dawn and the chakra with Wiñak; the night near the "
                "guayusa pot.",
                "Day 3: the Kujeñito chocolate plant of ASOPROMÁS. (Demo route: the real "
                "transfer from Napo to Zamora Chinchipe is long.)",
            ),
        },
    },
}


def seed_routes(session, today, associations, families, experiences) -> None:
    """Coordinates on every demo stop, the homestays, extras and the demo route, with every
    association's approval, published. Only flushes."""
    for slug, points in STOP_COORDINATES.items():
        for stop, (lat, lon) in zip(experiences[slug].stops, points, strict=True):
            stop.latitude, stop.longitude = Decimal(lat), Decimal(lon)
            stop.location_is_approximate = True
    homestays = {}
    for data in HOMESTAYS:
        data = dict(data)
        family = families[data.pop("family")]
        blackouts = data.pop("blackouts_in_days")
        homestay = Homestay(
            family=family,
            latitude=Decimal(data.pop("latitude")),
            longitude=Decimal(data.pop("longitude")),
            location_is_approximate=True,
            **data,
        )
        homestay.blackouts = [HomestayBlackout(night=today + timedelta(days=n)) for n in blackouts]
        session.add(homestay)
        homestays[family.name] = homestay
    extras = {}
    for code, association, family, name_es, name_en, cents, stock in EXTRAS:
        extras[code] = Extra(
            code=code,
            association=associations[association],
            family=families[family] if family else None,
            name_es=name_es,
            name_en=name_en,
            price_cents=cents,
            stock=stock,
        )
        session.add(extras[code])
        # Each is also offered on its association's experience booked alone.
        experiences[EXPERIENCE_OF[association]].extras.append(extras[code])
    route = Route(
        slug=ROUTE["slug"],
        curator=associations[ROUTE["curator"]],
        curator_fee_cents=ROUTE["curator_fee_cents"],
        max_people_per_booking=ROUTE["max_people_per_booking"],
        cancellation_policy=[dict(tier) for tier in ROUTE["cancellation_policy"]],
        status=ExperienceStatus.DRAFT,
    )
    route.texts = [RouteText(locale=lc, **text) for lc, text in ROUTE["texts"].items()]
    route.extras = [extras[code] for code in ROUTE["extras"]]
    session.add(route)
    session.flush()
    for day, what, at in ROUTE["legs"]:
        if at is None:
            curation.add_homestay_leg(session, route, homestays[what], day)
        else:
            curation.add_experience_leg(session, route, experiences[what], day, at)
    now = utcnow()
    for participation in list(route.participations):
        curation.decide_participation(session, route, participation.association, True, None, now)
    curation.publish_route(session, route)
