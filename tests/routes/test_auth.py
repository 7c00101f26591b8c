"""Signing in and out, password resets and invitations, through the pages.

Every test builds its own app (``build``) so it can choose mail, CSRF and rate-limit
settings; a ``/_test/whoami`` page behind ``login_required`` tells who a cookie signs in.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tests.factories import PASSWORD, Factories
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import AuthToken, Membership, Notification, Role, User
from tourism.services.access import accounts
from tourism.services.messages import links
from tourism.services.messages import outbox as notifications

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}
PUBLIC_URL = "https://chakra.example"
NEW_PASSWORD = "cacao and guayusa at dawn"
GENERIC_FAILURE = "Email or password is not correct."
INVALID_LINK = "This link is not valid any more. Ask for a new one."


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def build(make_app, outbox):
    """``build(**config)``: an app (its context pushed) writing emails to ``outbox``."""
    contexts = []

    def _build(**overrides):
        config = {
            "MAIL_BACKEND": "folder",
            "MAIL_OUTBOX_DIR": str(outbox),
            "PUBLIC_URL": PUBLIC_URL,
        }
        app = make_app(**(config | overrides))
        app.add_url_rule("/_test/whoami", "test_whoami", login_required(lambda: current_user.email))
        context = app.app_context()
        context.push()
        contexts.append(context)
        return app

    yield _build
    for context in reversed(contexts):
        context.pop()


@pytest.fixture
def app(build):
    return build()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    return Factories(db.session)


def login(client, email_address, password=PASSWORD, url="/login", **kw):
    return client.post(url, data={"email": email_address, "password": password}, **kw)


def whoami(client) -> str | None:
    response = client.get("/_test/whoami")
    return response.get_data(as_text=True) if response.status_code == 200 else None


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def eml_files(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml")) if outbox.exists() else []


def read_eml(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def link_in(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(PUBLIC_URL + path) + r"[A-Za-z0-9_\-]+", text)
    assert match, text
    return match.group(0).removeprefix(PUBLIC_URL)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


# --- Signing in -------------------------------------------------------------------------------


def test_login_page_has_a_form(client):
    page = client.get("/login", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="email"' in html and 'name="password"' in html
    assert 'autocomplete="current-password"' in html
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("role", "platform_admin", "landing"),
    [
        (Role.ADMIN, False, "/manage/"),
        (Role.STAFF, False, "/manage/"),
        (Role.GUIDE, False, "/guide/"),
        (None, True, "/manage/"),
        (None, False, "/"),
    ],
)
def test_login_lands_each_role_on_its_home(client, make, role, platform_admin, landing):
    association = make.association()
    memberships = [(association, role)] if role else []
    user = make.user(memberships=memberships, is_platform_admin=platform_admin)
    response = login(client, user.email)
    assert response.status_code == 303
    assert response.headers["Location"] == landing
    assert whoami(client) == user.email


def test_login_ignores_case_and_spaces_in_the_email(client, make):
    user = make.user(email="ana.quispe@example.org")
    assert login(client, "  Ana.Quispe@EXAMPLE.org ").status_code == 303
    assert whoami(client) == user.email


@pytest.mark.parametrize("known", [True, False])
def test_wrong_password_and_unknown_email_fail_alike(client, make, known):
    make.user(email="ana@example.org")
    address = "ana@example.org" if known else "nobody@example.org"
    response = login(client, address, "not the password", headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert GENERIC_FAILURE in html
    assert "Please correct the marked fields" not in html
    assert whoami(client) is None


def test_an_inactive_account_cannot_sign_in(client, make):
    user = make.user(is_active_account=False)
    response = login(client, user.email, headers=EN)
    assert response.status_code == 400
    assert GENERIC_FAILURE in response.get_data(as_text=True)
    assert whoami(client) is None


def test_an_account_deactivated_later_loses_its_session(client, make):
    user = make.user()
    login(client, user.email)
    user.is_active_account = False
    assert whoami(client) is None


def test_login_upgrades_a_weaker_password_hash(client, make):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = make.user(password_hash=weak)
    assert login(client, user.email).status_code == 303
    db.session.refresh(user)
    assert user.password_hash != weak
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.authenticate(db.session, user.email, PASSWORD) is not None


def test_the_accounts_language_becomes_the_sites(client, make):
    user = make.user(locale="en")
    login(client, user.email)
    assert client.get_cookie("lang").value == "en"


def test_an_account_without_a_language_leaves_the_cookie_alone(client, make):
    user = make.user(locale=None)
    login(client, user.email)
    assert client.get_cookie("lang") is None


@pytest.mark.parametrize("target", ["/manage/experiences?page=2", "/guide/", "/"])
def test_login_returns_to_a_page_of_this_site(client, make, target):
    user = make.user()
    response = login(client, user.email, url="/login", query_string={"next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/manage/",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%0a/evil.example".replace("%0a", "\n"),
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_login_never_redirects_off_site(client, make, target):
    user = make.user()
    page = client.get("/login", query_string={"next": target})
    assert '<form method="post" action="/login" ' in page.get_data(as_text=True)
    response = login(client, user.email, query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_form_keeps_a_safe_next_for_its_post(client):
    html = client.get("/login", query_string={"next": "/guide/"}).get_data(as_text=True)
    assert 'action="/login?next=/guide/"' in html or 'action="/login?next=%2Fguide%2F"' in html


def test_signing_in_starts_a_new_session(client, make):
    user = make.user()
    with client.session_transaction() as planted:
        planted["planted_by_attacker"] = "yes"
    before = client.get_cookie("session").value
    assert login(client, user.email).status_code == 303
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as current:
        assert "planted_by_attacker" not in current
        assert current["_user_id"] == db.session.get(User, user.id).session_token


def test_the_session_cookie_holds_the_session_token_not_the_user_id(client, make):
    user = make.user()
    login(client, user.email)
    db.session.refresh(user)
    assert user.session_token and len(user.session_token) >= 40
    with client.session_transaction() as current:
        assert current["_user_id"] == user.session_token != str(user.id)


# --- Signing out ------------------------------------------------------------------------------


def test_logout_kills_the_session_even_when_the_cookie_is_replayed(client, make):
    user = make.user()
    login(client, user.email)
    assert whoami(client) == user.email
    stolen = client.get_cookie("session").value
    token_before = db.session.get(User, user.id).session_token

    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    # What the browser kept of the signed-in pages goes too (a guide's stored manifests).
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert whoami(client) is None

    client.set_cookie("session", stolen)
    assert whoami(client) is None
    assert db.session.get(User, user.id).session_token != token_before


def test_logout_ends_the_sessions_on_other_devices_too(app, make):
    user = make.user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user.email)
    login(laptop, user.email)
    assert whoami(phone) == whoami(laptop) == user.email
    phone.post("/logout")
    assert whoami(laptop) is None


def test_logout_is_post_only(client, make):
    user = make.user()
    login(client, user.email)
    assert client.get("/logout").status_code == 405
    assert whoami(client) == user.email


def test_logout_without_a_session_just_goes_home(client):
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_header_offers_sign_in_then_sign_out(client, make):
    user = make.user()
    html = client.get("/login", headers=EN).get_data(as_text=True)
    assert 'href="/login"' in html and "Sign out" not in html
    login(client, user.email)
    html = client.get("/login", headers=EN).get_data(as_text=True)
    assert 'action="/logout"' in html and "Sign out" in html


# --- CSRF -------------------------------------------------------------------------------------


def test_login_and_logout_need_the_forms_csrf_token(build):
    app = build(WTF_CSRF_ENABLED=True)
    user = Factories(db.session).user()
    client = app.test_client()

    refused = login(client, user.email, headers=EN)
    assert refused.status_code == 400
    assert "form has expired" in refused.get_data(as_text=True)
    assert whoami(client) is None

    token = csrf_token(client.get("/login").get_data(as_text=True))
    signed_in = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 303
    assert whoami(client) == user.email

    assert client.post("/logout", headers=EN).status_code == 400
    assert whoami(client) == user.email

    token = csrf_token(client.get("/", headers=EN).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert whoami(client) is None


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": PASSWORD}, "Please give your email address."),
        ({"email": "   ", "password": PASSWORD}, "Please give your email address."),
        ({"password": PASSWORD}, "Please give your email address."),
        ({"email": "ana@example.org", "password": ""}, "Please give your password."),
        ({"email": "a" * 250 + "@example.org", "password": PASSWORD}, "too long"),
        ({"email": "ana@example.org", "password": "p" * 1001}, "This password is too long."),
    ],
)
def test_bad_login_input_is_refused_and_changes_nothing(client, make, data, message):
    make.user(email="ana@example.org")
    response = client.post("/login", data=data, headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert whoami(client) is None
    assert db.session.scalar(select(User.session_token)) is None


def test_nul_bytes_are_refused(client, make):
    user = make.user()
    response = login(client, user.email + "\x00", headers=EN)
    assert response.status_code == 400
    assert whoami(client) is None


# --- Password reset ---------------------------------------------------------------------------


def test_password_reset_end_to_end(client, make, outbox):
    user = make.user(email="ana@example.org", locale="en")
    other_device = client.application.test_client()
    login(other_device, user.email)

    page = client.get("/password/forgot", headers=EN)
    assert page.status_code == 200
    asked = client.post(
        "/password/forgot", data={"email": "Ana@Example.org"}, headers=EN, buffered=True
    )
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/password/forgot/sent"
    assert "If an account uses that address" in client.get(
        asked.headers["Location"], headers=EN
    ).get_data(as_text=True)

    [path] = eml_files(outbox)
    message = read_eml(path)
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Reset your Chakra Routes password"
    assert message["Content-Language"] == "en"
    link = link_in(message, "/password/reset/")
    assert link in message.get_body(preferencelist=("html",)).get_content()
    [token] = db.session.scalars(select(AuthToken)).all()
    assert link.rsplit("/", 1)[1] not in token.token_hash  # only the hash is stored
    assert timedelta(minutes=59) < token.expires_at - utcnow() <= timedelta(hours=1)

    form = client.get(link, headers=EN)
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"

    mismatch = client.post(link, data={"password": NEW_PASSWORD, "confirm": "other"}, headers=EN)
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    weak = client.post(link, data={"password": "short", "confirm": "short"}, headers=EN)
    assert weak.status_code == 400
    assert "at least 10 characters" in weak.get_data(as_text=True)
    assert accounts.authenticate(db.session, user.email, PASSWORD) is not None

    done = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert done.headers["Location"] == "/login"

    assert whoami(other_device) is None  # a new password ends every session
    assert login(client, user.email, PASSWORD).status_code == 400
    assert login(client, user.email, NEW_PASSWORD).status_code == 303

    again = client.get(link, headers=EN)
    assert again.status_code == 404
    assert INVALID_LINK in again.get_data(as_text=True)
    replay = client.post(link, data={"password": "x" * 20, "confirm": "x" * 20}, headers=EN)
    assert replay.status_code == 404
    assert accounts.authenticate(db.session, user.email, NEW_PASSWORD) is not None


def test_forgot_password_answers_the_same_for_unknown_addresses(client, make, outbox):
    make.user(email="ana@example.org")
    make.user(email="gone@example.org", is_active_account=False)
    answers = [
        client.post("/password/forgot", data={"email": address}, headers=EN, buffered=True)
        for address in ("ana@example.org", "nobody@example.org", "gone@example.org")
    ]
    shapes = {(a.status_code, a.headers["Location"], a.get_data()) for a in answers}
    assert len(shapes) == 1
    assert not any("Set-Cookie" in a.headers for a in answers)
    assert len(eml_files(outbox)) == 1
    assert count(AuthToken) == 1
    assert count(Notification) == 1


def test_forgot_password_wants_a_valid_address(client, outbox):
    response = client.post("/password/forgot", data={"email": "not an email"}, headers=EN)
    assert response.status_code == 400
    assert "Please give a valid email address." in response.get_data(as_text=True)
    assert count(AuthToken) == 0 and eml_files(outbox) == []


def test_an_expired_reset_link_is_a_404(client, make):
    user = make.user()
    _, raw = accounts.request_password_reset(db.session, user.email, utcnow() - timedelta(hours=2))
    db.session.commit()
    response = client.get(f"/password/reset/{raw}", headers=EN)
    assert response.status_code == 404
    assert INVALID_LINK in response.get_data(as_text=True)
    post = client.post(
        f"/password/reset/{raw}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert post.status_code == 404
    assert accounts.authenticate(db.session, user.email, PASSWORD) is not None


@pytest.mark.parametrize("raw", ["nonsense", "x" * 300])
def test_an_unknown_reset_link_is_a_404(client, raw):
    assert client.get(f"/password/reset/{raw}").status_code == 404


def test_an_invitation_link_does_not_reset_passwords(client, make):
    association = make.association()
    admin = make.user()
    raw = accounts.invite(db.session, admin, association, admin.email, Role.STAFF, utcnow())
    db.session.commit()
    assert client.get(f"/password/reset/{raw}").status_code == 404


# --- Invitations ------------------------------------------------------------------------------


@pytest.fixture
def invitation(make):
    association = make.association(name="Kallari")
    admin = make.user(memberships=[(association, Role.ADMIN)])
    raw = accounts.invite(db.session, admin, association, "Rosa@Example.org", Role.GUIDE, utcnow())
    db.session.commit()
    return association, raw


def test_invitation_end_to_end(client, invitation):
    association, raw = invitation
    page = client.get(f"/invitations/{raw}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Kallari" in html and "as guide" in html and "rosa@example.org" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"

    accepted = client.post(
        f"/invitations/{raw}",
        data={"name": "Rosa Grefa", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert accepted.status_code == 303
    assert accepted.headers["Location"] == "/guide/"
    assert whoami(client) == "rosa@example.org"

    user = db.session.scalars(select(User).where(User.email == "rosa@example.org")).one()
    assert user.name == "Rosa Grefa"
    [membership] = db.session.scalars(select(Membership).where(Membership.user_id == user.id))
    assert (membership.association_id, membership.role) == (association.id, Role.GUIDE)

    assert client.get(f"/invitations/{raw}", headers=EN).status_code == 404
    reused = client.post(
        f"/invitations/{raw}",
        data={"name": "Someone Else", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        headers=EN,
    )
    assert reused.status_code == 404
    assert INVALID_LINK in reused.get_data(as_text=True)
    assert count(Membership) == 2  # the admin's and Rosa's


def test_an_existing_account_joins_with_its_own_password(app, make):
    association = make.association()
    admin = make.user(memberships=[(association, Role.ADMIN)])
    rosa = make.user(email="rosa@example.org")
    raw = accounts.invite(db.session, admin, association, rosa.email, Role.STAFF, utcnow())
    db.session.commit()
    client = app.test_client()

    page = client.get(f"/invitations/{raw}", headers=EN).get_data(as_text=True)
    assert "already has an account" in page and 'name="name"' not in page
    wrong = client.post(f"/invitations/{raw}", data={"password": "a guess at it"}, headers=EN)
    assert wrong.status_code == 400
    assert "The password is not correct." in wrong.get_data(as_text=True)
    assert whoami(client) is None
    assert count(Membership) == 1

    right = client.post(f"/invitations/{raw}", data={"password": PASSWORD})
    assert right.status_code == 303
    assert right.headers["Location"] == "/manage/"
    assert whoami(client) == rosa.email
    assert count(Membership) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Please give your name."),
        ({"name": "n" * 161, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "too long"),
        ({"name": "Rosa", "password": NEW_PASSWORD, "confirm": "other"}, "not the same"),
        ({"name": "Rosa", "password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"name": "Rosa", "password": "p" * 1001, "confirm": "p" * 1001}, "too long"),
    ],
)
def test_bad_invitation_input_is_refused_and_writes_nothing(client, invitation, data, message):
    _, raw = invitation
    response = client.post(f"/invitations/{raw}", data=data, headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(User) == 1  # the admin only
    assert db.session.scalars(select(AuthToken.used_at)).one() is None
    assert whoami(client) is None


def test_an_expired_invitation_is_a_404(client, make):
    association = make.association()
    admin = make.user()
    raw = accounts.invite(
        db.session, admin, association, "x@example.org", Role.GUIDE, utcnow() - timedelta(days=8)
    )
    db.session.commit()
    response = client.get(f"/invitations/{raw}", headers=EN)
    assert response.status_code == 404
    assert INVALID_LINK in response.get_data(as_text=True)


def test_the_invitation_email_carries_the_link(app, make, outbox):
    """What the management pages do: invite, queue the email, commit, then send."""
    association = make.association(name="Wiñak")
    admin = make.user(name="Carmen")
    raw = accounts.invite(db.session, admin, association, "new@example.org", Role.STAFF, utcnow())
    notifications.queue_account_email(
        db.session,
        kind="invitation",
        key=accounts.link_key(raw),
        recipient="new@example.org",
        language="en",
        url=links.absolute_url("auth.accept_invitation", token=raw),
        association=association.name,
        role=Role.STAFF.value,
        inviter=admin.name,
    )
    db.session.commit()
    from tourism.services.messages.mail import get_mailer

    assert notifications.deliver_pending(db.session, get_mailer(app.config)) == 1
    db.session.commit()
    message = read_eml(eml_files(outbox)[0])
    assert message["Subject"] == "Invitation to join Wiñak on Chakra Routes"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Carmen invites you to join Wiñak as staff member." in text
    link = link_in(message, "/invitations/")
    assert app.test_client().get(link).status_code == 200


# --- Rate limits ------------------------------------------------------------------------------


def _limited_app(build, ip="100 per minute", account="100 per minute"):
    return build(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_IP=ip, LOGIN_RATE_LIMIT_ACCOUNT=account)


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_login_is_limited_per_ip(build):
    app = _limited_app(build, ip="3 per minute")
    client = app.test_client()
    codes = [
        login(client, f"guess{n}@example.org", "wrong", **_from("10.0.0.1")).status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    limited = login(client, "another@example.org", "wrong", headers=EN, **_from("10.0.0.1"))
    assert limited.status_code == 429
    assert "Too many requests" in limited.get_data(as_text=True)
    spanish = login(client, "again@example.org", "wrong", headers=ES, **_from("10.0.0.1"))
    assert "Demasiadas solicitudes" in spanish.get_data(as_text=True)
    assert login(client, "guess@example.org", "wrong", **_from("10.0.0.2")).status_code == 400
    assert client.get("/login", **_from("10.0.0.1")).status_code == 200  # only posts count


def test_login_is_limited_per_account_whatever_the_ip(build):
    app = _limited_app(build, account="2 per minute")
    user = Factories(db.session).user(email="ana@example.org")
    client = app.test_client()
    spellings = ["ana@example.org", " ANA@example.org", "Ana@Example.Org"]
    codes = [
        login(client, spelling, "wrong", **_from(f"10.0.1.{n}")).status_code
        for n, spelling in enumerate(spellings)
    ]
    assert codes == [400, 400, 429]
    # Even the right password waits: that is what stops guessing from many addresses.
    assert login(client, user.email, PASSWORD, **_from("10.0.1.9")).status_code == 429
    assert login(client, "rosa@example.org", "wrong", **_from("10.0.1.1")).status_code == 400


def test_forgot_password_is_limited_per_ip_and_per_address(build, outbox):
    app = _limited_app(build, ip="3 per minute", account="2 per minute")
    Factories(db.session).user(email="ana@example.org")
    client = app.test_client()

    def ask(address, ip):
        data = {"email": address}
        return client.post("/password/forgot", data=data, buffered=True, **_from(ip)).status_code

    assert [ask("ana@example.org", f"10.0.2.{n}") for n in range(3)] == [303, 303, 429]
    assert len(eml_files(outbox)) == 2
    assert [ask(f"p{n}@example.org", "10.0.3.1") for n in range(4)] == [303, 303, 303, 429]


def test_guessing_a_password_through_an_invitation_is_limited_too(build):
    app = _limited_app(build, ip="2 per minute")
    factories = Factories(db.session)
    association = factories.association()
    rosa = factories.user(email="rosa@example.org")
    raw = accounts.invite(db.session, rosa, association, rosa.email, Role.STAFF, utcnow())
    db.session.commit()
    client = app.test_client()
    codes = [
        client.post(f"/invitations/{raw}", data={"password": f"guess {n}"}).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]
    assert client.get(f"/invitations/{raw}").status_code == 200


def test_successful_sign_ins_do_not_count_toward_the_account_limit(build):
    """Six good sign-ins in a minute are fine; wrong passwords still close the account, and
    the per-IP limit still counts every attempt."""
    app = _limited_app(build, ip="100 per minute", account="3 per minute")
    user = Factories(db.session).user(email="guia@example.org")
    db.session.commit()
    client = app.test_client()
    good = [login(client, user.email, PASSWORD, **_from("10.0.4.1")).status_code for _ in range(6)]
    assert good == [303] * 6
    wrong = [login(client, user.email, "wrong", **_from("10.0.4.1")).status_code for _ in range(4)]
    assert wrong == [400, 400, 400, 429]
    assert login(client, user.email, PASSWORD, **_from("10.0.4.2")).status_code == 429


def test_the_per_ip_limit_counts_successful_sign_ins_too(build):
    app = _limited_app(build, ip="3 per minute", account="100 per minute")
    user = Factories(db.session).user(email="guia@example.org")
    db.session.commit()
    client = app.test_client()
    codes = [login(client, user.email, PASSWORD, **_from("10.0.5.1")).status_code for _ in range(4)]
    assert codes == [303, 303, 303, 429]
