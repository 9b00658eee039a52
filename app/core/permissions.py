"""Who may see what. The predicates on the models call these; views and the API call the
predicates, so the rule lives in one place."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.auth.models import User


class Role(enum.StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    MEMBER = "member"
    VIEWER = "viewer"


def is_authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_staff(user: User | None) -> bool:
    """Clerks and admins run the committee cycle and see everything."""
    return is_authenticated(user) and user.role in (Role.ADMIN, Role.CLERK)


def is_admin(user: User | None) -> bool:
    return is_authenticated(user) and user.role == Role.ADMIN


def person_id_of(user: User | None) -> int | None:
    return user.person_id if is_authenticated(user) else None


class CommitteeReader:
    """Stands for "any current member of this committee" where something is made once for all
    of them (the members' agenda pack). Signed in, not staff, owning nothing: the models'
    predicates then give exactly what every member may see, and no more."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    role = Role.MEMBER
    person_id = None

    def __init__(self, committee_id: int) -> None:
        self.committee_id = committee_id
