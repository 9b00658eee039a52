from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Integer, String
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
    # Kept in the session and in the remember-me cookie too (see get_id): signing out or a new
    # password raises it, so a copied or replayed cookie stops working everywhere at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        # Flask-Login stores this in the session and in the remember-me cookie alike, so the
        # generation check in the user loader covers both.
        return f"{self.id}:{self.session_generation or 0}"

    def end_sessions(self) -> None:
        """Every existing session and remember-me cookie of this account stops working."""
        self.session_generation = (self.session_generation or 0) + 1

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
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(
        cls, user: User, name: str | None = None, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for the user; the plain value is returned once and never stored."""
        plain = "mb_" + secrets.token_urlsafe(32)
        token = cls(user=user, token_hash=hash_token(plain), name=name, expires_at=expires_at)
        db.session.add(token)
        return token, plain

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = utcnow()

    def is_valid(self, now: datetime | None = None) -> bool:
        """Not revoked, not expired, and its account still active."""
        now = now or utcnow()
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and self.user.is_active
        )

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"

    def note_use(self, now: datetime | None = None) -> None:
        # At most one write a minute per token: busy clients would otherwise turn every read
        # into a write (and on SQLite, contend for the one write lock).
        now = now or utcnow()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            self.last_used_at = now


LAST_USED_RESOLUTION = timedelta(minutes=1)


class SignInThrottle(db.Model):
    """Recent sign-in attempts for one key (an account from one address, or one address).

    The count is changed by a single INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so
    parallel attempts cannot all read the same count and all be let through.
    """

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):
    """An invitation to make an account, sent by e-mail as a signed link. Only the hash of
    its token is kept (like an API token's), so a copy of the table opens no account; it
    works once (used_at) and until expires_at, and a newer invitation for the same person
    revokes the older (revoked_at)."""

    __tablename__ = "invitations"

    id: Mapped[intpk]
    person_id: Mapped[int] = fk("people.id", ondelete="CASCADE")
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.MEMBER)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
    invited_by: Mapped[User | None] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
