"""``flask translate``: keep the message catalogs up to date and start new languages.

The strings are English in the code and templates; each language has its catalog under
``tourism/translations/<code>/LC_MESSAGES/messages.po``. The commands run Babel's own
``pybabel`` with the project's options, so they do exactly what ``make extract-messages``,
``make update-messages`` and ``make translations`` do (those targets call them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app
from flask.cli import AppGroup

from ..i18n import DEFAULT_MIN_COMPLETENESS, catalog_completeness
from ..translation_tools import CATALOGS, fill_source_language

ROOT = Path(__file__).resolve().parents[2]
#: The language the strings are written in: its catalog mirrors them (see translation_tools).
SOURCE_LANGUAGE = "en"
#: Marks the extraction looks for besides Babel's defaults (_, gettext, ngettext…).
KEYWORDS = ("_l", "lazy_gettext", "_ln:1,2", "lazy_ngettext:1,2")

translate = AppGroup("translate", help="Extract, update, compile and start message catalogs.")

directory_option = click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=CATALOGS,
    show_default=True,
    help="The catalogs folder (messages.pot and <code>/LC_MESSAGES/messages.po).",
)


def _pybabel(*args: str) -> str:
    """Run ``pybabel`` from the project folder (where babel.cfg is); its output, or fail."""
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "babel.messages.frontend", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise click.ClickException(output or f"pybabel {' '.join(args)} failed")
    return output


def _template(directory: Path) -> Path:
    return directory / "messages.pot"


def _languages(directory: Path) -> list[str]:
    return sorted(path.parent.parent.name for path in directory.glob("*/LC_MESSAGES/messages.po"))


def extract_messages(directory: Path) -> Path:
    """Collect every translatable string of the code and templates into the template."""
    if not (ROOT / "babel.cfg").is_file():
        raise click.ClickException(f"No babel.cfg in {ROOT}: run this from a source checkout.")
    directory.mkdir(parents=True, exist_ok=True)
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    _pybabel(
        "-q",
        "extract",
        "-F",
        "babel.cfg",
        *keywords,
        "-o",
        str(_template(directory)),
        "--no-location",
        "--sort-output",
        ".",
    )
    return _template(directory)


@translate.command("extract")
@directory_option
def extract_command(directory: Path) -> None:
    """Collect the strings of the code and templates into messages.pot."""
    template = extract_messages(directory)
    click.echo(f"Strings collected in {template}.")


@translate.command("update")
@directory_option
@click.option(
    "--extract/--no-extract",
    default=True,
    show_default=True,
    help="Collect the strings first (else use the messages.pot that is there).",
)
def update_command(directory: Path, extract: bool) -> None:
    """Extract the strings, merge them into every catalog, give English its own text.

    New strings arrive untranslated (no fuzzy guesses from similar strings: a wrong guess
    would be shown to visitors); strings gone from the code are kept as obsolete entries.
    """
    if extract:
        extract_messages(directory)
    if not _template(directory).is_file():
        raise click.ClickException(f"No {_template(directory)}: run `flask translate extract`.")
    output = _pybabel(
        "update",
        "-i",
        str(_template(directory)),
        "-d",
        str(directory),
        "--no-fuzzy-matching",
    )
    if output:
        click.echo(output)
    if SOURCE_LANGUAGE in _languages(directory):
        filled = fill_source_language(SOURCE_LANGUAGE, directory)
        click.echo(f"{filled} English entries filled.")


@translate.command("compile")
@directory_option
def compile_command(directory: Path) -> None:
    """Compile every catalog (.po → .mo) and say which languages the site will offer."""
    output = _pybabel("compile", "--statistics", "-d", str(directory))
    if output:
        click.echo(output)
    minimum = current_app.config.get("LANGUAGE_MIN_COMPLETENESS", DEFAULT_MIN_COMPLETENESS)
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for code in _languages(directory):
        share = catalog_completeness([str(directory)], code, "messages")
        if share is None:
            state = "not compiled (a catalog marked fuzzy as a whole is skipped)"
        elif code == default or share >= minimum:
            state = f"{share:.0%} translated: offered"
        else:
            state = f"{share:.0%} translated: offered from {minimum:.0%}"
        click.echo(f"{code}: {state}")
    click.echo("Restart the site to pick up the changes.")


@translate.command("init")
@click.argument("code")
@directory_option
def init_command(code: str, directory: Path) -> None:
    """Start the catalog of a new language CODE (e.g. qu for Kichwa) from messages.pot."""
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError) as error:
        raise click.ClickException(f"{code!r} is not a language code Babel knows.") from error
    catalog = directory / code / "LC_MESSAGES" / "messages.po"
    if catalog.exists():
        raise click.ClickException(f"{catalog} exists already: use `flask translate update`.")
    if not _template(directory).is_file():
        raise click.ClickException(f"No {_template(directory)}: run `flask translate extract`.")
    _pybabel("-q", "init", "-i", str(_template(directory)), "-d", str(directory), "-l", code)
    # pybabel marks a new catalog fuzzy as a whole, and compile skips such catalogs: the
    # translators' work would never reach the site. The completeness rule is the guard.
    with catalog.open("rb") as handle:
        messages = read_po(handle)
    messages.fuzzy = False
    with catalog.open("wb") as handle:
        write_po(handle, messages, width=76)
    click.echo(
        f"Created {catalog}. Translate it, then run `flask translate compile`; the site offers "
        "the language once most of it is translated."
    )


def register(app: Flask) -> None:
    app.cli.add_command(translate)
