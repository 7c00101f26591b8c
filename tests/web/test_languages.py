"""Which languages the site offers: those whose compiled catalog is (nearly) complete, found
in the translations folder; Spanish always. A signed-in visitor's choice is kept on the
account."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from tests.factories import PASSWORD, Factories
from tests.routes.test_manage_access import login
from tourism.extensions import babel, db
from tourism.i18n import LOCALE_COOKIE, catalog_completeness, discover_locales, locales_for

#: Ten strings the base page shows; the catalogs below translate some of them.
MESSAGES = [
    "Skip to main content",
    "Language",
    "Account",
    "Sign in",
    "Community agritourism in the Amazon",
    "All experiences",
    "Search",
    "Province",
    "Theme",
    "Date",
]


@pytest.fixture(autouse=True)
def fresh_translations():
    """Flask-Babel keeps the catalogs it loaded for the whole process, by language alone: an
    app reading another translations folder must neither see nor leave them behind."""
    forget_loaded_catalogs()
    yield
    forget_loaded_catalogs()


def forget_loaded_catalogs() -> None:
    domain = vars(babel).get("domain_instance")  # made, and kept, at the first request
    if domain is not None:
        domain.cache.clear()


def write_catalog(folder: Path, code: str, translations: dict[str, str], compile_it=True):
    catalog = Catalog(locale=code, fuzzy=False)
    for message in MESSAGES:
        catalog.add(message, translations.get(message, ""))
    target = folder / code / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    if compile_it:
        with (target / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)


@pytest.fixture
def catalogs(tmp_path) -> Path:
    """A template of ten messages; French complete, Kichwa half done, German not compiled."""
    folder = tmp_path / "translations"
    folder.mkdir()
    template = Catalog(fuzzy=False)
    for message in MESSAGES:
        template.add(message)
    with (folder / "messages.pot").open("wb") as handle:
        write_po(handle, template)
    write_catalog(folder, "es", {m: f"es:{m}" for m in MESSAGES})
    write_catalog(
        folder,
        "fr",
        {m: f"fr:{m}" for m in MESSAGES} | {"Skip to main content": "Aller au contenu"},
    )
    write_catalog(folder, "qu", {m: f"qu:{m}" for m in MESSAGES[:5]})
    write_catalog(folder, "de", {m: f"de:{m}" for m in MESSAGES}, compile_it=False)
    return folder


@pytest.fixture
def app(make_app, catalogs):
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(catalogs))
    with app.app_context():
        yield app


def picker_codes(html: str) -> set[str]:
    return {
        code
        for code in ("es", "en", "fr", "qu", "de")
        if f'href="/language/{code}?' in html or f'href="/language/{code}"' in html
    }


def test_completeness_counts_the_compiled_and_translated_share_of_the_template(catalogs):
    assert catalog_completeness([str(catalogs)], "fr", "messages") == 1.0
    assert catalog_completeness([str(catalogs)], "qu", "messages") == 0.5
    assert catalog_completeness([str(catalogs)], "de", "messages") is None  # not compiled
    assert catalog_completeness([str(catalogs)], "it", "messages") is None


def test_a_catalog_behind_the_template_counts_as_incomplete(catalogs):
    with (catalogs / "messages.pot").open("ab") as handle:
        handle.write(b'\nmsgid "A string added since fr was compiled"\nmsgstr ""\n')
    assert catalog_completeness([str(catalogs)], "fr", "messages") == pytest.approx(10 / 11)


def test_fuzzy_entries_do_not_count(catalogs):
    po = catalogs / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    assert '\nmsgid "Theme"' in text
    po.write_text(text.replace('\nmsgid "Theme"', '\n#, fuzzy\nmsgid "Theme"'))
    assert catalog_completeness([str(catalogs)], "fr", "messages") == 0.9


def test_only_complete_enough_languages_are_offered_spanish_always(catalogs):
    assert discover_locales([str(catalogs)], "es", 0.9) == ["es", "fr"]
    assert discover_locales([str(catalogs)], "es", 0.5) == ["es", "fr", "qu"]
    shutil.copytree(catalogs / "fr", catalogs / "fr-old")  # a stray copy, no language
    assert discover_locales([str(catalogs)], "es", 0.9) == ["es", "fr"]
    empty = catalogs.parent / "empty"
    empty.mkdir()
    assert discover_locales([str(empty)], "es", 0.9) == ["es"]


def test_the_app_reads_its_translations_folder(app):
    assert locales_for(app) == ["es", "fr"]


def test_the_threshold_is_a_setting(make_app, catalogs):
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(catalogs), LANGUAGE_MIN_COMPLETENESS=0.5)
    assert locales_for(app) == ["es", "fr", "qu"]


def test_the_project_catalogs_offer_spanish_and_english(make_app):
    assert locales_for(make_app()) == ["es", "en"]


def test_the_picker_lists_the_offered_languages(client):
    html = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert picker_codes(html) == {"es", "fr"}
    assert ">Français</a>" in html and ">Español</a>" in html


def test_accept_language_picks_only_offered_languages(client):
    french = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in french and "Aller au contenu" in french
    kichwa = client.get("/", headers={"Accept-Language": "qu, fr;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr">' in kichwa
    only_kichwa = client.get("/", headers={"Accept-Language": "qu"}).get_data(as_text=True)
    assert '<html lang="es">' in only_kichwa


def test_the_switch_accepts_only_offered_languages(client):
    assert client.get("/language/qu").status_code == 404
    assert client.get("/language/de").status_code == 404
    response = client.get("/language/fr", query_string={"next": "/"})
    assert response.status_code == 303
    assert f"{LOCALE_COOKIE}=fr" in response.headers["Set-Cookie"]
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in html


def test_a_cookie_for_a_language_no_longer_offered_is_ignored(client):
    client.set_cookie(LOCALE_COOKIE, "qu", domain="localhost")
    html = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in html


# --- The account remembers the choice --------------------------------------------------


def test_choosing_a_language_signed_in_keeps_it_on_the_account(make_app):
    app = make_app()
    with app.app_context():
        make = Factories(db.session)
        user = make.user(locale="es")
        db.session.commit()
        client = app.test_client()
        login(client, user)
        assert client.get("/language/en", query_string={"next": "/"}).status_code == 303
        db.session.refresh(user)
        assert user.locale == "en"

        # Another browser, no cookie: signing in brings the language back.
        other = app.test_client()
        response = other.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303
        assert f"{LOCALE_COOKIE}=en" in response.headers["Set-Cookie"]
        html = other.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
        assert '<html lang="en">' in html


def test_choosing_a_language_anonymously_changes_no_account(make_app):
    app = make_app()
    with app.app_context():
        user = Factories(db.session).user(locale="es")
        db.session.commit()
        assert app.test_client().get("/language/en").status_code == 303
        db.session.refresh(user)
        assert user.locale == "es"
