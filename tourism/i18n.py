"""The languages the site speaks, and choosing the visitor's: explicit choice (cookie) →
Accept-Language → Spanish.

A language is offered when its compiled catalog is there and translates most of the
messages (``LANGUAGE_MIN_COMPLETENESS``, 90% unless set): a community can add one (say
Kichwa, ``flask translate init qu``) without a code change, and a half-done catalog never
greets a visitor with a page of mixed languages. Spanish, the default, is always offered.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_babel, get_locale

LOCALE_COOKIE = "lang"
DEFAULT_MIN_COMPLETENESS = 0.9
#: How each language names itself in the picker; others get Babel's name for them.
NATIVE_NAMES = {"es": "Español", "en": "English", "qu": "Kichwa"}
_CACHE_KEY = "chakra_locales"


def current_locale() -> str:
    """The language of the page being made (Spanish outside a request)."""
    return str(get_locale() or "es")


def _message_key(message) -> tuple[str, str | None]:
    singular = message.id if isinstance(message.id, str) else message.id[0]
    return singular, message.context


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(strings)


#: What each catalog file holds, by (path, modification time, size): each app of a process
#: (the test suite builds one per test) reads a catalog once, and a changed file is read again.
_keys_read: dict[tuple, tuple[frozenset, frozenset]] = {}


def _keys(path: Path, reader) -> tuple[frozenset, frozenset] | None:
    """The message keys of the catalog at ``path``: all of them, and those translated and not
    fuzzy. ``None`` when there is no such file."""
    try:
        found = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    key = (str(path), reader.__name__, found.st_mtime_ns, found.st_size)
    keys = _keys_read.get(key)
    if keys is None:
        with path.open("rb") as handle:
            messages = [m for m in reader(handle) if m.id]
        keys = _keys_read[key] = (
            frozenset(map(_message_key, messages)),
            frozenset(_message_key(m) for m in messages if _translated(m) and not m.fuzzy),
        )
    return keys


def catalog_completeness(directories: Iterable[str], locale: str, domain: str) -> float | None:
    """The share of the messages to translate that ``locale``'s compiled catalog translates.

    The messages to translate are those of the template (``<domain>.pot``), else of the
    language's own ``.po``; a catalog compiled long ago and never updated counts as behind.
    A message counts when the compiled catalog has it and, if the ``.po`` is there, it is
    translated and not fuzzy there. ``None`` when the language has no compiled catalog.
    """
    wanted: set[tuple[str, str | None]] = set()
    own: set[tuple[str, str | None]] = set()
    done: set[tuple[str, str | None]] = set()
    compiled = False
    for directory in map(Path, directories):
        template = _keys(directory / f"{domain}.pot", read_po)
        if template is not None:
            wanted |= template[0]
        messages_dir = directory / locale / "LC_MESSAGES"
        binary = _keys(messages_dir / f"{domain}.mo", read_mo)
        if binary is None:
            continue
        compiled = True
        served = set(binary[1])
        source = _keys(messages_dir / f"{domain}.po", read_po)
        if source is not None:
            # The .mo alone cannot tell: Babel compiles an untranslated plural as its English.
            own |= source[0]
            served &= source[1]
        done |= served
    if not compiled:
        return None
    wanted = wanted or own or done
    if not wanted:
        return 1.0
    return len(wanted & done) / len(wanted)


def _known_locale(code: str) -> bool:
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return True


def discover_locales(
    directories: Iterable[str], default: str, minimum: float, domain: str = "messages"
) -> list[str]:
    """The default language, then every language with a catalog complete enough, sorted."""
    directories = list(directories)
    found = set()
    for directory in map(Path, directories):
        if directory.is_dir():
            found |= {p.name for p in directory.iterdir() if (p / "LC_MESSAGES").is_dir()}
    offered = []
    for code in sorted(found - {default}):
        if not _known_locale(code):  # a stray folder must not break every request
            continue
        share = catalog_completeness(directories, code, domain)
        if share is not None and share >= minimum:
            offered.append(code)
    return [default, *offered]


def locales_for(app: Flask) -> list[str]:
    """The languages ``app`` offers, read from its catalogs once and kept."""
    cached = app.extensions.get(_CACHE_KEY)
    if cached is None:
        babel = get_babel(app)
        cached = discover_locales(
            babel.translation_directories,
            app.config["BABEL_DEFAULT_LOCALE"],
            app.config.get("LANGUAGE_MIN_COMPLETENESS", DEFAULT_MIN_COMPLETENESS),
            babel.default_domain,
        )
        app.extensions[_CACHE_KEY] = cached
    return list(cached)


def available_locales() -> list[str]:
    """The languages the current app offers (picker, cookie, Accept-Language, emails)."""
    return locales_for(current_app)


def language_name(code: str) -> str:
    """The language's name in itself, for the picker."""
    if code in NATIVE_NAMES:
        return NATIVE_NAMES[code]
    try:
        name = Locale.parse(code).get_display_name(code)
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def select_locale() -> str:
    if not has_request_context():  # CLI and jobs use flask_babel.force_locale when they need one
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    choices = available_locales()
    explicit = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if explicit in choices:
        return explicit
    return (
        preferred_language(request.accept_languages, choices)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def preferred_language(accepted, choices: list[str]) -> str | None:
    """The first of the browser's languages, by its weights, that we offer, its region
    aside: "es-EC,en;q=0.5" is Spanish. (Werkzeug's ``best_match`` takes an exact match of
    a lower weight, English here, before a regional variant of the first choice.)"""
    for value, quality in accepted:  # highest weight first
        if quality <= 0:
            continue
        tag = value.lower().replace("_", "-")
        for candidate in (tag, tag.split("-", 1)[0]):
            if candidate in choices:
                return candidate
    return None
