"""The management forms that make something or tell people when sent (a family, an extra, a
reseller, an invitation, a payout table) are marked to go once: their page loads the script
that ignores a second click while the first sending is on its way, once per page. The server
side of "sent twice" is tested with each form that carries a key (tests/reliability/
test_sent_twice_race.py); this checks the pages a treasurer or an admin clicks on."""

from __future__ import annotations

import re

import pytest

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, login, member
from tourism.extensions import db
from tourism.models import Role

app, kallari, make = shared.app, shared.kallari, shared.make


@pytest.fixture
def admin(client, make, kallari):
    user = member(make, kallari, Role.ADMIN)
    make.family(kallari, name="Familia Grefa")
    db.session.commit()
    login(client, user)
    return user


@pytest.mark.parametrize(
    "page",
    [
        "/manage/associations/{a}/families/new",
        "/manage/associations/{a}/extras/new",
        "/manage/associations/{a}/resellers/new",
        "/manage/associations/{a}/invitations/new",
        "/manage/associations/{a}/treasury",
    ],
)
def test_a_management_form_that_makes_something_goes_once(client, admin, kallari, page):
    response = client.get(page.format(a=kallari.id), headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    forms = re.findall(r'<form method="post"[^>]*>', body)
    assert any("data-send-once" in form for form in forms), forms
    assert len(re.findall(r'<script src="/static/js/send-once\.[0-9a-f]+\.js" defer>', body)) == 1


def test_every_management_page_with_such_a_form_loads_the_script():
    """A form marked ``data-send-once`` on a management page goes once only if its page
    sets ``send_once`` (the layout then loads the script; other pages load none)."""
    from pathlib import Path

    import tourism

    templates = Path(tourism.__file__).parent / "templates"
    marked = [
        path
        for path in templates.rglob("*.html")
        if "data-send-once" in (text := path.read_text())
        and '{% extends "manage/_layout.html" %}' in text
    ]
    assert len(marked) >= 14
    missing = [p.name for p in marked if "{%- set send_once = true %}" not in p.read_text()]
    assert missing == []
