"""Helpers for the fuzzing tests: adversarial values, form bodies built from the real forms'
field names, and what a response must never look like.

The field names come from the pages themselves: every page of the world is fetched once and
every ``<form method=post>`` on it is read (its action, its fields, the values its selects,
radios and hidden inputs offer). A fuzzed body mixes those real values with hostile ones, so
some fields pass validation and the hostile ones reach the code behind them.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import HTTPException

#: Numbers a parser may choke on: out of every range, not finite, or not ASCII digits.
NUMBERS = [
    "-1",
    "0",
    "-0",
    "2147483648",
    str(2**63),
    str(-(2**63) - 1),
    "9" * 400,
    "1e309",
    "-1e309",
    "1e-400",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "0x1F",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "２５",  # full-width digits
    "25.555",
    "25,50",
    "$-5",
    "1.5",
    " 7 ",
]
DATES = ["2025-02-30", "9999-12-31", "0001-01-01", "10000-01-01", "2026-13-01", "-1-01-01", "today"]
TIMES = ["25:00", "23:60", "-1:00", "8", "08:30:99"]
TEXTS = [
    "",
    " ",
    "\t\r\n",
    "A" * 10_000,
    "ñ" * 10_000,
    "\u202eevil\u202c",  # right-to-left override
    "\u200fمرحبا\u200e",  # RTL and LTR marks around Arabic
    "🌳🍫🇪🇨👩🏽‍🌾",  # emoji, a flag and a ZWJ sequence
    "e" + "\u0301" * 50,  # a pile of combining accents
    "\ufeffBOM",
    "\x00",
    "a\x00b",
    "\x01\x07\x1b[31mred\x7f",
    "\u2028\u2029",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{7*7}}",
    "../../etc/passwd",
    "%00%s%n",
    "x" * 300 + "@example.org",
    "@",
]
ADVERSARIAL = st.one_of(
    st.sampled_from(TEXTS + NUMBERS + DATES + TIMES),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(str),
)


def _value(choices: list[str]):
    """Mostly a value the page offers, when it offers any, else something hostile."""
    if choices:
        return st.one_of(st.sampled_from(choices), ADVERSARIAL)
    return ADVERSARIAL


def _file():
    content = st.one_of(st.binary(max_size=200), st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    name = st.one_of(st.sampled_from(["x.png", "../../x.jpg", "", "😀.webp", "a" * 300]), st.text())
    return st.builds(lambda data, filename: (data, filename), content, name)


@st.composite
def form_bodies(draw, fields: dict[str, dict]) -> MultiDict:
    """A form body for ``fields`` (name → {"choices": [...], "file": bool}): each field left
    out, sent once, or sent several times, plus now and then a field nobody expects."""
    pairs: list[tuple[str, object]] = []
    for name, spec in sorted(fields.items()):
        copies = draw(st.sampled_from([0, 1, 1, 1, 1, 2, 3]))
        for _ in range(copies):
            if spec.get("file"):
                data, filename = draw(_file())
                pairs.append((name, FileStorage(io.BytesIO(data), filename=filename)))
            else:
                pairs.append((name, draw(_value(spec.get("choices", [])))))
    pairs.extend(
        draw(st.lists(st.tuples(st.text(min_size=1, max_size=20), ADVERSARIAL), max_size=2))
    )
    return MultiDict(pairs)


def query_strings():
    """Query arguments: hostile keys and values, keys repeated."""
    keys = st.one_of(
        st.sampled_from(
            [
                "from",
                "to",
                "date",
                "province",
                "theme",
                "sort",
                "min_price",
                "max_price",
                "page",
                "month",
                "period",
                "start",
                "end",
                "lang",
                "q",
            ]
        ),
        st.text(min_size=1, max_size=10),
    )
    return st.lists(st.tuples(keys, ADVERSARIAL), max_size=5)


# Reading the forms on a page ----------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._current)
            return
        form = self._current
        if form is None or tag not in ("input", "select", "textarea", "button", "option"):
            return
        if tag == "option":
            if form.get("_select") and attrs.get("value") is not None:
                form["fields"][form["_select"]]["choices"].append(attrs["value"])
            return
        name = attrs.get("name")
        if not name:
            return
        field = form["fields"].setdefault(name, {"choices": []})
        if tag == "select":
            form["_select"] = name
        if attrs.get("type") == "file":
            field["file"] = True
        elif attrs.get("value") is not None:
            field["choices"].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select" and self._current is not None:
            self._current.pop("_select", None)


def post_forms(html: str, page_url: str) -> list[tuple[str, dict]]:
    """(action path, fields) of each POST form in ``html``."""
    parser = _Forms()
    parser.feed(html)
    return [
        (urlsplit(urljoin(page_url, form["action"] or page_url)).path, form["fields"])
        for form in parser.forms
        if form["method"] == "post"
    ]


def collect_fields(app, client, urls: list[str]) -> dict[str, dict]:
    """endpoint → fields, from the POST forms on the pages at ``urls``."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, dict] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for action, fields in post_forms(response.get_data(as_text=True), url):
            try:
                endpoint, _ = adapter.match(action, method="POST")
            except HTTPException:
                continue
            into = found.setdefault(endpoint, {})
            for name, spec in fields.items():
                known = into.setdefault(name, {"choices": []})
                known["choices"] = sorted(set(known["choices"]) | set(spec["choices"]))
                known["file"] = known.get("file") or spec.get("file", False)
    return found


# What no response may look like -------------------------------------------------------------

#: Every status a fuzzed request may get: success, a redirect, or a refusal.
ALLOWED = {200, 201, 204, 301, 302, 303, 400, 403, 404, 405, 409, 413, 415, 422, 429}
LEAKS = ("Traceback", "Internal Server Error", "Werkzeug Debugger", 'File "/')


def problems(response) -> list[str]:
    """What is wrong with ``response`` (nothing, for a clean answer)."""
    found = []
    if response.status_code not in ALLOWED:
        found.append(f"status {response.status_code}")
    body = response.get_data()  # bytes: photos and CSV files are answers too
    found.extend(f"body shows {leak!r}" for leak in LEAKS if leak.encode() in body)
    return found


class _Values(HTMLParser):
    """What a browser would send for each POST form: each field's current value."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._pairs: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._textarea = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._pairs = []
                self.forms.append((attrs.get("action") or "", self._pairs))
            return
        pairs = self._pairs
        if pairs is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                pairs.append((name, attrs.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            pairs.append((self._select, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = True
            pairs.append((name, ""))

    def handle_data(self, data):
        if self._textarea and self._pairs:
            name, text = self._pairs[-1]
            # A browser drops the one newline that may follow <textarea>.
            self._pairs[-1] = (name, text + (data if text else data.removeprefix("\n")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._pairs = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = False


def current_values(html: str, page_url: str, action: str | None = None) -> MultiDict:
    """The POST form of ``html`` sent to ``action`` (default: the page itself) as a browser
    would send it, unchanged."""
    parser = _Values()
    parser.feed(html)
    target = action or urlsplit(page_url).path
    for form_action, pairs in parser.forms:
        if urlsplit(urljoin(page_url, form_action or page_url)).path == target:
            return MultiDict(pairs)
    raise LookupError(f"no POST form to {target} on {page_url}")
