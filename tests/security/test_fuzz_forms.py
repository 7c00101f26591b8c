"""Fuzzing every form: hostile input never ends in a server error.

Walks ``app.url_map`` with the tenancy matrix's world (real objects behind every URL
argument). Each POST route gets form bodies built from the field names its pages really
use, filled with hostile values: empty, 10,000 characters, right-to-left marks, emoji,
combining accents, NUL and other control characters, numbers out of every range, wrong
types, fields repeated or left out; then valid forms get one or two hostile fields, so the
value reaches the service. Whatever arrives, the answer is a page or a refusal (never a
5xx, never a stack trace), and a refusal (4xx) writes nothing. ``FUZZ_EXAMPLES=200`` runs
longer.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz_walk import (
    FUZZ,
    LANGUAGES,
    POST_ENDPOINTS,
    UNSEEN_FORMS,
    check,
    client_for,
    emailed_links,
    form_fields,
    ids_for,
    signed_in,
)
from tests.fuzzing import ADVERSARIAL, current_values, form_bodies
from tests.route_walk import placeholder_url, routes
from tests.security.test_tenancy_matrix import _dump, world  # noqa: F401  (world is a fixture)


def test_the_walk_finds_the_forms(world):  # noqa: F811
    """The fuzzing below reaches the real fields: the main forms are found on the pages."""
    fields = form_fields(world, signed_in(world))
    assert {"name", "email", "special_needs"} <= set(fields["bookings.new"])
    assert {"email", "password"} <= set(fields["auth.login"])
    assert (
        "title_es" in fields["manage.edit_experience"] or len(fields["manage.edit_experience"]) > 5
    )
    assert len(fields) > 20
    assert {"password", "confirm", "name"} <= set(UNSEEN_FORMS["auth.accept_invitation"])


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_fuzzed_form_posts_never_fail(world, endpoint):  # noqa: F811
    app, ids, tokens, users = world
    clients = signed_in(world)
    fields = form_fields(world, clients).get(endpoint) or UNSEEN_FORMS.get(endpoint, {})
    tokens = tokens | emailed_links(ids, users)
    client = client_for(clients, endpoint)
    [rule] = [r for r in routes(app, "POST") if r.endpoint == endpoint]
    with app.test_request_context():
        url = placeholder_url(rule, ids_for(ids, endpoint), tokens)
    state = {"before": _dump()}

    @FUZZ
    @given(body=form_bodies(fields), language=LANGUAGES)
    def post(body, language):
        response = check(
            client, "POST", url, state["before"], data=body, headers={"Accept-Language": language}
        )
        if response.status_code < 400:
            state["before"] = _dump()

    post()


@pytest.mark.parametrize(
    "endpoint",
    [
        "bookings.new",
        "manage.new_experience",
        "manage.edit_experience",
        "manage.new_schedule",
        "manage.edit_departure",
        "manage.new_association",
        "manage.split_rules_page",
    ],
)
def test_numbers_too_large_for_a_float_are_refused(world, endpoint):  # noqa: F811
    """Regression: a whole number past 1e308 in any number field made WTForms' range check
    raise OverflowError (a 500) instead of the range's message."""
    app, ids, tokens, _ = world
    clients = signed_in(world)
    fields = form_fields(world, clients)[endpoint]
    [rule] = [r for r in routes(app, "POST") if r.endpoint == endpoint]
    with app.test_request_context():
        url = placeholder_url(rule, ids_for(ids, endpoint), tokens)
    before = _dump()
    # Every field but two buttons whose names only say which was pressed: the booking form's
    # "Update the total" and the experience form's "Add a stop", which show the form again
    # and check and save nothing (the other fuzz tests send them too: never a 500).
    numbers = {name: "9" * 400 for name in fields if name not in ("recalculate", "add_stop")}
    response = client_for(clients, endpoint).post(
        url, data=numbers, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    # Refused field by field, with the fields' own messages (which ones depends on what the
    # page offers by now: earlier examples may have filled the departure, hiding its tickets).
    assert 'class="field-error"' in body, body
    assert _dump() == before


#: Forms whose page, as shown, is a valid submission (plus these fixes for a new booking).
VALID_AS_SHOWN = {
    "bookings.new": {
        "name": "Ana Test",
        "email": "ana@example.org",
        "phone": "+593 99 1234",
        "country": "EC",
    },
    "manage.edit_experience": {},
    "manage.edit_family": {},
    "manage.edit_guide": {},
    "manage.edit_departure": {},
}


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", sorted(VALID_AS_SHOWN))
def test_one_hostile_field_in_a_valid_form_never_fails(world, endpoint):  # noqa: F811
    """A valid form with one or two fields made hostile: the hostile value gets past the
    other fields' checks and reaches the service."""
    app, ids, tokens, _ = world
    client = client_for(signed_in(world), endpoint)
    [rule] = [r for r in routes(app, "POST") if r.endpoint == endpoint]
    with app.test_request_context():
        url = placeholder_url(rule, ids_for(ids, endpoint), tokens)
    valid = current_values(client.get(url).get_data(as_text=True), url)
    for name, value in VALID_AS_SHOWN[endpoint].items():
        valid.setlist(name, [value])
    for name in [n for n in valid if n.startswith("qty_")][:1]:
        valid.setlist(name, ["1"])
    baseline = client.post(url, data=valid, headers={"Accept-Language": "en"})
    if 'id="quote-review"' in baseline.get_data(as_text=True):
        # The booking form shows the total of the tickets chosen before booking them: the
        # valid form is the one it shows then, sent again as a browser would.
        valid = current_values(baseline.get_data(as_text=True), url)
        baseline = client.post(url, data=valid, headers={"Accept-Language": "en"})
    assert baseline.status_code == 303, baseline.get_data(as_text=True)[-3000:]
    state = {"before": _dump()}
    names = sorted(valid)

    @FUZZ
    @given(changes=st.dictionaries(st.sampled_from(names), ADVERSARIAL, min_size=1, max_size=2))
    def post(changes):
        body = valid.copy()
        for name, value in changes.items():
            body.setlist(name, [value])
        response = check(
            client, "POST", url, state["before"], data=body, headers={"Accept-Language": "en"}
        )
        if response.status_code < 400:
            state["before"] = _dump()

    post()
