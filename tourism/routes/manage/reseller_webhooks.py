"""A reseller's webhook (its admins): the address we post its booking changes to, the
signing secret shown once, and the list of posts with their state and attempts."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...models import Reseller, Role
from ...services.channels import webhooks
from ...unit_of_work import unit_of_work
from ..access import admins_only
from .blueprint import ID, acting_user, bp, done, page, scoped

ADMINS = (Role.ADMIN,)


def _page(reseller: Reseller, status: int = 200, error=None, url: str | None = None):
    return page(
        "manage/reseller_webhook.html",
        status,
        error,
        reseller=reseller,
        association=reseller.association,
        url=reseller.webhook_url or "" if url is None else url,
        deliveries=webhooks.deliveries(db.session, reseller),
        max_attempts=webhooks.MAX_ATTEMPTS,
    )


@bp.get(f"/resellers/<{ID}:reseller_id>/webhook")
@admins_only
def reseller_webhook(reseller_id: int):
    return _page(scoped(Reseller, reseller_id, ADMINS))


@bp.post(f"/resellers/<{ID}:reseller_id>/webhook")
@admins_only
def set_reseller_webhook(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    url = request.form.get("url", "")
    policy = webhooks.UrlPolicy.from_config(current_app.config)
    try:
        with unit_of_work():
            secret = webhooks.set_webhook(
                db.session, acting_user(), reseller, url, policy, utcnow()
            )
    except DomainError as error:
        return _page(reseller, error.status_code, error, url[: webhooks.URL_LIMIT])
    body, status = page(
        "manage/reseller_webhook_secret.html",
        201,
        reseller=reseller,
        association=reseller.association,
        secret=secret,
        header=webhooks.SIGNATURE_HEADER,
    )
    return body, status, {"Cache-Control": "no-store"}


@bp.post(f"/resellers/<{ID}:reseller_id>/webhook/remove")
@admins_only
def remove_reseller_webhook(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    with unit_of_work():
        webhooks.remove_webhook(db.session, acting_user(), reseller, utcnow())
    return done(
        _("The webhook was removed: nothing more is posted to the reseller."),
        "manage.reseller_webhook",
        reseller_id=reseller.id,
    )
