"""Reuse Werkzeug's compiled URL builders across the many apps a test session builds.

Every test builds its own app (``create_app``), and Werkzeug compiles two Python functions per
URL rule from an AST each time: about 1,600 rules' worth, 90% of ``create_app``'s time and
roughly 0.1 s per test. The compiled builder depends only on the rule's text, its converters
and defaults, so a builder made for one app is exactly the one another app would make. This
cache is for the test session only; production builds one app per process.
"""

from __future__ import annotations

from werkzeug.routing.rules import Rule

_original = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple:
    # The builder calls the rule's own converters at build time (through ``self``); only a
    # default given for a variable of the rule is converted at compile time, so those
    # converters' types are part of the key.
    defaults = rule.defaults or {}
    converters = tuple(
        (name, type(rule._converters[name]).__qualname__)
        for name in sorted(defaults)
        if name in rule._converters
    )
    defaults_key = tuple(sorted((str(k), repr(v)) for k, v in defaults.items()))
    return (tuple(rule._trace), converters, defaults_key, rule.rule, append_unknown)


def _cached_compile_builder(self: Rule, append_unknown: bool = True):
    key = _key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    Rule._compile_builder = _cached_compile_builder
