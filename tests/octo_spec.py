"""The OCTO specification (``tests/data/octo-openapi-1.0.yml``, see the README beside it) as a
validator of our answers: every answer of the OCTO API, errors included, must match the
schema the document gives for its path, method and status.

The document describes 200 and 400 answers only (and the product error object without
listing it under its path). Answers it does not describe (401, 403, an unknown path, a wrong
method, a server fault) are checked against its plain error object: ``error`` and
``errorMessage`` and nothing else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote

import jsonschema_rs
import yaml

SPEC_PATH = Path(__file__).with_name("data") / "octo-openapi-1.0.yml"
#: The document's plain error object, for answers it does not list.
GENERIC_ERROR = "#/components/responses/GetSupplierError/content/application~1json/schema"
#: Error objects the document defines for a path without listing them under it.
PATH_ERRORS = {
    "/products/{id}": "#/components/responses/GetProductError/content/application~1json/schema"
}


@cache
def document() -> dict:
    # libyaml's loader when PyYAML has it: the pure-Python one takes seconds on this document.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC_PATH.read_text(), Loader=loader)  # noqa: S506 (a safe loader)


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


@cache
def _validator(pointer: str):
    root = dict(document())
    root["$ref"] = pointer
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def schema_pointer(path: str, method: str, status: int) -> str:
    operation = document()["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    if response is None:
        return PATH_ERRORS.get(path, GENERIC_ERROR) if status == 400 else GENERIC_ERROR
    if "$ref" in response:
        return response["$ref"] + "/content/application~1json/schema"
    return _pointer(
        "paths",
        path,
        method.lower(),
        "responses",
        str(status),
        "content",
        "application/json",
        "schema",
    )


def check(path: str, method: str, response) -> dict | list:
    """Validate ``response`` (a Flask test response) against the document; return its JSON."""
    assert response.mimetype == "application/json", (
        path,
        response.status_code,
        response.data[:200],
    )
    return check_data(path, method, response.status_code, response.get_json())


def check_data(path: str, method: str, status: int, data):
    """Validate an answer's JSON for ``status`` against the document; return it."""
    pointer = schema_pointer(path, method, status)
    errors = [e.message for e in _validator(pointer).iter_errors(data)]
    assert not errors, (path, method, status, errors[:5], data)
    if status >= 400:
        assert set(data) >= {"error", "errorMessage"}, data
    return data


def is_valid(path: str, method: str, status: int, data) -> bool:
    return _validator(schema_pointer(path, method, status)).is_valid(data)
