"""Walking ``app.url_map``: a URL for every route, with placeholder arguments.

The tenancy matrix's world supplies real objects for the argument names it knows; any other
argument (a route added since) gets a dummy of the right type, so new routes are walked too
and may answer 404.
"""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import AnyConverter, IntegerConverter

from tourism.extensions import db


def placeholder_url(rule, ids: dict, tokens: dict) -> str:
    """A URL for ``rule`` (call inside a request context)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if name == "token":
            prefix = rule.endpoint.split(".")[0]
            values[name] = tokens.get(rule.endpoint) or tokens.get(prefix, "placeholder")
        elif name in ids:
            values[name] = ids[name]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "placeholder"
    with db.session.no_autoflush:
        return url_for(rule.endpoint, **values)


def routes(app, method: str):
    """The rules of ``app`` that accept ``method``, test-only routes left out."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if method in rule.methods and not rule.endpoint.startswith("test_")
    ]
