"""Fixed vocabularies with their translatable labels: provinces, themes, ticket types."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Ecuadorian provinces are proper names and are not translated.
PROVINCES: dict[str, str] = {
    "napo": "Napo",
    "pastaza": "Pastaza",
    "zamora_chinchipe": "Zamora Chinchipe",
    "morona_santiago": "Morona Santiago",
    "sucumbios": "Sucumbíos",
    "orellana": "Orellana",
}

THEMES = {
    "cacao": _l("Cacao and chocolate"),
    "guayusa": _l("Guayusa"),
    "chakra": _l("Chakra agroforestry"),
    "crafts": _l("Crafts"),
    "food": _l("Amazonian food"),
    "nature": _l("Forest and rivers"),
    "culture": _l("Culture and traditions"),
}

PRICE_CATEGORIES = {
    "adult": _l("Adult"),
    "child": _l("Child (5–12)"),
    "resident": _l("National resident"),
    "student": _l("Student"),
    "senior": _l("Senior (65+)"),
}

LANGUAGES = {
    "es": _l("Spanish"),
    "en": _l("English"),
    "qu": _l("Kichwa"),
    "jiv": _l("Shuar"),
}

SORTS = {
    "soonest": _l("Next departure"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "name": _l("Name"),
}


def label(vocabulary: dict, code: str) -> str:
    """The display label of ``code``, or the code itself when it is unknown."""
    return str(vocabulary.get(code, code))
