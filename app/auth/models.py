from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at, fk, intpk, str_enum, str_name, utcnow
from app.core.permissions import Role
from app.extensions import db
from app.people.models import Person

_hasher = PasswordHasher()
# Verifying against this when the account does not exist costs the same time as a real check,
# so response times do not reveal which e-mail addresses have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str_name]
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.VIEWER)
    person_id: Mapped[int | None] = fk("people.id", ondelete="SET NULL", nullable=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Personal calendar feeds: the URL's token is derived from this nonce (a reset draws a new
    # one) and found again by its hash, so the token itself is never stored.
    calendar_nonce: Mapped[str | None] = mapped_column(String(32))
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    actions_feed_enabled: Mapped[bool] = mapped_column(Boolean, default=False)

    person: Mapped[Person | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in for inactive accounts
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.CLERK)

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            verify_dummy_password(password)
            return False
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = _hasher.hash(password)
        return True

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


def verify_dummy_password(password: str) -> None:
    """Spend the time of a password check for an account that does not exist."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def hash_token(token: str) -> str:
    # API tokens are long random strings, so a fast hash suffices and permits indexed lookup.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id", ondelete="CASCADE")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, name: str | None = None) -> tuple[ApiToken, str]:
        """A new token for the user; the plain value is returned once and never stored."""
        plain = "mb_" + secrets.token_urlsafe(32)
        token = cls(user=user, token_hash=hash_token(plain), name=name)
        db.session.add(token)
        return token, plain

    def revoke(self) -> None:
        self.revoked_at = utcnow()
