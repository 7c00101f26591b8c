"""Demo content for Tsatsayaku: the association (facts from the case study), its invented
demo families and its experiences (invented, and saying so)."""

from __future__ import annotations

from datetime import time

from ..models import ExperienceStatus
from .common import STANDARD_POLICY, demo_identity, paragraphs

ASSOCIATION = {
    "identity": demo_identity(
        "Asociación Tsatsayaku (demo)",
        4,
        "Tena, Napo",
        "0004",
    ),
    "slug": "tsatsayaku",
    "name": "Tsatsayaku",
    "code": "TSA",
    "province": "napo",
    "founded_year": None,
    "description_es": (
        "Organización de Napo que, junto a Wiñak, Kallari y ASOPROMÁS, trabaja por "
        "revitalizar la chakra amazónica: el sistema agroforestal kichwa que cuidan y "
        "enseñan las chakramamas."
    ),
    "description_en": (
        "An organisation in Napo that, like Wiñak, Kallari and ASOPROMÁS, works to "
        "revitalise the Amazonian chakra: the Kichwa agroforestry system cared for and "
        "taught by the chakramamas."
    ),
}

#: Invented demo households: (name, community).
FAMILIES = [
    ("Familia Demo Mamallacta", "Comunidad demo Tsatsayaku Alto"),
    ("Familia Demo Yumbo", "Comunidad demo Jatun Yaku"),
    ("Familia Demo Chimbo", "Comunidad demo Misahuallí Bajo"),
]

CHAKRA_SCHOOL = {
    "association": "tsatsayaku",
    "slug": "tsatsayaku-chakra-school",
    "status": ExperienceStatus.PUBLISHED,
    "province": "napo",
    "duration_minutes": 360,
    "languages": "es,qu,en",
    "max_tickets_per_booking": 10,
    "cancellation_policy": STANDARD_POLICY,
    "themes": ["chakra", "nature", "food"],
    "prices": [("adult", 3500), ("child", 1800), ("resident", 2200)],
    "schedule": {"weekdays": "SU", "start": time(7, 30), "capacity": 10},
    "texts": {
        "es": {
            "title": "Escuela de la chakra con Tsatsayaku",
            "summary": (
                "Un domingo aprendiendo con las chakramamas: diseñar una chakra, sembrar "
                "especies nativas y cocinar lo cosechado."
            ),
            "description": paragraphs(
                "La chakra es un espacio de aprendizaje y de identidad, no solo de "
                "producción. En esta jornada las chakramamas enseñan cómo se planifica: "
                "qué se siembra para comer pronto, qué para dentro de unos años y qué "
                "árboles darán sombra a los nietos.",
                "Sembrarás árboles nativos como cedro, laurel o canelo en una parcela en "
                "restauración y conocerás plantas medicinales como la ortiga o el ají "
                "negro.",
                "La jornada termina con un almuerzo de la chakra: yuca, plátano, maíz y "
                "frutas de temporada.",
            ),
            "what_to_bring": (
                "Botas de caucho, sombrero, protector solar, repelente, impermeable y "
                "cuaderno si quieres tomar notas."
            ),
            "meeting_point": (
                "Demo: cancha de la Comunidad demo Tsatsayaku Alto, 07:15 (punto de "
                "encuentro de demostración)."
            ),
        },
        "en": {
            "title": "Chakra school with Tsatsayaku",
            "summary": (
                "A Sunday learning from the chakramamas: designing a chakra, planting "
                "native species and cooking the harvest."
            ),
            "description": paragraphs(
                "The chakra is a place of learning and identity, not only of production. "
                "On this day the chakramamas teach how it is planned: what is planted to "
                "eat soon, what for a few years' time, and which trees will shade the "
                "grandchildren.",
                "You will plant native trees such as cedar, laurel or canelo on a plot "
                "being restored, and get to know medicinal plants such as nettle and black "
                "chili.",
                "The day ends with a chakra lunch: cassava, plantain, maize and fruit in season.",
            ),
            "what_to_bring": (
                "Rubber boots, a hat, sunscreen, insect repellent, a rain jacket and a "
                "notebook if you like to take notes."
            ),
            "meeting_point": (
                "Demo: sports field of Comunidad demo Tsatsayaku Alto, 07:15 (demo meeting point)."
            ),
        },
    },
    "stops": [
        (
            "Familia Demo Mamallacta",
            120,
            {
                "es": (
                    "Cómo se diseña una chakra",
                    "La chakramama de la Familia Demo Mamallacta explica los estratos y "
                    "ciclos de su chakra mientras se siembra.",
                ),
                "en": (
                    "How a chakra is designed",
                    "The Familia Demo Mamallacta chakramama explains the layers and cycles "
                    "of her chakra while you plant.",
                ),
            },
        ),
        (
            "Familia Demo Yumbo",
            120,
            {
                "es": (
                    "Restauración con especies nativas",
                    "Siembra de cedro, laurel y canelo en la parcela en restauración de la "
                    "Familia Demo Yumbo.",
                ),
                "en": (
                    "Restoring with native species",
                    "Planting cedar, laurel and canelo on the Familia Demo Yumbo plot that "
                    "is being restored.",
                ),
            },
        ),
        (
            "Familia Demo Chimbo",
            90,
            {
                "es": (
                    "Almuerzo de la chakra",
                    "Cocina compartida en casa de la Familia Demo Chimbo con lo cosechado "
                    "durante la mañana.",
                ),
                "en": (
                    "Chakra lunch",
                    "Cooking together at the Familia Demo Chimbo home with the morning's harvest.",
                ),
            },
        ),
    ],
}
