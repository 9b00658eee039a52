from __future__ import annotations

import hashlib
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.auth.models import ApiToken, User, hash_token, verify_dummy_password
from app.core.db import utcnow
from app.core.errors import ValidationError
from app.core.permissions import Role
from app.extensions import db
from app.people.models import Person

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError("Enter a valid e-mail address.", {"email": [str(exc)]}) from None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


# Sign-in throttling: this many failures for one address, or from one network address,
# within the window, and further attempts are refused until the window has passed.
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20
THROTTLE_WINDOW = timedelta(minutes=15)


class Throttled(Exception):
    """Too many recent failed sign-ins; the same for known and unknown addresses."""


def _email_key(email: str) -> str:
    # The audit log keeps a hash, not the typed address, which may be someone's password.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _recent_failures(since, email_key: str | None = None, ip: str | None = None) -> int:
    stmt = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.verb == "sign_in_failed", AuditEvent.occurred_at >= since)
    )
    if email_key is not None:
        stmt = stmt.where(AuditEvent.entity_type == "email", AuditEvent.summary == email_key)
    if ip is not None:
        stmt = stmt.where(AuditEvent.ip_address == ip)
    return db.session.scalar(stmt) or 0


def check_throttle(email: str, ip: str | None) -> None:
    since = utcnow() - THROTTLE_WINDOW
    if _recent_failures(since, email_key=_email_key(email)) >= MAX_FAILURES_PER_EMAIL or (
        ip and _recent_failures(since, ip=ip) >= MAX_FAILURES_PER_IP
    ):
        raise Throttled()


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The user if the e-mail and password match an active account, else None.

    Unknown addresses cost the same time as wrong passwords, and both get the same answer,
    so nobody can learn which addresses have accounts. Raises Throttled after too many
    recent failures for the address or from the network address.
    """
    check_throttle(email, ip)
    user = find_user(email)
    if user is None or not user.check_password(password) or not user.is_active:
        if user is None:
            verify_dummy_password(password)
        failure = record(
            "sign_in_failed",
            None,
            summary=_email_key(email),
            user=user if user is not None else False,
        )
        failure.entity_type = "email"
        if ip:
            failure.ip_address = ip
        return None
    user.last_login_at = utcnow()
    record("signed_in", user, user=user)
    return user


def create_user(
    email: str,
    role: Role | str,
    name: str | None = None,
    password: str | None = None,
    person_id: int | None = None,
) -> User:
    email = normalise_email(email)
    try:
        role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationError(
            f"Role must be one of {allowed}.", {"role": ["Unknown role."]}
        ) from None
    if find_user(email) is not None:
        raise ValidationError(
            "An account with that e-mail address already exists.",
            {"email": ["Already registered."]},
        )
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.",
            {"password": ["Too short."]},
        )
    person = None
    if person_id is not None:
        person = db.session.get(Person, person_id)
        if person is None:
            raise ValidationError(
                "There is no person with that id.", {"person_id": ["Unknown person."]}
            )
        if db.session.scalar(select(User).where(User.person_id == person_id)) is not None:
            raise ValidationError(
                "That person already has an account.",
                {"person_id": ["Already linked to an account."]},
            )
    user = User(email=email, role=role, name=name or (person.name if person else email))
    user.person = person
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user_created", user, summary=f"{email} as {role.value}")
    return user


def issue_token(user: User, name: str | None = None) -> str:
    _token, plain = ApiToken.issue(user, name)
    db.session.flush()
    record("api_token_issued", user, user=user)
    return plain


def user_for_token(plain: str) -> User | None:
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain.strip()))
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user
