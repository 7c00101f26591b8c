"""Catalog upkeep: the English catalog mirrors the source strings, which are English.

Run after ``pybabel update`` (``flask translate update`` and ``make update-messages`` do):
every English entry gets its own text, so the completeness test can tell a forgotten Spanish
string from English on purpose.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGS = Path(__file__).parent / "translations"


def fill_source_language(language: str = "en", catalogs: Path = CATALOGS) -> int:
    """Give every entry of ``language``'s catalog its own source text; the number changed."""
    path = Path(catalogs) / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    changed = 0
    for message in catalog:
        if not message.id:
            continue
        wanted = message.id if isinstance(message.id, str) else tuple(message.id)
        if message.string != wanted or message.fuzzy:
            message.string = wanted
            message.flags.discard("fuzzy")
            changed += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=76)
    return changed


if __name__ == "__main__":
    print(f"{fill_source_language(*sys.argv[1:2])} English entries filled")
