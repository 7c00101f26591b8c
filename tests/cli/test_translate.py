"""``flask translate``: extract, update, compile and init, run on copies of the catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tourism.translation_tools import CATALOGS


def read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.fixture
def folder(tmp_path) -> Path:
    """The project's template and Spanish and English catalogs, copied."""
    target = tmp_path / "translations"
    target.mkdir()
    shutil.copy(CATALOGS / "messages.pot", target / "messages.pot")
    for code in ("es", "en"):
        (target / code / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(CATALOGS / code / "LC_MESSAGES" / "messages.po", target / code / "LC_MESSAGES")
    return target


def invoke(runner, *args):
    return runner.invoke(args=["translate", *args])


def test_extract_collects_the_strings_of_code_and_templates(runner, tmp_path):
    result = invoke(runner, "extract", "-d", str(tmp_path))
    assert result.exit_code == 0, result.output
    template = read(tmp_path / "messages.pot")
    found = ids(template)
    assert "Skip to main content" in found  # a template
    assert "Please sign in to open this page." in found  # _l() in Python
    assert all(not message.locations for message in template)  # --no-location
    singulars = [m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id]
    assert singulars == sorted(singulars)  # --sort-output


def test_update_merges_without_fuzzy_guesses_and_mirrors_english(runner, folder):
    # Spanish knows a near twin of a real string: fuzzy matching would offer its translation.
    es_po = folder / "es" / "LC_MESSAGES" / "messages.po"
    text = es_po.read_text()
    assert '\nmsgid "Skip to main content"\n' in text
    es_po.write_text(
        text.replace('\nmsgid "Skip to main content"\n', '\nmsgid "Skip to the main contents"\n')
    )

    result = invoke(runner, "update", "-d", str(folder))
    assert result.exit_code == 0, result.output

    spanish = read(es_po)
    skip = spanish.get("Skip to main content")
    assert skip is not None and skip.string == "" and not skip.fuzzy
    assert not any(message.fuzzy for message in spanish if message.id)
    english = read(folder / "en" / "LC_MESSAGES" / "messages.po")
    assert ids(english) >= ids(read(folder / "messages.pot"))
    assert all(message.string == message.id for message in english if message.id)
    assert "English entries filled" in result.output


def test_update_can_use_the_template_as_it_is(runner, folder):
    pot = folder / "messages.pot"
    pot.write_text(pot.read_text() + '\nmsgid "A string only this template has"\nmsgstr ""\n')
    result = invoke(runner, "update", "--no-extract", "-d", str(folder))
    assert result.exit_code == 0, result.output
    english = read(folder / "en" / "LC_MESSAGES" / "messages.po")
    assert english.get("A string only this template has").string == (
        "A string only this template has"
    )


def test_compile_writes_the_mo_files_and_says_what_is_offered(runner, folder):
    result = invoke(runner, "compile", "-d", str(folder))
    assert result.exit_code == 0, result.output
    for code in ("es", "en"):
        with (folder / code / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
            compiled = read_mo(handle)
        assert compiled.get("Skip to main content") is not None
    assert "en: 100% translated: offered" in result.output


def test_init_starts_a_new_language_that_compiles(runner, folder):
    result = invoke(runner, "init", "qu", "-d", str(folder))
    assert result.exit_code == 0, result.output
    po = folder / "qu" / "LC_MESSAGES" / "messages.po"
    kichwa = read(po)
    assert str(kichwa.locale) == "qu"
    assert not kichwa.fuzzy  # else compile would skip it
    assert ids(kichwa) == ids(read(folder / "messages.pot"))

    text = po.read_text()
    po.write_text(
        text.replace(
            'msgid "Skip to main content"\nmsgstr ""',
            'msgid "Skip to main content"\nmsgstr "Ukuman rina"',
        )
    )
    compiled = invoke(runner, "compile", "-d", str(folder))
    assert compiled.exit_code == 0, compiled.output
    with (folder / "qu" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        assert read_mo(handle).get("Skip to main content").string == "Ukuman rina"
    assert "qu: 0% translated: offered from 90%" in compiled.output


def test_init_refuses_an_existing_catalog_or_an_unknown_code(runner, folder):
    es_po = folder / "es" / "LC_MESSAGES" / "messages.po"
    before = es_po.read_bytes()
    again = invoke(runner, "init", "es", "-d", str(folder))
    assert again.exit_code != 0 and "exists already" in again.output
    assert es_po.read_bytes() == before
    unknown = invoke(runner, "init", "zz-not-a-language", "-d", str(folder))
    assert unknown.exit_code != 0
    assert not (folder / "zz-not-a-language").exists()


def test_init_needs_a_template(runner, tmp_path):
    result = invoke(runner, "init", "qu", "-d", str(tmp_path))
    assert result.exit_code != 0 and "flask translate extract" in result.output


# --- Plural forms: the catalogs' own header decides, whatever Babel's CLDR data says --------

#: Which form each count takes in Spanish and English.
PLURAL_CASES = {0: "plural", 1: "singular", 2: "plural", 21: "plural", 1_000_000: "plural"}
PLURAL_IDS = ("%(num)s seat left", "%(num)s seats left")


def plural_forms_of(folder: Path, code: str) -> tuple[int, list]:
    """The catalog's declared number of forms and the msgstr forms of every plural entry."""
    catalog = read(folder / code / "LC_MESSAGES" / "messages.po")
    return catalog.num_plurals, [m for m in catalog if m.id and not isinstance(m.id, str)]


def compiled_plural(folder: Path, code: str, count: int) -> str:
    from babel.support import Translations

    with (folder / code / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        translations = Translations(handle)
    return translations.ngettext(*PLURAL_IDS, count) % {"num": count}


@pytest.mark.parametrize("code", ["es", "en"])
def test_catalogs_keep_two_plural_forms_through_update(runner, folder, code):
    # Babel 2.19's CLDR data gives Spanish a third form ("many", for millions); the
    # catalogs declare the two forms the interface is written in, and an update keeps them.
    for step in (("update", "--no-extract"), ("compile",)):
        result = invoke(runner, *step, "-d", str(folder))
        assert result.exit_code == 0, result.output
    forms, plurals = plural_forms_of(folder, code)
    assert forms == 2
    assert plurals, "the catalog has plural entries to check"
    for message in plurals:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == forms and all(strings), message.id
    expected = {
        "es": {"singular": "Queda %(num)s cupo", "plural": "Quedan %(num)s cupos"},
        "en": {"singular": "%(num)s seat left", "plural": "%(num)s seats left"},
    }[code]
    for count, form in PLURAL_CASES.items():
        assert compiled_plural(folder, code, count) == expected[form] % {"num": count}
