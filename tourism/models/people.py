"""Associations (the tenants), the families they host with, and the people who work in them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    GUIDE = "guide"


class Association(db.Model):
    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    #: Three letters that start every booking reference of this association (``KAL-7F3K9Q``).
    code: Mapped[str] = mapped_column(String(3), unique=True)
    province: Mapped[str] = mapped_column(String(40))
    founded_year: Mapped[int | None]
    description_es: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    #: Who sells the visits, as tourists and the law need it: the registered name, the tax
    #: number (Ecuador's RUC) and the postal address, shown on public pages, booking pages,
    #: emails and the terms of sale.
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    tax_id: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    #: The identity above was invented for the demo data: pages say so. Cleared when an
    #: admin saves the association's details.
    identity_is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    families: Mapped[list[Family]] = relationship(
        back_populates="association", order_by="Family.id"
    )
    experiences = relationship("Experience", back_populates="association", order_by="Experience.id")

    def description(self, locale: str) -> str:
        return (self.description_en if locale == "en" else self.description_es) or (
            self.description_es or self.description_en
        )

    @property
    def whatsapp_number(self) -> str:
        """The contact phone as WhatsApp's links want it (digits only, with the country
        code); empty when the phone has too few digits to be one."""
        digits = "".join(ch for ch in self.contact_phone if ch.isdigit())
        if self.contact_phone.strip().startswith("+") or len(digits) > 10:
            return digits if len(digits) >= 8 else ""
        if digits.startswith("0") and len(digits) >= 9:
            return "593" + digits[1:]  # an Ecuadorian number written nationally: 099 …
        return ""


class Family(db.Model):
    """A beneficiary household that hosts a stop and receives a share of the revenue."""

    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    community: Mapped[str] = mapped_column(String(160), default="")
    contact_name: Mapped[str] = mapped_column(String(160), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    #: Languages spoken at home, comma-separated codes (``qu,es``).
    languages: Mapped[str] = mapped_column(String(60), default="")
    #: Optional, for aggregate reports only (e.g. how many families women represent).
    representative_gender: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Demo families are invented for the demo data and must never be taken for real people.
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The private key to the family's statement page (256 random bits, URL-safe); set the
    #: first time a treasurer asks for the link, replaced to revoke it.
    statement_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The family's number for WhatsApp/SMS notices in E.164, when the family has agreed
    #: (``message_consent_at``), and the channel it prefers (``whatsapp``, ``sms`` or
    #: ``email``).
    message_phone: Mapped[str | None] = mapped_column(String(20))
    message_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_channel: Mapped[str | None] = mapped_column(String(10))
    #: Where the family's notices go when it chose email, gave no phone consent, or WhatsApp
    #: and SMS both failed; empty: none.
    email: Mapped[str] = mapped_column(String(254), default="")

    association: Mapped[Association] = relationship(back_populates="families")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    #: Rotated at logout and password change: every session made before stops working.
    session_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A guide's number for WhatsApp/SMS notices in E.164, when they agreed
    #: (``message_consent_at``), and the channel they prefer (``whatsapp``, ``sms`` or
    #: ``email``, to their account's address).
    message_phone: Mapped[str | None] = mapped_column(String(20))
    message_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_channel: Mapped[str | None] = mapped_column(String(10))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login: the session holds this token, not the user id
        return self.session_token or ""


class Membership(db.Model):
    """A user's role in one association; a user may belong to several."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "association_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    #: Guide roster details, per association.
    phone: Mapped[str] = mapped_column(String(40), default="")
    community: Mapped[str] = mapped_column(String(160), default="")
    languages: Mapped[str] = mapped_column(String(60), default="")
    #: Optional, for aggregate reports only (youth employment).
    under_30: Mapped[bool | None]
    #: Secret of the guide's iCal feed URL; revoking sets a new one.
    ical_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    association: Mapped[Association] = relationship()
