"""docs/whatsapp-templates.json lists every WhatsApp template the code sends, in each
language, with the same words and number of variables; a template added, reworded or given
another variable without the catalogue makes these fail."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tourism.i18n import available_locales
from tourism.services.messages import dispatch, template_catalogue
from tourism.services.messages.phone_texts import TEMPLATES, Text

PACKAGE = Path(template_catalogue.__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


def test_every_template_and_language_the_code_uses_is_listed_with_its_variables(app):
    listed = {(e["name"], e["language"]): e for e in template_catalogue.load()}
    for kind, name in TEMPLATES.items():
        for language in available_locales():
            entry = listed.get((name, language))
            assert entry is not None, f"{name}/{language} is missing from the catalogue"
            text = template_catalogue.sample(kind, language)
            numbers = [int(n) for n in PLACEHOLDER.findall(entry["body"])]
            assert sorted(numbers) == list(range(1, len(text.variables) + 1)), name
            assert entry["variables"] == len(text.variables) == len(entry["example"])
            # Filling the listed body with the variables gives the message the code writes.
            values = text.variables
            filled = PLACEHOLDER.sub(lambda m, v=values: v[int(m.group(1)) - 1], entry["body"])
            assert filled == text.body
    assert set(listed) == {(n, lang) for n in TEMPLATES.values() for lang in available_locales()}


def test_the_checked_in_catalogue_is_what_the_command_writes(app):
    result = app.test_cli_runner().invoke(args=["messages", "templates", "--check"])
    assert result.exit_code == 0, result.output
    assert template_catalogue.dumps(template_catalogue.build()) == (
        template_catalogue.CATALOGUE_PATH.read_text(encoding="utf-8")
    )


def test_meta_would_take_each_body(app):
    for entry in template_catalogue.load():
        body = entry["body"]
        assert "\n" not in body and len(body) <= 1024
        # Meta refuses a body that starts or ends with a variable, or two side by side.
        assert not PLACEHOLDER.match(body) and not body.endswith("}}")
        assert not re.search(r"\}\}\s*\{\{", body)


def _template_names_in_code() -> set[str]:
    """Every template a ``Text(...)`` in the package names: through ``TEMPLATES[...]`` or as
    a literal (which would bypass the list)."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Text"):
                continue
            if len(node.args) < 2:
                continue
            template = node.args[1]
            if isinstance(template, ast.Constant) and template.value:
                names.add(template.value)
            elif isinstance(template, ast.Subscript) and isinstance(template.slice, ast.Constant):
                names.add(TEMPLATES.get(template.slice.value, f"?{template.slice.value}"))
    return names


def test_no_code_sends_a_template_outside_the_list(app):
    names = _template_names_in_code()
    assert names, "the scan found no template at all"
    assert names <= set(TEMPLATES.values())
    listed = {e["name"] for e in template_catalogue.load()}
    assert names <= listed


def test_queueing_an_unlisted_template_is_refused(app, session):
    with pytest.raises(ValueError, match="not in phone_texts.TEMPLATES"):
        dispatch.queue_message(
            session,
            key="x:whatsapp",
            kind="x",
            channel="whatsapp",
            recipient="+593991234567",
            language="es",
            text=Text("Hola", "unlisted_template", []),
        )
