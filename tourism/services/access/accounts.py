"""Accounts: passwords (argon2id), sessions that logout really ends, one-time links for
password resets and invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...errors import InvalidRequest, NotFound
from ...models import Association, AuthToken, Membership, Role, User

#: argon2id with RFC 9106's second recommended setting (64 MiB, 3 passes, 4 lanes).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
#: Verified when the email is unknown, so both cases take the same time.
_DUMMY_HASH = HASHER.hash("not a real password")
MIN_PASSWORD_LENGTH = 10
RESET_LIFETIME = timedelta(hours=1)
INVITE_LIFETIME = timedelta(days=7)


class WeakPassword(InvalidRequest):
    def __init__(self, n: int) -> None:
        super().__init__(
            _ln(
                "Choose a password of at least %(num)s character.",
                "Choose a password of at least %(num)s characters.",
                n,
            )
        )


class InvalidLink(NotFound):
    default_message = _l("This link is not valid any more. Ask for a new one.")


class WrongPassword(InvalidRequest):
    default_message = _l("The password is not correct.")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 1000:
        raise WeakPassword(n=MIN_PASSWORD_LENGTH)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Upgrades old hashes."""
    user = _find_user(session, email)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active_account or not user.password_hash:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User) -> str:
    """The token a new login session carries (created once, kept until logout)."""
    if not user.session_token:
        user.session_token = secrets.token_urlsafe(32)
    return user.session_token


def end_all_sessions(user: User) -> None:
    """Logout: a new token, so every cookie issued before is worthless, here and on every node."""
    user.session_token = secrets.token_urlsafe(32)


def remember_locale(user: User, locale: str) -> None:
    """Keep the language the account chose; signing in sets it again on any device."""
    user.locale = locale


def user_for_session(session: Session, token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    return session.execute(
        select(User).where(User.session_token == token, User.is_active_account.is_(True))
    ).scalar_one_or_none()


def hash_token(raw: str) -> str:
    """The SHA-256 a secret token is stored and looked up by (links, API keys): the token
    itself is never stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


_hash_token = hash_token


def link_key(raw: str) -> str:
    """A stable name for one link that does not reveal it (e.g. the key of its email)."""
    return f"link:{_hash_token(raw)}"


def _find_user(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).scalar_one_or_none()


def _new_token(session: Session, **fields) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(AuthToken(token_hash=_hash_token(raw), **fields))
    session.flush()
    return raw


def _valid_token(session: Session, raw: str, purpose: str, now: datetime) -> AuthToken:
    if not raw or len(raw) > 100:
        raise InvalidLink()
    token = session.execute(
        select(AuthToken).where(AuthToken.token_hash == _hash_token(raw))
    ).scalar_one_or_none()
    if token is None or token.purpose != purpose or token.used_at or token.expires_at <= now:
        raise InvalidLink()
    return token


def _use_token(session: Session, token: AuthToken, now: datetime) -> None:
    """Mark the link used, or raise ``InvalidLink`` if another transaction used it first.

    The conditional UPDATE is what makes a link single-use under concurrency: two requests
    may both have read it as unused, but only one of them changes the row (on PostgreSQL the
    second waits for the first and then finds ``used_at`` set).
    """
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.id == token.id, AuthToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidLink()
    token.used_at = now


def valid_link(session: Session, raw: str, purpose: str, now: datetime) -> AuthToken:
    """The unused, unexpired link ``raw`` for ``purpose`` (``reset`` or ``invite``), else
    ``InvalidLink``; for pages that show a form before the link is used."""
    return _valid_token(session, raw, purpose, now)


def request_password_reset(session: Session, email: str, now: datetime) -> tuple[User, str] | None:
    """A reset link for the account with this email; None when there is none (the caller
    answers the same either way, so nobody learns which emails have accounts)."""
    user = _find_user(session, email)
    if user is None or not user.is_active_account:
        return None
    raw = _new_token(
        session, purpose="reset", user_id=user.id, email=user.email, expires_at=now + RESET_LIFETIME
    )
    return user, raw


def reset_password(session: Session, raw: str, password: str, now: datetime) -> User:
    """Set a new password through a reset link. The link and every other unused reset link
    of the account stop working, and every session of the account ends."""
    token = _valid_token(session, raw, "reset", now)
    check_password_strength(password)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active_account:
        raise InvalidLink()
    _use_token(session, token, now)
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    session.execute(
        update(AuthToken)
        .where(
            AuthToken.user_id == user.id,
            AuthToken.purpose == "reset",
            AuthToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return user


def invite(
    session: Session,
    inviter: User,
    association: Association,
    email: str,
    role: Role,
    now: datetime,
) -> str:
    """A one-time invitation link for ``email`` to join ``association`` as ``role``.

    Send it with ``notifications.queue_account_email(kind="invitation",
    key=link_key(raw), ...)``; only its hash is stored.
    """
    return _new_token(
        session,
        purpose="invite",
        email=normalize_email(email),
        association_id=association.id,
        role=role.value,
        created_by_id=inviter.id,
        expires_at=now + INVITE_LIFETIME,
    )


@dataclass(frozen=True)
class Invitation:
    """What an invitation page shows before it is accepted."""

    email: str
    association: Association
    role: Role
    #: The invitee already has an account: accepting asks for its password, not a new one.
    has_account: bool


def open_invitation(session: Session, raw: str, now: datetime) -> Invitation:
    """The valid invitation behind link ``raw``, else ``InvalidLink``."""
    token = _valid_token(session, raw, "invite", now)
    association = session.get(Association, token.association_id)
    if association is None:
        raise InvalidLink()
    return Invitation(
        email=token.email,
        association=association,
        role=Role(token.role),
        has_account=_find_user(session, token.email) is not None,
    )


def accept_invitation(session: Session, raw: str, name: str, password: str, now: datetime) -> User:
    """Create the invitee's account (or, if the email has one, check its password) and add
    the membership; the link then stops working.

    An existing account is only joined with its own password: the link alone never signs
    anyone in to an account that already exists.
    """
    token = _valid_token(session, raw, "invite", now)
    user = _find_user(session, token.email)
    if user is None:
        name = name.strip()
        if not name or len(name) > 160:
            raise InvalidRequest(_l("Please give your name."))
        check_password_strength(password)
    elif authenticate(session, token.email, password) is None:
        raise WrongPassword()
    _use_token(session, token, now)
    if user is None:
        user = User(email=token.email, name=name, password_hash=hash_password(password))
        session.add(user)
        session.flush()
    exists = session.execute(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.association_id == token.association_id,
            Membership.role == Role(token.role),
        )
    ).scalar_one_or_none()
    if exists is None:
        # Through the relationship, so ``user.memberships`` already shows it in this request.
        session.add(
            Membership(user=user, association_id=token.association_id, role=Role(token.role))
        )
    session.flush()
    return user
