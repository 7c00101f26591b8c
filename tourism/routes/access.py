"""Who may open a page: decorators for views, built on the tenancy service."""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from ..models import Role
from ..services.access import audit, tenancy


def _deny():
    audit.record_apart(audit.ACCESS_DENIED, target=f"{request.method} {request.path}")
    abort(404)


def roles_required(*roles: Role):
    """The signed-in user must hold one of ``roles`` in at least one association (or be a
    platform admin). Which association's data they may touch is checked per object by
    ``tenancy.get_scoped``; a page with nothing of theirs answers 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            allowed = tenancy.association_ids(current_user, roles)
            if allowed is not None and not allowed:
                _deny()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def platform_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_platform_admin:
            _deny()
        return view(*args, **kwargs)

    return wrapped


managers_only = roles_required(Role.ADMIN, Role.STAFF)
admins_only = roles_required(Role.ADMIN)
guides_only = roles_required(Role.GUIDE, Role.ADMIN, Role.STAFF)
