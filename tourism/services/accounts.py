"""Accounts: passwords (argon2id), sessions that logout really ends, one-time links for
password resets and invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidRequest, NotFound
from ..models import Association, AuthToken, Membership, Role, User

#: argon2id with RFC 9106's second recommended setting (64 MiB, 3 passes, 4 lanes).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
#: Verified when the email is unknown, so both cases take the same time.
_DUMMY_HASH = HASHER.hash("not a real password")
MIN_PASSWORD_LENGTH = 10
RESET_LIFETIME = timedelta(hours=1)
INVITE_LIFETIME = timedelta(days=7)


class WeakPassword(InvalidRequest):
    default_message = _l("Choose a password of at least %(n)s characters.")


class InvalidLink(NotFound):
    default_message = _l("This link is not valid any more. Ask for a new one.")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 1000:
        raise WeakPassword(n=MIN_PASSWORD_LENGTH)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Upgrades old hashes."""
    user = session.execute(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).scalar_one_or_none()
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


def user_for_session(session: Session, token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    return session.execute(
        select(User).where(User.session_token == token, User.is_active_account.is_(True))
    ).scalar_one_or_none()


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


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


def request_password_reset(session: Session, email: str, now: datetime) -> tuple[User, str] | None:
    """A reset link for the account with this email; None when there is none (the caller
    answers the same either way, so nobody learns which emails have accounts)."""
    user = session.execute(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).scalar_one_or_none()
    if user is None or not user.is_active_account:
        return None
    raw = _new_token(
        session, purpose="reset", user_id=user.id, email=user.email, expires_at=now + RESET_LIFETIME
    )
    return user, raw


def reset_password(session: Session, raw: str, password: str, now: datetime) -> User:
    token = _valid_token(session, raw, "reset", now)
    check_password_strength(password)
    user = session.get(User, token.user_id)
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    token.used_at = now
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
    """A one-time invitation link for ``email`` to join ``association`` as ``role``."""
    return _new_token(
        session,
        purpose="invite",
        email=normalize_email(email),
        association_id=association.id,
        role=role.value,
        created_by_id=inviter.id,
        expires_at=now + INVITE_LIFETIME,
    )


def accept_invitation(
    session: Session, raw: str, name: str, password: str, now: datetime
) -> User:
    """Create (or reuse) the invitee's account and membership; the link then stops working."""
    token = _valid_token(session, raw, "invite", now)
    name = name.strip()
    if not name or len(name) > 160:
        raise InvalidRequest(_l("Please give your name."))
    user = session.execute(
        select(User).where(func.lower(User.email) == token.email)
    ).scalar_one_or_none()
    if user is None:
        check_password_strength(password)
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
        session.add(
            Membership(user_id=user.id, association_id=token.association_id, role=Role(token.role))
        )
    token.used_at = now
    session.flush()
    return user
