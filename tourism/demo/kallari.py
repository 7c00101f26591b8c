"""Demo content for Kallari: the association (facts from the case study), its invented
demo families and its experiences (invented, and saying so)."""

from __future__ import annotations

from datetime import time

from ..models import ExperienceStatus
from .common import STANDARD_POLICY, demo_identity, paragraphs

ASSOCIATION = {
    "identity": demo_identity(
        "Asociación Kallari (demo)",
        1,
        "Tena, Napo",
        "0001",
    ),
    "slug": "kallari",
    "name": "Kallari",
    "code": "KAL",
    "province": "napo",
    "founded_year": 1997,
    "description_es": paragraphs(
        "Asociación kichwa fundada en 1997 que reúne a más de 850 familias de 21 "
        "comunidades de Napo. Se organiza en torno a la chakra y la minga, el trabajo "
        "colectivo.",
        "Ha construido cadenas de valor en cacao, guayusa, café, vainilla, madera y "
        "artesanías, con comercio justo y directo, sin intermediarios. Ofrece capacitación, "
        "certificación orgánica, trazabilidad y turismo comunitario, entre ellos la Ruta "
        "del Cacao Kallari, y protege más de 7.000 hectáreas.",
    ),
    "description_en": paragraphs(
        "A Kichwa association founded in 1997 that brings together more than 850 families "
        "from 21 communities in Napo. It is organised around the chakra and the minga, "
        "collective community work.",
        "It has built value chains in cacao, guayusa, coffee, vanilla, timber and crafts, "
        "trading fairly and directly, without middlemen. It runs training, organic "
        "certification, traceability and community tourism, including the Kallari Cacao "
        "Route, and protects more than 7,000 hectares.",
    ),
}

#: Invented demo households: (name, community).
FAMILIES = [
    ("Familia Demo Grefa", "Comunidad demo Alto Tena"),
    ("Familia Demo Shiguango", "Comunidad demo Río Pano"),
    ("Familia Demo Andi", "Comunidad demo Yachana Urku"),
    ("Familia Demo Tanguila", "Comunidad demo Pununo"),
]

CACAO_ROUTE = {
    "association": "kallari",
    "slug": "kallari-cacao-route",
    "status": ExperienceStatus.PUBLISHED,
    "province": "napo",
    "duration_minutes": 300,
    "languages": "es,en,qu",
    "max_tickets_per_booking": 10,
    "cancellation_policy": STANDARD_POLICY,
    "payment_options": "card,deposit,on_arrival",
    "deposit_percent": 30,
    "themes": ["cacao", "chakra", "culture"],
    "prices": [("adult", 4500), ("child", 2500), ("resident", 3000)],
    "schedule": {"weekdays": "TU,TH,SA", "start": time(8, 30), "capacity": 12},
    "texts": {
        "es": {
            "title": "Ruta del Cacao Kallari",
            "summary": (
                "Del árbol a la tableta: recorre tres chakras kichwa de Napo y termina con "
                "una cata del chocolate de Kallari."
            ),
            "description": paragraphs(
                "La Ruta del Cacao Kallari es turismo vivencial: une el trabajo en la "
                "chakra, la cultura kichwa y el mercado justo que la asociación ha "
                "construido desde 1997 con más de 850 familias de Napo.",
                "Las chakramamas te mostrarán cómo el cacao fino de aroma crece a la sombra "
                "de cedros y laureles, junto a yuca, plátano, guayusa y frutas como la "
                "chonta o el arazá. Verás cómo se injerta el cacao ancestral para conservar "
                "su genética, y participarás en la cosecha, la fermentación y el secado.",
                "El recorrido termina en la cata de chocolate de la asociación. Cada "
                "entrada se reparte entre la asociación y las familias anfitrionas.",
            ),
            "what_to_bring": (
                "Botas de caucho (te las prestamos si las pides con tiempo), ropa ligera de manga "
                "larga, impermeable, repelente, protector solar y una botella de agua "
                "reutilizable."
            ),
            "meeting_point": (
                "Demo: oficina de Kallari en Tena, 08:15 (punto de encuentro de demostración)."
            ),
        },
        "en": {
            "title": "Kallari Cacao Route",
            "summary": (
                "From tree to bar: walk through three Kichwa chakras in Napo and finish "
                "with a tasting of Kallari chocolate."
            ),
            "description": paragraphs(
                "The Kallari Cacao Route is hands-on tourism: it links work in the chakra, "
                "Kichwa culture and the fair market the association has built since 1997 "
                "with more than 850 families in Napo.",
                "The chakramamas show you how fine-aroma cacao grows in the shade of cedar "
                "and laurel trees, alongside cassava, plantain, guayusa and fruit such as "
                "chonta palm and arazá. You will see how ancestral cacao is grafted to keep "
                "its genetics, and join in the harvest, fermentation and drying.",
                "The route ends at the association's chocolate tasting. Every ticket is "
                "shared between the association and the host families.",
            ),
            "what_to_bring": (
                "Rubber boots (we lend them if you ask ahead), light long-sleeved clothes, "
                "a rain jacket, insect repellent, sunscreen and a refillable water bottle."
            ),
            "meeting_point": "Demo: Kallari office in Tena, 08:15 (demo meeting point).",
        },
    },
    "stops": [
        (
            "Familia Demo Grefa",
            75,
            {
                "es": (
                    "La chakra de la Familia Demo Grefa",
                    "Bienvenida con guayusa y un paseo por los estratos de la chakra: "
                    "cultivos de ciclo corto, mediano y largo que imitan el bosque.",
                ),
                "en": (
                    "The Familia Demo Grefa chakra",
                    "A welcome with guayusa and a walk through the chakra's layers: short-, "
                    "medium- and long-cycle crops growing together like the forest.",
                ),
            },
        ),
        (
            "Familia Demo Shiguango",
            60,
            {
                "es": (
                    "Vivero de cacao ancestral",
                    "La Familia Demo Shiguango explica cómo se selecciona e injerta el "
                    "cacao ancestral para que su genética no se pierda.",
                ),
                "en": (
                    "Ancestral cacao nursery",
                    "Familia Demo Shiguango explains how ancestral cacao is selected and "
                    "grafted so that its genetics are not lost.",
                ),
            },
        ),
        (
            "Familia Demo Andi",
            90,
            {
                "es": (
                    "Cosecha, fermentación y secado",
                    "Abre una mazorca, prueba la pulpa fresca y sigue el grano por la "
                    "fermentación y el secado. Almuerzo con yuca, plátano y frutas de la "
                    "chakra.",
                ),
                "en": (
                    "Harvest, fermentation and drying",
                    "Open a pod, taste the fresh pulp and follow the beans through "
                    "fermentation and drying. Lunch with cassava, plantain and chakra fruit.",
                ),
            },
        ),
        (
            None,
            45,
            {
                "es": (
                    "Cata de chocolate Kallari",
                    "Cata guiada del chocolate de la asociación, del grano tostado a la "
                    "tableta, y visita a la tienda de productos de las familias.",
                ),
                "en": (
                    "Kallari chocolate tasting",
                    "A guided tasting of the association's chocolate, from roasted bean to "
                    "bar, and a look at the shop of the families' products.",
                ),
            },
        ),
    ],
}

MINGA_CRAFTS = {
    "association": "kallari",
    "slug": "kallari-minga-crafts",
    "status": ExperienceStatus.PUBLISHED,
    "province": "napo",
    "duration_minutes": 180,
    "languages": "es,qu",
    "max_tickets_per_booking": 8,
    "cancellation_policy": STANDARD_POLICY,
    "themes": ["crafts", "culture"],
    "prices": [("adult", 2500), ("child", 1200)],
    "schedule": {"weekdays": "WE,SA", "start": time(14, 0), "capacity": 8},
    "texts": {
        "es": {
            "title": "Minga y taller de artesanías con Kallari",
            "summary": (
                "Únete a una minga en la chakra y aprende a hacer joyería de semillas y "
                "cerámica con artesanas kichwa."
            ),
            "description": paragraphs(
                "La minga, el trabajo colectivo, es uno de los principios con los que se "
                "organiza Kallari. Durante una hora trabajarás junto a la comunidad en una "
                "chakra: limpiar, sembrar o cosechar, según la temporada.",
                "Después, en el taller, las artesanas enseñan a elegir y perforar semillas "
                "de la chakra para collares y pulseras, y a modelar piezas sencillas de "
                "cerámica. Te llevas a casa lo que hayas hecho.",
            ),
            "what_to_bring": (
                "Ropa que se pueda ensuciar, botas de caucho, repelente e impermeable."
            ),
            "meeting_point": (
                "Demo: casa comunal de la Comunidad demo Pununo, 13:45 (punto de encuentro "
                "de demostración)."
            ),
        },
        "en": {
            "title": "Minga and crafts workshop with Kallari",
            "summary": (
                "Join a minga in the chakra and learn seed jewellery and ceramics from "
                "Kichwa artisans."
            ),
            "description": paragraphs(
                "The minga, collective work, is one of the principles Kallari is organised "
                "around. For an hour you work with the community in a chakra: weeding, "
                "planting or harvesting, depending on the season.",
                "Then, in the workshop, the artisans show how to choose and pierce chakra "
                "seeds for necklaces and bracelets, and how to shape simple ceramic "
                "pieces. Everyone takes home what they made.",
            ),
            "what_to_bring": (
                "Clothes that can get dirty, rubber boots, insect repellent and a rain jacket."
            ),
            "meeting_point": (
                "Demo: community hall of Comunidad demo Pununo, 13:45 (demo meeting point)."
            ),
        },
    },
    "stops": [
        (
            "Familia Demo Tanguila",
            60,
            {
                "es": (
                    "Minga en la chakra",
                    "Trabajo colectivo en la chakra de la Familia Demo Tanguila, con "
                    "chicha y conversación al terminar.",
                ),
                "en": (
                    "Minga in the chakra",
                    "Collective work in the Familia Demo Tanguila chakra, with a drink and "
                    "conversation afterwards.",
                ),
            },
        ),
        (
            "Familia Demo Andi",
            120,
            {
                "es": (
                    "Taller de semillas y cerámica",
                    "Las artesanas de la Familia Demo Andi enseñan joyería de semillas y cerámica.",
                ),
                "en": (
                    "Seed and ceramics workshop",
                    "The Familia Demo Andi artisans teach seed jewellery and ceramics.",
                ),
            },
        ),
    ],
}
