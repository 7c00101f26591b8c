"""Demo content for Wiñak: the association (facts from the case study), its invented
demo families and its experiences (invented, and saying so)."""

from __future__ import annotations

from datetime import time

from ..models import ExperienceStatus
from .common import EARLY_START_POLICY, STANDARD_POLICY, demo_identity, paragraphs

ASSOCIATION = {
    "identity": demo_identity(
        "Asociación Wiñak (demo)",
        2,
        "Archidona, Napo",
        "0002",
    ),
    "slug": "winak",
    "name": "Wiñak",
    "code": "WIN",
    "province": "pastaza",
    "founded_year": 2010,
    "description_es": paragraphs(
        "Organización kichwa creada en 2010 por familias agricultoras para dejar de "
        "depender de intermediarios. Tiene 250 socios, el 66% mujeres, trabaja con 80 "
        "comunidades de Pastaza y Napo y beneficia indirectamente a unas 4.000 familias.",
        "Sus chakras diversificadas están en las faldas del Sumaco y el Napo-Galeras. En 14 "
        "años ha certificado como orgánicos a 614 agricultores; exporta guayusa a India y "
        "cacao a Japón y lleva su propia trazabilidad y control de calidad.",
    ),
    "description_en": paragraphs(
        "A Kichwa organisation founded in 2010 by farming families to stop depending on "
        "middlemen. It has 250 members, 66% of them women, works with 80 communities in "
        "Pastaza and Napo and indirectly benefits some 4,000 families.",
        "Its diverse chakras lie on the slopes of Sumaco and Napo-Galeras. In 14 years it has "
        "seen 614 farmers certified organic; it exports guayusa to India and cacao to Japan "
        "and runs its own traceability and quality control.",
    ),
}

#: Invented demo households: (name, community).
FAMILIES = [
    ("Familia Demo Cerda", "Comunidad demo Sumaco Alto"),
    ("Familia Demo Vargas", "Comunidad demo Galeras"),
    ("Familia Demo Aguinda", "Comunidad demo Río Arajuno"),
    ("Familia Demo Santi", "Comunidad demo Puerto Libre"),
]

GUAYUSA_DAWN = {
    "association": "winak",
    "slug": "winak-guayusa-dawn",
    "status": ExperienceStatus.PUBLISHED,
    "province": "pastaza",
    "duration_minutes": 360,
    "languages": "es,qu,en",
    "max_tickets_per_booking": 8,
    "cancellation_policy": EARLY_START_POLICY,
    "themes": ["guayusa", "chakra", "food"],
    "prices": [("adult", 3800), ("child", 2000), ("resident", 2500)],
    "schedule": {"weekdays": "MO,WE,FR,SU", "start": time(5, 0), "capacity": 10},
    "texts": {
        "es": {
            "title": "Guayusa al amanecer y chakra con Wiñak",
            "summary": (
                "Comparte la guayusa antes del alba con una familia kichwa y pasa la mañana "
                "en su chakra, de la cosecha a la cocina."
            ),
            "description": paragraphs(
                "En las familias kichwa el día empieza de madrugada, alrededor de una olla "
                "de guayusa: una hoja con cafeína que se bebe como infusión mientras se "
                "conversa y se organiza la jornada.",
                "Con la primera luz, una chakramama te guía por su chakra: cacao fino de "
                "aroma, guayusa, yuca, camote, ají negro y plantas medicinales. Wiñak, con "
                "250 socios y un 66% de mujeres, exporta esta guayusa a India y este "
                "cacao a Japón.",
                "La mañana termina cocinando juntos con lo cosechado.",
            ),
            "what_to_bring": (
                "Linterna frontal, chaqueta ligera para la madrugada, botas de caucho, "
                "repelente y ganas de madrugar."
            ),
            "meeting_point": (
                "Demo: recogida en Puyo a las 04:30 (punto de encuentro de demostración)."
            ),
        },
        "en": {
            "title": "Guayusa at dawn and the chakra with Wiñak",
            "summary": (
                "Share guayusa before sunrise with a Kichwa family and spend the morning in "
                "their chakra, from harvest to kitchen."
            ),
            "description": paragraphs(
                "In Kichwa families the day begins before dawn around a pot of guayusa, a "
                "caffeinated leaf brewed as a tea while people talk and plan the day.",
                "At first light a chakramama guides you through her chakra: fine-aroma "
                "cacao, guayusa, cassava, sweet potato, black chili and medicinal plants. "
                "Wiñak, with 250 members, 66% of them women, exports this guayusa to India "
                "and this cacao to Japan.",
                "The morning ends with cooking together what you have harvested.",
            ),
            "what_to_bring": (
                "A head torch, a light jacket for the early hours, rubber boots, insect "
                "repellent and a willingness to get up early."
            ),
            "meeting_point": "Demo: pick-up in Puyo at 04:30 (demo meeting point).",
        },
    },
    "stops": [
        (
            "Familia Demo Cerda",
            90,
            {
                "es": (
                    "Guayusa al amanecer",
                    "Junto al fogón de la Familia Demo Cerda: guayusa recién preparada, "
                    "conversación y los planes del día.",
                ),
                "en": (
                    "Guayusa at dawn",
                    "By the Familia Demo Cerda hearth: freshly brewed guayusa, conversation "
                    "and the plans for the day.",
                ),
            },
        ),
        (
            "Familia Demo Vargas",
            150,
            {
                "es": (
                    "La chakra de una chakramama",
                    "Recorrido por la chakra con la chakramama de la Familia Demo Vargas: "
                    "cómo planifica los cultivos y qué enseña a sus hijas e hijos.",
                ),
                "en": (
                    "A chakramama's chakra",
                    "A walk through the chakra with the Familia Demo Vargas chakramama: how "
                    "she plans the crops and what she teaches her children.",
                ),
            },
        ),
        (
            "Familia Demo Aguinda",
            90,
            {
                "es": (
                    "Cocina de la chakra",
                    "Preparación de un almuerzo con yuca, plátano y frutas amazónicas en "
                    "casa de la Familia Demo Aguinda.",
                ),
                "en": (
                    "Chakra kitchen",
                    "Cooking a lunch of cassava, plantain and Amazonian fruit at the home "
                    "of Familia Demo Aguinda.",
                ),
            },
        ),
    ],
}

DRAFT_RIVER_WALK = {
    "association": "winak",
    "slug": "winak-draft-river-walk",
    "status": ExperienceStatus.DRAFT,
    "province": "pastaza",
    "duration_minutes": 150,
    "languages": "es",
    "max_tickets_per_booking": 8,
    "cancellation_policy": STANDARD_POLICY,
    "themes": ["nature"],
    "prices": [("adult", 2000), ("child", 1000)],
    "schedule": {"weekdays": "SA", "start": time(15, 0), "capacity": 8},
    "texts": {
        "es": {
            "title": "Paseo por el río (borrador)",
            "summary": (
                "Borrador: caminata por la orilla del río con una familia de Wiñak para "
                "hablar del agua y de las amenazas que la rodean."
            ),
            "description": paragraphs(
                "Borrador en preparación. El río da de comer, lava la ropa y une a las "
                "comunidades; las mujeres y los niños lo usan cada día.",
                "En la cuenca del Napo la minería ilegal pasó de 3 hectáreas en 1998 a "
                "más de 2.000 hoy, y ha llevado mercurio y plomo al agua. El paseo "
                "contará cómo las comunidades lo enfrentan.",
            ),
            "what_to_bring": "Sandalias de agua, repelente y ropa de cambio.",
            "meeting_point": "Demo: por definir (punto de encuentro de demostración).",
        },
        "en": {
            "title": "River walk (draft)",
            "summary": (
                "Draft: a walk along the riverbank with a Wiñak family to talk about the "
                "water and the threats around it."
            ),
            "description": paragraphs(
                "Draft in preparation. The river feeds people, washes clothes and links "
                "the communities; women and children use it every day.",
                "In the Napo river basin illegal mining has grown from 3 hectares in 1998 "
                "to over 2,000 today, bringing mercury and lead into the water. The walk "
                "will tell how the communities are facing it.",
            ),
            "what_to_bring": "Water sandals, insect repellent and a change of clothes.",
            "meeting_point": "Demo: to be decided (demo meeting point).",
        },
    },
    "stops": [
        (
            "Familia Demo Santi",
            150,
            {
                "es": (
                    "Orilla del río",
                    "Caminata guiada por la Familia Demo Santi a lo largo del río.",
                ),
                "en": (
                    "Riverbank",
                    "A walk along the river guided by Familia Demo Santi.",
                ),
            },
        ),
    ],
}
