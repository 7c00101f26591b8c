"""The accounts service: argon2id passwords, sessions that logout ends, one-time links; and
the account emails (password reset, invitation) it hands to the outbox."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import argon2
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from tests.factories import PASSWORD
from tourism.database import utcnow
from tourism.errors import InvalidRequest
from tourism.models import AuthToken, Job, Membership, Notification, Role, User
from tourism.services.access import accounts
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import MemoryMailer

NEW_PASSWORD = "cacao and guayusa at dawn"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- Passwords --------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_and_at_least_64_mib():
    hashed = accounts.hash_password(NEW_PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert "$m=65536," in hashed
    parameters = argon2.extract_parameters(hashed)
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= 64 * 1024
    assert parameters.time_cost >= 3
    assert NEW_PASSWORD not in hashed
    assert accounts.hash_password(NEW_PASSWORD) != hashed  # salted


def test_the_right_password_signs_in(session, make):
    user = make.user(email="ana@example.org")
    assert accounts.authenticate(session, "ana@example.org", PASSWORD) is user
    assert accounts.authenticate(session, " ANA@Example.org ", PASSWORD) is user


def test_a_wrong_password_and_an_unknown_email_both_fail(session, make):
    make.user(email="ana@example.org")
    assert accounts.authenticate(session, "ana@example.org", "not it") is None
    assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None
    assert accounts.authenticate(session, "ana@example.org", "") is None


def test_an_inactive_account_cannot_sign_in(session, make):
    user = make.user(is_active_account=False)
    assert accounts.authenticate(session, user.email, PASSWORD) is None


def test_an_account_without_a_password_cannot_sign_in_even_with_the_dummy_one(session, make):
    user = make.user(password="")
    assert user.password_hash is None
    assert accounts.authenticate(session, user.email, "not a real password") is None


def test_a_weaker_hash_is_upgraded_when_the_password_is_right(session, make):
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = make.user(password_hash=weak)
    assert accounts.authenticate(session, user.email, "wrong") is None
    assert user.password_hash == weak  # a wrong guess changes nothing
    assert accounts.authenticate(session, user.email, PASSWORD) is user
    assert user.password_hash != weak
    assert argon2.extract_parameters(user.password_hash).memory_cost == 64 * 1024
    assert accounts.authenticate(session, user.email, PASSWORD) is user


def test_an_unreadable_hash_fails_instead_of_crashing(session, make):
    user = make.user(password_hash="plaintext-from-an-old-import")
    assert accounts.authenticate(session, user.email, "plaintext-from-an-old-import") is None


@pytest.mark.parametrize("password", ["short", "123456789", "x" * 1001])
def test_weak_or_absurd_passwords_are_refused(password):
    with pytest.raises(accounts.WeakPassword) as error:
        accounts.check_password_strength(password)
    assert "at least 10 characters" in str(error.value)


def test_ten_characters_are_enough():
    accounts.check_password_strength("x" * accounts.MIN_PASSWORD_LENGTH)


# --- Sessions ---------------------------------------------------------------------------------


def test_a_session_token_is_made_once_and_finds_its_user(session, make):
    user = make.user()
    assert user.get_id() == ""
    token = accounts.start_session(user)
    assert len(token) >= 40
    assert accounts.start_session(user) == token  # a second device shares it
    assert user.get_id() == token
    assert accounts.user_for_session(session, token) is user


def test_ending_all_sessions_makes_old_tokens_worthless(session, make):
    user = make.user()
    old = accounts.start_session(user)
    accounts.end_all_sessions(user)
    session.flush()
    assert user.session_token != old
    assert accounts.user_for_session(session, old) is None
    assert accounts.user_for_session(session, user.session_token) is user


@pytest.mark.parametrize("token", ["", "x" * 65, "no-such-token"])
def test_odd_session_tokens_find_nobody(session, make, token):
    make.user()
    assert accounts.user_for_session(session, token) is None


def test_an_inactive_account_has_no_session(session, make):
    user = make.user()
    token = accounts.start_session(user)
    user.is_active_account = False
    session.flush()
    assert accounts.user_for_session(session, token) is None


# --- Password reset links ---------------------------------------------------------------------


def test_a_reset_link_is_stored_only_as_its_hash_and_lives_one_hour(session, make):
    user = make.user()
    now = utcnow()
    found_user, raw = accounts.request_password_reset(session, user.email.upper(), now)
    assert found_user is user
    token = session.scalars(select(AuthToken)).one()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert token.purpose == "reset" and token.user_id == user.id
    assert token.expires_at - now == timedelta(hours=1)
    assert accounts.link_key(raw) == f"link:{token.token_hash}"


def test_no_reset_link_for_unknown_or_inactive_accounts(session, make):
    make.user(email="gone@example.org", is_active_account=False)
    assert accounts.request_password_reset(session, "nobody@example.org", utcnow()) is None
    assert accounts.request_password_reset(session, "gone@example.org", utcnow()) is None
    assert count(session, AuthToken) == 0


def test_resetting_sets_the_password_ends_sessions_and_uses_up_the_links(session, make):
    user = make.user()
    old_session = accounts.start_session(user)
    now = utcnow()
    _, first = accounts.request_password_reset(session, user.email, now)
    _, second = accounts.request_password_reset(session, user.email, now)

    assert accounts.reset_password(session, second, NEW_PASSWORD, now) is user
    assert accounts.authenticate(session, user.email, NEW_PASSWORD) is user
    assert accounts.authenticate(session, user.email, PASSWORD) is None
    assert accounts.user_for_session(session, old_session) is None
    for raw in (first, second):  # every pending reset link of the account stops working
        with pytest.raises(accounts.InvalidLink):
            accounts.reset_password(session, raw, "another long password", now)


def test_a_weak_new_password_changes_nothing(session, make):
    user = make.user()
    _, raw = accounts.request_password_reset(session, user.email, utcnow())
    with pytest.raises(accounts.WeakPassword):
        accounts.reset_password(session, raw, "short", utcnow())
    assert accounts.authenticate(session, user.email, PASSWORD) is user
    assert accounts.valid_link(session, raw, "reset", utcnow()).used_at is None


def test_an_expired_reset_link_is_refused(session, make):
    user = make.user()
    now = utcnow()
    _, raw = accounts.request_password_reset(session, user.email, now - timedelta(hours=1))
    with pytest.raises(accounts.InvalidLink) as error:
        accounts.reset_password(session, raw, NEW_PASSWORD, now)
    assert error.value.status_code == 404
    with force_locale("en"):
        assert "not valid any more" in str(error.value)
    with force_locale("es"):
        assert "ya no es válido" in str(error.value)


@pytest.mark.parametrize("raw", ["", "nonsense", "x" * 101])
def test_unknown_links_are_refused(session, raw):
    with pytest.raises(accounts.InvalidLink):
        accounts.valid_link(session, raw, "reset", utcnow())


def test_a_link_used_by_a_concurrent_request_is_refused(session, make):
    """Two requests may both read the link as unused; only one may use it."""
    user = make.user()
    _, raw = accounts.request_password_reset(session, user.email, utcnow())
    token = accounts.valid_link(session, raw, "reset", utcnow())
    # The other request uses it and commits; this session's copy still says "unused".
    session.execute(
        update(AuthToken)
        .where(AuthToken.id == token.id)
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    assert token.used_at is None
    with pytest.raises(accounts.InvalidLink):
        accounts.reset_password(session, raw, NEW_PASSWORD, utcnow())
    assert accounts.authenticate(session, user.email, PASSWORD) is user


# --- Invitations ------------------------------------------------------------------------------


@pytest.fixture
def kallari(make):
    association = make.association(name="Kallari")
    admin = make.user(memberships=[(association, Role.ADMIN)])
    return association, admin


def test_an_invitation_creates_the_account_and_membership_once(session, kallari):
    association, admin = kallari
    now = utcnow()
    raw = accounts.invite(session, admin, association, " Rosa@Example.org", Role.GUIDE, now)
    token = session.scalars(select(AuthToken).where(AuthToken.purpose == "invite")).one()
    assert token.email == "rosa@example.org"
    assert token.expires_at - now == timedelta(days=7)
    assert token.created_by_id == admin.id

    shown = accounts.open_invitation(session, raw, now)
    assert (shown.email, shown.association, shown.role, shown.has_account) == (
        "rosa@example.org",
        association,
        Role.GUIDE,
        False,
    )

    user = accounts.accept_invitation(session, raw, "  Rosa Grefa ", NEW_PASSWORD, now)
    assert (user.email, user.name) == ("rosa@example.org", "Rosa Grefa")
    assert accounts.authenticate(session, "rosa@example.org", NEW_PASSWORD) is user
    assert [(m.association_id, m.role) for m in user.memberships] == [(association.id, Role.GUIDE)]
    assert token.used_at == now
    with pytest.raises(accounts.InvalidLink):
        accounts.accept_invitation(session, raw, "Rosa", NEW_PASSWORD, now)
    with pytest.raises(accounts.InvalidLink):
        accounts.open_invitation(session, raw, now)


def test_an_existing_account_needs_its_own_password_to_accept(session, make, kallari):
    association, admin = kallari
    rosa = make.user(email="rosa@example.org", name="Rosa")
    raw = accounts.invite(session, admin, association, rosa.email, Role.STAFF, utcnow())
    assert accounts.open_invitation(session, raw, utcnow()).has_account

    with pytest.raises(accounts.WrongPassword):
        accounts.accept_invitation(session, raw, "Intruder", "a guess at the password", utcnow())
    assert count(session, Membership) == 1
    assert accounts.valid_link(session, raw, "invite", utcnow()).used_at is None

    assert accounts.accept_invitation(session, raw, "Ignored", PASSWORD, utcnow()) is rosa
    assert rosa.name == "Rosa"  # nothing about the account changes but its memberships
    assert accounts.authenticate(session, rosa.email, PASSWORD) is rosa
    assert {(m.association_id, m.role) for m in rosa.memberships} == {(association.id, Role.STAFF)}


def test_an_inactive_account_cannot_be_joined_through_an_invitation(session, make, kallari):
    association, admin = kallari
    gone = make.user(email="gone@example.org", is_active_account=False)
    raw = accounts.invite(session, admin, association, gone.email, Role.GUIDE, utcnow())
    with pytest.raises(accounts.WrongPassword):
        accounts.accept_invitation(session, raw, "", PASSWORD, utcnow())
    assert count(session, Membership) == 1


@pytest.mark.parametrize(
    ("name", "password", "error"),
    [
        ("", NEW_PASSWORD, InvalidRequest),
        ("   ", NEW_PASSWORD, InvalidRequest),
        ("n" * 161, NEW_PASSWORD, InvalidRequest),
        ("Rosa", "short", accounts.WeakPassword),
    ],
)
def test_bad_invitation_details_write_nothing(session, kallari, name, password, error):
    association, admin = kallari
    raw = accounts.invite(session, admin, association, "rosa@example.org", Role.GUIDE, utcnow())
    with pytest.raises(error):
        accounts.accept_invitation(session, raw, name, password, utcnow())
    assert count(session, User) == 1
    assert accounts.valid_link(session, raw, "invite", utcnow()).used_at is None


def test_links_only_work_for_their_purpose_and_time(session, make, kallari):
    association, admin = kallari
    now = utcnow()
    invite = accounts.invite(session, admin, association, "x@example.org", Role.GUIDE, now)
    _, reset = accounts.request_password_reset(session, admin.email, now)
    with pytest.raises(accounts.InvalidLink):
        accounts.reset_password(session, invite, NEW_PASSWORD, now)
    with pytest.raises(accounts.InvalidLink):
        accounts.accept_invitation(session, reset, "X", NEW_PASSWORD, now)
    with pytest.raises(accounts.InvalidLink):
        accounts.open_invitation(session, invite, now + timedelta(days=7))


# --- Account emails ---------------------------------------------------------------------------


def _queue_reset(session, key="link:abc", language="en", **context):
    return notifications.queue_account_email(
        session,
        kind="password_reset",
        key=key,
        recipient="ana@example.org",
        language=language,
        **({"url": "https://chakra.example/password/reset/T0KEN"} | context),
    )


def test_an_account_email_is_queued_once_without_a_booking(session, app):
    first = _queue_reset(session)
    assert first is not None and first.booking_id is None
    assert _queue_reset(session) is None
    session.commit()
    assert count(session, Notification) == 1
    # One send-email job for it, committed with it.
    jobs = session.scalars(select(Job)).all()
    assert [(job.kind, job.key) for job in jobs] == [("send-email", f"email:{first.key}")]


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("confirmed", {"url": "https://x"}),
        ("password_reset", {}),
        ("invitation", {"url": "https://x"}),
        ("invitation", {"url": "https://x", "association": "Kallari"}),
    ],
)
def test_account_emails_need_a_known_kind_and_their_facts(session, app, kind, context):
    with pytest.raises(ValueError):
        notifications.queue_account_email(
            session, kind=kind, key="k", recipient="a@example.org", language="es", **context
        )
    assert count(session, Notification) == 0


def test_the_reset_email_has_the_link_and_says_how_long_it_works(session, app):
    _queue_reset(session)
    session.commit()
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 1
    [message] = mailer.outbox
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert message["Subject"] == "Reset your Chakra Routes password"
    assert message["To"] == "ana@example.org"
    assert message["Content-Language"] == "en"
    for body in (text, html):
        assert "https://chakra.example/password/reset/T0KEN" in body
        assert "The link works once, for 1 hour." in body
        for wrong in ("None", "{{", "{%", "%("):
            assert wrong not in body
    assert "booking" not in text.lower()


@pytest.mark.parametrize(
    ("role", "words"), [("admin", "administrator"), ("staff", "staff member"), ("guide", "guide")]
)
def test_the_invitation_email_names_the_association_and_role(session, app, role, words):
    notifications.queue_account_email(
        session,
        kind="invitation",
        key="link:inv",
        recipient="rosa@example.org",
        language="en",
        url="https://chakra.example/invitations/T0KEN",
        association="Kallari & friends",
        role=role,
    )
    session.commit()
    mailer = MemoryMailer()
    notifications.deliver_pending(session, mailer)
    [message] = mailer.outbox
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert message["Subject"] == "Invitation to join Kallari & friends on Chakra Routes"
    assert f"You are invited to join Kallari & friends as {words}." in text
    assert "Kallari &amp; friends" in html  # escaped in HTML, plain in text
    assert "The link works once, for 7 days." in text
    assert "https://chakra.example/invitations/T0KEN" in html


def test_account_emails_fall_back_to_the_default_language(session, app):
    _queue_reset(session, language="qu")
    session.commit()
    mailer = MemoryMailer()
    notifications.deliver_pending(session, mailer)
    assert mailer.outbox[0]["Content-Language"] == app.config["BABEL_DEFAULT_LOCALE"]
