"""Demo data: the associations of the case study, invented demo families, and their experiences.

The associations and their facts come from the case study "Modelos Comunitarios para una
Tierra Viva — Las Chakras Amazónicas" (Regions4, 2025). Families, communities, guides, prices,
schedules, meeting points and bookings are invented and say so ("Familia Demo …",
"Comunidad demo …", "Visitante Demo …"); none of them describes real people or places.

Kichwa and Shuar texts are deliberately absent: they must come from the communities themselves.
"""

from __future__ import annotations

import datetime
import zoneinfo
from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import utcnow
from .models import (
    Association,
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    ExperienceStatus,
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
from .services.references import new_manage_token, new_reference
from .services.schedules import generate_departures

#: Refund tiers, most generous first (whole hours, whole percent).
STANDARD_POLICY = [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}]
EARLY_START_POLICY = [{"hours": 72, "percent": 100}, {"hours": 24, "percent": 50}]

SCHEDULE_DAYS_BACK = 7
SCHEDULE_DAYS_AHEAD = 120
DEPARTURE_DAYS_AHEAD = 60


def _paragraphs(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


# --------------------------------------------------------------------------- associations

ASSOCIATIONS = [
    {
        "slug": "kallari",
        "name": "Kallari",
        "code": "KAL",
        "province": "napo",
        "founded_year": 1997,
        "description_es": _paragraphs(
            "Asociación kichwa fundada en 1997 que reúne a más de 850 familias de 21 "
            "comunidades de Napo. Se organiza en torno a la chakra y la minga, el trabajo "
            "colectivo.",
            "Ha construido cadenas de valor en cacao, guayusa, café, vainilla, madera y "
            "artesanías, con comercio justo y directo, sin intermediarios. Ofrece capacitación, "
            "certificación orgánica, trazabilidad y turismo comunitario, entre ellos la Ruta "
            "del Cacao Kallari, y protege más de 7.000 hectáreas.",
        ),
        "description_en": _paragraphs(
            "A Kichwa association founded in 1997 that brings together more than 850 families "
            "from 21 communities in Napo. It is organised around the chakra and the minga, "
            "collective community work.",
            "It has built value chains in cacao, guayusa, coffee, vanilla, timber and crafts, "
            "trading fairly and directly, without middlemen. It runs training, organic "
            "certification, traceability and community tourism, including the Kallari Cacao "
            "Route, and protects more than 7,000 hectares.",
        ),
    },
    {
        "slug": "winak",
        "name": "Wiñak",
        "code": "WIN",
        "province": "pastaza",
        "founded_year": 2010,
        "description_es": _paragraphs(
            "Organización kichwa creada en 2010 por familias agricultoras para dejar de "
            "depender de intermediarios. Tiene 250 socios, el 66 % mujeres, trabaja con 80 "
            "comunidades de Pastaza y Napo y beneficia indirectamente a unas 4.000 familias.",
            "Sus chakras diversificadas están en las faldas del Sumaco y el Napo-Galeras. En 14 "
            "años ha certificado como orgánicos a 614 agricultores; exporta guayusa a India y "
            "cacao a Japón y lleva su propia trazabilidad y control de calidad.",
        ),
        "description_en": _paragraphs(
            "A Kichwa organisation founded in 2010 by farming families to stop depending on "
            "middlemen. It has 250 members, 66% of them women, works with 80 communities in "
            "Pastaza and Napo and indirectly benefits some 4,000 families.",
            "Its diverse chakras lie on the slopes of Sumaco and Napo-Galeras. In 14 years it has "
            "seen 614 farmers certified organic; it exports guayusa to India and cacao to Japan "
            "and runs its own traceability and quality control.",
        ),
    },
    {
        "slug": "asopromas",
        "name": "Asociación de Producción de Cacao y Derivados Aromas del Sur (ASOPROMÁS)",
        "code": "ASO",
        "province": "zamora_chinchipe",
        "founded_year": 2013,
        "description_es": _paragraphs(
            "Asociación creada en 2013 en Zamora Chinchipe y Morona Santiago: 50 % shuar y 50 % "
            "mestiza, con 49 % de mujeres. De sus 160 productores en certificación orgánica, 84 "
            "ya están certificados.",
            "Tiene su propia planta de chocolate y la marca Kujeñito, premiada por la mejor "
            "pasta de cacao en la Expo Amazonía 2019. En 2022 exportó directamente 500 kg de "
            "cacao seco a Chile y en 2024, junto con Wiñak, llegó a Japón. Sus escuelas de "
            "agroecología forman a las comunidades, y rescata árboles de cacao ancestral "
            "pagando mejor su grano.",
        ),
        "description_en": _paragraphs(
            "An association founded in 2013 in Zamora Chinchipe and Morona Santiago: 50% Shuar "
            "and 50% mestizo, 49% women. Of its 160 producers in organic certification, 84 are "
            "already certified.",
            "It runs its own chocolate plant and the Kujeñito brand, which won best cacao paste "
            "at Expo Amazonía 2019. In 2022 it exported 500 kg of dry cacao directly to Chile, "
            "and in 2024, together with Wiñak, it reached Japan. Its agroecology schools train "
            "the communities, and it rescues ancestral cacao trees, paying more for their beans.",
        ),
    },
    {
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
    },
]

#: Invented demo households, per association slug: (name, community).
FAMILIES = {
    "kallari": [
        ("Familia Demo Grefa", "Comunidad demo Alto Tena"),
        ("Familia Demo Shiguango", "Comunidad demo Río Pano"),
        ("Familia Demo Andi", "Comunidad demo Yachana Urku"),
        ("Familia Demo Tanguila", "Comunidad demo Pununo"),
    ],
    "winak": [
        ("Familia Demo Cerda", "Comunidad demo Sumaco Alto"),
        ("Familia Demo Vargas", "Comunidad demo Galeras"),
        ("Familia Demo Aguinda", "Comunidad demo Río Arajuno"),
        ("Familia Demo Santi", "Comunidad demo Puerto Libre"),
    ],
    "asopromas": [
        ("Familia Demo Alvarado", "Comunidad demo El Pangui Alto"),
        ("Familia Demo Tsamaraint", "Comunidad demo Nuevo Kujancham"),
        ("Familia Demo Chumpi", "Comunidad demo Yantzaza Bajo"),
    ],
    "tsatsayaku": [
        ("Familia Demo Mamallacta", "Comunidad demo Tsatsayaku Alto"),
        ("Familia Demo Yumbo", "Comunidad demo Jatun Yaku"),
        ("Familia Demo Chimbo", "Comunidad demo Misahuallí Bajo"),
    ],
}


# --------------------------------------------------------------------------- experiences
#
# Each stop is (family name or None for the association itself, minutes, texts by locale).

EXPERIENCES = [
    {
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
                    "Del árbol a la tableta: recorra tres chakras kichwa de Napo y termine con "
                    "una cata del chocolate de Kallari."
                ),
                "description": _paragraphs(
                    "La Ruta del Cacao Kallari es turismo vivencial: une el trabajo en la "
                    "chakra, la cultura kichwa y el mercado justo que la asociación ha "
                    "construido desde 1997 con más de 850 familias de Napo.",
                    "Las chakramamas le mostrarán cómo el cacao fino de aroma crece a la sombra "
                    "de cedros y laureles, junto a yuca, plátano, guayusa y frutas como la "
                    "chonta o el arazá. Verá cómo se injerta el cacao ancestral para conservar "
                    "su genética, y participará en la cosecha, la fermentación y el secado.",
                    "El recorrido termina en la cata de chocolate de la asociación. Cada "
                    "entrada se reparte entre la asociación y las familias anfitrionas.",
                ),
                "what_to_bring": (
                    "Botas de caucho (se prestan si las pide con tiempo), ropa ligera de manga "
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
                "description": _paragraphs(
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
                        "Abra una mazorca, pruebe la pulpa fresca y siga el grano por la "
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
    },
    {
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
                    "Comparta la guayusa antes del alba con una familia kichwa y pase la mañana "
                    "en su chakra, de la cosecha a la cocina."
                ),
                "description": _paragraphs(
                    "En las familias kichwa el día empieza de madrugada, alrededor de una olla "
                    "de guayusa: una hoja con cafeína que se bebe como infusión mientras se "
                    "conversa y se organiza la jornada.",
                    "Con la primera luz, una chakramama le guía por su chakra: cacao fino de "
                    "aroma, guayusa, yuca, camote, ají negro y plantas medicinales. Wiñak, con "
                    "250 socios y un 66 % de mujeres, exporta esta guayusa a India y este "
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
                "description": _paragraphs(
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
    },
    {
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
                    "Conozca el cacao ancestral de una finca shuar, la escuela de agroecología "
                    "y la planta donde ASOPROMÁS elabora su chocolate Kujeñito."
                ),
                "description": _paragraphs(
                    "ASOPROMÁS reúne en Zamora Chinchipe y Morona Santiago a productores shuar "
                    "y mestizos. Rescata árboles de cacao ancestral por su aroma y su alto "
                    "porcentaje de almendra blanca, y paga mejor su grano para que se "
                    "conserven.",
                    "Empezará en una finca con árboles ancestrales, seguirá en la escuela de "
                    "agroecología, donde se aprenden bioinsumos y poda, y terminará en la "
                    "planta de chocolate Kujeñito, cuya pasta de cacao fue premiada en la "
                    "Expo Amazonía 2019.",
                    "Verá cada paso, del tostado al templado, y se llevará una tableta hecha "
                    "por usted.",
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
                "description": _paragraphs(
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
                    "Closed shoes (required inside the plant), comfortable clothes, a cap and "
                    "water."
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
    },
    {
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
                    "Únase a una minga en la chakra y aprenda a hacer joyería de semillas y "
                    "cerámica con artesanas kichwa."
                ),
                "description": _paragraphs(
                    "La minga, el trabajo colectivo, es uno de los principios con los que se "
                    "organiza Kallari. Durante una hora trabajará junto a la comunidad en una "
                    "chakra: limpiar, sembrar o cosechar, según la temporada.",
                    "Después, en el taller, las artesanas enseñan a elegir y perforar semillas "
                    "de la chakra para collares y pulseras, y a modelar piezas sencillas de "
                    "cerámica. Cada participante se lleva lo que ha hecho.",
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
                "description": _paragraphs(
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
                        "Las artesanas de la Familia Demo Andi enseñan joyería de semillas y "
                        "cerámica.",
                    ),
                    "en": (
                        "Seed and ceramics workshop",
                        "The Familia Demo Andi artisans teach seed jewellery and ceramics.",
                    ),
                },
            ),
        ],
    },
    {
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
                "description": _paragraphs(
                    "La chakra es un espacio de aprendizaje y de identidad, no solo de "
                    "producción. En esta jornada las chakramamas enseñan cómo se planifica: "
                    "qué se siembra para comer pronto, qué para dentro de unos años y qué "
                    "árboles darán sombra a los nietos.",
                    "Sembrará árboles nativos como cedro, laurel o canelo en una parcela en "
                    "restauración y conocerá plantas medicinales como la ortiga o el ají "
                    "negro.",
                    "La jornada termina con un almuerzo de la chakra: yuca, plátano, maíz y "
                    "frutas de temporada.",
                ),
                "what_to_bring": (
                    "Botas de caucho, sombrero, protector solar, repelente, impermeable y "
                    "cuaderno si quiere tomar notas."
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
                "description": _paragraphs(
                    "The chakra is a place of learning and identity, not only of production. "
                    "On this day the chakramamas teach how it is planned: what is planted to "
                    "eat soon, what for a few years' time, and which trees will shade the "
                    "grandchildren.",
                    "You will plant native trees such as cedar, laurel or canelo on a plot "
                    "being restored, and get to know medicinal plants such as nettle and black "
                    "chili.",
                    "The day ends with a chakra lunch: cassava, plantain, maize and fruit in "
                    "season.",
                ),
                "what_to_bring": (
                    "Rubber boots, a hat, sunscreen, insect repellent, a rain jacket and a "
                    "notebook if you like to take notes."
                ),
                "meeting_point": (
                    "Demo: sports field of Comunidad demo Tsatsayaku Alto, 07:15 (demo meeting "
                    "point)."
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
                        "Cooking together at the Familia Demo Chimbo home with the morning's "
                        "harvest.",
                    ),
                },
            ),
        ],
    },
    {
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
                "description": _paragraphs(
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
                "description": _paragraphs(
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
    },
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


def seed_demo(session: Session, today: datetime.date, zone: zoneinfo.ZoneInfo) -> bool:
    """Create the demo associations, families, experiences, schedules, departures and a few
    bookings. Returns False (and does nothing) if the demo data is already there (check for
    the association with slug 'kallari'). Only flush(), never commit()."""
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
            contact_phone="+593 99 000 0000",
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


def _demo_people(session: Session, associations, cacao_route: Experience, now) -> None:
    """Demo accounts, and the Kallari demo guide leading the next Cacao Route departures."""
    from .services.accounts import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
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
