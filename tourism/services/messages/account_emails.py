"""Account emails: password resets, invitations and group quotes, which belong to no booking.

``notifications.queue_account_email`` puts them in the outbox; this module renders them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from ...models import Notification
from ...text_input import one_line
from .rendering import Rendered, message_locale, tidy_text

PASSWORD_RESET = "password_reset"  # noqa: S105 (an email kind, not a password)
INVITATION = "invitation"
#: A group request was quoted: the link is the request's private page.
GROUP_QUOTE = "group_quote"
#: The association sent a revised quote (rendered as a quote, with its own heading).
GROUP_QUOTE_CHANGED = "group_quote_changed"
#: The association withdrew its quote.
GROUP_QUOTE_WITHDRAWN = "group_quote_withdrawn"
#: The treasurer paid (part of) a group's bank transfer back.
GROUP_TRANSFER_REFUNDED = "group_transfer_refunded"
GROUP_KINDS = (GROUP_QUOTE, GROUP_QUOTE_CHANGED, GROUP_QUOTE_WITHDRAWN, GROUP_TRANSFER_REFUNDED)
ACCOUNT_KINDS = (PASSWORD_RESET, INVITATION, *GROUP_KINDS)


def role_label(role: str) -> str:
    """A membership role in words, in the current locale."""
    labels = {
        "admin": _("administrator"),
        "staff": _("staff member"),
        "guide": _("guide"),
    }
    return labels.get(role, role)


def account_subject(kind: str, context: dict) -> str:
    if kind == PASSWORD_RESET:
        return _("Reset your Chakra Routes password")
    if kind == GROUP_QUOTE:
        return _("Your group quote for %(experience)s", experience=context.get("experience", ""))
    if kind == GROUP_QUOTE_CHANGED:
        return _(
            "Your group quote for %(experience)s was changed",
            experience=context.get("experience", ""),
        )
    if kind == GROUP_QUOTE_WITHDRAWN:
        return _(
            "Your group quote for %(experience)s was withdrawn",
            experience=context.get("experience", ""),
        )
    if kind == GROUP_TRANSFER_REFUNDED:
        return _(
            "We paid your group's transfer back: %(experience)s",
            experience=context.get("experience", ""),
        )
    return _(
        "Invitation to join %(association)s on Chakra Routes",
        association=context.get("association", ""),
    )


def render_account(kind: str, locale: str, context: dict) -> Rendered:
    """Subject, text and HTML of an account email; call inside ``force_locale(locale)``."""
    from ..access.accounts import INVITE_LIFETIME, RESET_LIFETIME

    values = dict(
        context,
        kind=kind,
        locale=locale,
        url=context["url"],
        association=context.get("association", ""),
        inviter=context.get("inviter", ""),
        role=role_label(str(context.get("role", ""))),
        valid_hours=int(RESET_LIFETIME.total_seconds() // 3600),
        valid_days=INVITE_LIFETIME.days,
        site_url=current_app.config["PUBLIC_URL"].rstrip("/") + "/",
    )
    for moment in ("expires_at", "starts_at"):
        if context.get(moment):
            values[moment] = datetime.fromisoformat(context[moment])
    if context.get("paid_on"):
        values["paid_on"] = date.fromisoformat(context["paid_on"])
    values["subject"] = subject = account_subject(kind, context)
    template = GROUP_QUOTE if kind == GROUP_QUOTE_CHANGED else kind
    html = render_template(f"emails/{template}.html", **values)
    plain = render_template(f"emails/{template}.txt", **values)
    return Rendered(subject=subject, text=tidy_text(plain), html=html)


def build_account_message(notification: Notification) -> EmailMessage:
    """The complete account email for ``notification``, in its language."""
    context = json.loads(notification.context or "{}")
    locale = message_locale(notification.language)
    with force_locale(locale):
        rendered = render_account(notification.kind, locale, context)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = one_line(rendered.subject)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = locale
    return message
