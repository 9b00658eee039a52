"""Guards for pages only clerks and admins use."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from app.core.permissions import is_staff
from app.extensions import login_manager


def staff_required(view):
    """Signed-out visitors are asked to sign in; signed-in non-staff get a 404, since the page
    is not one they may know about."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_staff(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapper
