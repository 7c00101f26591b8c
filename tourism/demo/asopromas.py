"""Demo content for ASOPROMÁS: the association (facts from the case study), its invented
demo families and its experiences (invented, and saying so)."""

from __future__ import annotations

from datetime import time

from ..models import ExperienceStatus
from .common import STANDARD_POLICY, demo_identity, paragraphs

ASSOCIATION = {
    "identity": demo_identity(
        "Asociación de Producción de Cacao y Derivados Aromas del Sur (demo)",
        3,
        "Zamora, Zamora Chinchipe",
        "0003",
    ),
    "slug": "asopromas",
    "name": "Asociación de Producción de Cacao y Derivados Aromas del Sur (ASOPROMÁS)",
    "code": "ASO",
    "province": "zamora_chinchipe",
    "founded_year": 2013,
    "description_es": paragraphs(
        "Asociación creada en 2013 en Zamora Chinchipe y Morona Santiago: 50% shuar y 50% "
        "mestiza, con 49% de mujeres. De sus 160 productores en certificación orgánica, 84 "
        "ya están certificados.",
        "Tiene su propia planta de chocolate y la marca Kujeñito, premiada por la mejor "
        "pasta de cacao en la Expo Amazonía 2019. En 2022 exportó directamente 500 kg de "
        "cacao seco a Chile y en 2024, junto con Wiñak, llegó a Japón. Sus escuelas de "
        "agroecología forman a las comunidades, y rescata árboles de cacao ancestral "
        "pagando mejor su grano.",
    ),
    "description_en": paragraphs(
        "An association founded in 2013 in Zamora Chinchipe and Morona Santiago: 50% Shuar "
        "and 50% mestizo, 49% women. Of its 160 producers in organic certification, 84 are "
        "already certified.",
        "It runs its own chocolate plant and the Kujeñito brand, which won best cacao paste "
        "at Expo Amazonía 2019. In 2022 it exported 500 kg of dry cacao directly to Chile, "
        "and in 2024, together with Wiñak, it reached Japan. Its agroecology schools train "
        "the communities, and it rescues ancestral cacao trees, paying more for their beans.",
    ),
}

#: Invented demo households: (name, community).
FAMILIES = [
    ("Familia Demo Alvarado", "Comunidad demo El Pangui Alto"),
    ("Familia Demo Tsamaraint", "Comunidad demo Nuevo Kujancham"),
    ("Familia Demo Chumpi", "Comunidad demo Yantzaza Bajo"),
]

KUJENITO_CHOCOLATE = {
    "association": "asopromas",
    "slug": "asopromas-kujenito-chocolate",
    "status": ExperienceStatus.PUBLISHED,
    "province": "zamora_chinchipe",
    "duration_minutes": 240,
    "languages": "es,jiv,en",
    "max_tickets_per_booking": 12,
    "cancellation_policy": STANDARD_POLICY,
    "themes": ["cacao", "crafts"],
    "prices": [("adult", 3000), ("child", 1500), ("resident", 2000), ("student", 2000)],
    "schedule": {
        "weekdays": "MO,TU,WE,TH,FR,SA",
        "start": time(9, 0),
        "capacity": 15,
    },
    "texts": {
        "es": {
            "title": "Chocolate Kujeñito: del grano a la tableta con ASOPROMÁS",
            "summary": (
                "Conoce el cacao ancestral de una finca shuar, la escuela de agroecología "
                "y la planta donde ASOPROMÁS elabora su chocolate Kujeñito."
            ),
            "description": paragraphs(
                "ASOPROMÁS reúne en Zamora Chinchipe y Morona Santiago a productores shuar "
                "y mestizos. Rescata árboles de cacao ancestral por su aroma y su alto "
                "porcentaje de almendra blanca, y paga mejor su grano para que se "
                "conserven.",
                "Empezarás en una finca con árboles ancestrales, seguirás en la escuela de "
                "agroecología, donde se aprenden bioinsumos y poda, y terminarás en la "
                "planta de chocolate Kujeñito, cuya pasta de cacao fue premiada en la "
                "Expo Amazonía 2019.",
                "Verás cada paso, del tostado al templado, y te llevarás una tableta hecha por ti.",
            ),
            "what_to_bring": (
                "Calzado cerrado (obligatorio dentro de la planta), ropa cómoda, gorra y agua."
            ),
            "meeting_point": (
                "Demo: entrada de la planta de chocolate de ASOPROMÁS, 08:45 (punto de "
                "encuentro de demostración)."
            ),
        },
        "en": {
            "title": "Kujeñito chocolate: bean to bar with ASOPROMÁS",
            "summary": (
                "See the ancestral cacao of a Shuar farm, the agroecology school and the "
                "plant where ASOPROMÁS makes its Kujeñito chocolate."
            ),
            "description": paragraphs(
                "ASOPROMÁS brings together Shuar and mestizo producers in Zamora Chinchipe "
                "and Morona Santiago. It rescues ancestral cacao trees for their aroma and "
                "high share of white beans, and pays more for their beans so that they are "
                "kept.",
                "You start at a farm with ancestral trees, continue at the agroecology "
                "school, where bio-inputs and pruning are taught, and end at the Kujeñito "
                "chocolate plant, whose cacao paste won an award at Expo Amazonía 2019.",
                "You will follow every step, from roasting to tempering, and take home a "
                "bar you made yourself.",
            ),
            "what_to_bring": (
                "Closed shoes (required inside the plant), comfortable clothes, a cap and water."
            ),
            "meeting_point": (
                "Demo: entrance of the ASOPROMÁS chocolate plant, 08:45 (demo meeting point)."
            ),
        },
    },
    "stops": [
        (
            "Familia Demo Tsamaraint",
            70,
            {
                "es": (
                    "Finca de cacao ancestral",
                    "La Familia Demo Tsamaraint muestra sus árboles de cacao ancestral y "
                    "cómo se reproducen para que no desaparezcan.",
                ),
                "en": (
                    "Ancestral cacao farm",
                    "Familia Demo Tsamaraint shows its ancestral cacao trees and how they "
                    "are propagated so they do not disappear.",
                ),
            },
        ),
        (
            "Familia Demo Alvarado",
            60,
            {
                "es": (
                    "Escuela de agroecología",
                    "En la parcela de la Familia Demo Alvarado: bioinsumos, poda y manejo "
                    "del cacao sin agroquímicos.",
                ),
                "en": (
                    "Agroecology school",
                    "On the Familia Demo Alvarado plot: bio-inputs, pruning and growing "
                    "cacao without agrochemicals.",
                ),
            },
        ),
        (
            None,
            110,
            {
                "es": (
                    "Planta de chocolate Kujeñito",
                    "Tostado, descascarillado, molienda y templado; cada visitante moldea "
                    "su propia tableta.",
                ),
                "en": (
                    "Kujeñito chocolate plant",
                    "Roasting, winnowing, grinding and tempering; every visitor moulds "
                    "their own bar.",
                ),
            },
        ),
    ],
}
