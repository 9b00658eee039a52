from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from zxcvbn import zxcvbn

from app.audit.services import record
from app.auth import signals
from app.auth.models import (
    ApiToken,
    Invitation,
    SignInThrottle,
    User,
    hash_token,
    verify_dummy_password,
)
from app.core.db import utcnow
from app.core.errors import NotFound, ValidationError
from app.core.permissions import Role
from app.extensions import db, login_manager
from app.people.models import Person

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError("Enter a valid e-mail address.", {"email": [str(exc)]}) from None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


# Sign-in throttling, by account and network address together, so an attacker hammering one
# account from one place slows only themselves: the owner signing in from elsewhere is not held
# up. After the free attempts each further failure doubles the wait, up to MAX_BACKOFF; a
# correct password clears the account's count for that address. A second, looser count per
# address alone slows one place trying many accounts.
FREE_ATTEMPTS_PER_ACCOUNT = 5
FREE_ATTEMPTS_PER_IP = 20
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)
THROTTLE_WINDOW = timedelta(days=1)  # attempts older than this are forgotten
# Kept for callers that still name the old limit (tests, the sign-in page's wording).
MAX_FAILURES_PER_EMAIL = FREE_ATTEMPTS_PER_ACCOUNT
MAX_FAILURES_PER_IP = FREE_ATTEMPTS_PER_IP


class Throttled(Exception):
    """Too many recent failed sign-ins; the same for known and unknown addresses."""

    def __init__(self, retry_after: timedelta):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _email_key(email: str) -> str:
    # The audit log keeps a hash, not the typed address, which may be someone's password.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _throttle_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def backoff(attempts: int, free: int) -> timedelta | None:
    """How long to wait after this many attempts, or None while they are still free."""
    if attempts < free:
        return None
    return min(FIRST_BACKOFF * 2 ** min(attempts - free, 20), MAX_BACKOFF)


def _claim(key: str, free: int, now) -> None:
    """Count one attempt against the key, or raise Throttled if it must wait.

    One statement reads and raises the count, so parallel attempts each see a different count
    (the row is locked until the transaction ends on PostgreSQL; SQLite has one writer).
    """
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    stmt = insert(SignInThrottle).values(key=key, attempts=1, last_attempt_at=now)
    stale = SignInThrottle.last_attempt_at < now - THROTTLE_WINDOW
    stmt = stmt.on_conflict_do_update(
        index_elements=[SignInThrottle.key],
        set_={
            "attempts": case((stale, 1), else_=SignInThrottle.attempts + 1),
            "last_attempt_at": now,
            "blocked_until": None,
        },
        where=or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until <= now),
    ).returning(SignInThrottle.attempts)
    attempts = db.session.execute(stmt).scalar()
    if attempts is None:
        blocked_until = db.session.scalar(
            select(SignInThrottle.blocked_until).where(SignInThrottle.key == key)
        )
        raise Throttled(max((blocked_until or now) - now, timedelta(seconds=1)))
    wait = backoff(attempts, free)
    if wait is not None:
        db.session.execute(
            update(SignInThrottle).where(SignInThrottle.key == key).values(blocked_until=now + wait)
        )


def _unclaim(key: str) -> None:
    # A success is not a failure: the address's count only ever counts failures.
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key, SignInThrottle.attempts > 0)
        .values(attempts=SignInThrottle.attempts - 1, blocked_until=None)
    )


def check_throttle(email: str, ip: str | None) -> tuple[str, str | None]:
    """Count a sign-in attempt for the account from the address; raise Throttled if it must
    wait. Returns the keys counted, for authenticate to clear on success."""
    now = utcnow()
    account_key = _throttle_key("account", _email_key(email), ip or "")
    ip_key = _throttle_key("ip", ip) if ip else None
    _claim(account_key, FREE_ATTEMPTS_PER_ACCOUNT, now)
    if ip_key is not None:
        _claim(ip_key, FREE_ATTEMPTS_PER_IP, now)
    return account_key, ip_key


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The user if the e-mail and password match an active account, else None.

    Unknown addresses cost the same time as wrong passwords, and both get the same answer,
    so nobody can learn which addresses have accounts. Raises Throttled when the account has
    had too many recent failures from this network address, or the address too many overall.

    The attempt is counted and committed before the password is checked: the count must stand
    whatever happens next, and the check takes a quarter of a second that SQLite's one write
    lock should not be held for. A failure's audit row is committed here too, as the request
    that made it is answered with an error (which keeps nothing). These are the only commits
    a service makes: everything else commits with its request.
    """
    try:
        account_key, ip_key = check_throttle(email, ip)
    finally:  # a throttled attempt counts too (against the account, when the address is blocked)
        db.session.commit()
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
        db.session.commit()
        return None
    # This account's count from here, and anyone's that has lapsed (so the table only ever
    # holds the last day's attempts).
    db.session.execute(
        delete(SignInThrottle).where(
            or_(
                SignInThrottle.key == account_key,
                SignInThrottle.last_attempt_at < utcnow() - THROTTLE_WINDOW,
            )
        )
    )
    if ip_key is not None:
        _unclaim(ip_key)
    user.last_login_at = utcnow()
    record("signed_in", user, user=user)
    return user


# zxcvbn's scale: 0 too guessable ... 4 very unguessable; 3 resists an offline attack on a
# slow hash, which is what a stolen table of Argon2 hashes would face.
MIN_PASSWORD_SCORE = 3


def check_password_strength(password: str, *user_inputs: str) -> None:
    """Refuse short, common and pattern passwords (words, dates, keyboard runs, l33t, the
    account's own name or address), with zxcvbn's own advice in the message."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.",
            {"password": ["Too short."]},
        )
    # zxcvbn's cost grows quickly with length; past 100 characters the first 100 decide.
    # zxcvbn matches each input as one word: give it the parts of the name and address too.
    words = {w for u in user_inputs for w in [u, *re.split(r"[\W_]+", u)] if len(w) > 2}
    result = zxcvbn(password[:100], user_inputs=sorted(words))
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback.get("warning"), *feedback["suggestions"]]))
        message = "That password is too easy to guess: choose a longer or less common one."
        if advice:
            message += f" {advice}"
        raise ValidationError(message, {"password": [message]})


def set_password(user: User, password: str) -> None:
    """The one way a password is set: checked for strength, and every other session of the
    account ends (a stolen session should not outlive the password it was stolen with)."""
    check_password_strength(password, user.email, user.name or "")
    user.set_password(password)
    user.end_sessions()


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
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    record("user_created", user, summary=f"{email} as {role.value}")
    return user


def issue_token(user: User, name: str | None = None, expires_in_days: int | None = None) -> str:
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise ValidationError(
                f"A token expires after between 1 and {MAX_TOKEN_DAYS} days.",
                {"expires_in_days": [f"Enter a whole number from 1 to {MAX_TOKEN_DAYS}."]},
            )
        expires_at = utcnow() + timedelta(days=expires_in_days)
    if name is not None and len(name) > 200:
        raise ValidationError(
            "A token's name can be at most 200 characters.", {"name": ["Too long."]}
        )
    _token, plain = ApiToken.issue(user, name, expires_at)
    db.session.flush()
    record("api_token_issued", user, user=user)
    return plain


MAX_TOKEN_DAYS = 3660


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens (anyone else's is not found, as if it did not exist)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("There is no such token.")
    return token


def revoke_token(token_id: int, by: User | None = None) -> ApiToken:
    """Revoke a token; `by` (when given) may revoke only their own unless they are an admin."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (by is not None and token.user_id != by.id and by.role != Role.ADMIN):
        raise NotFound("There is no such token.")
    token.revoke()
    record("api_token_revoked", token.user, summary=f"token {token.id}")
    return token


def user_for_token(plain: str) -> User | None:
    """The token's user if the token is known, not revoked, not expired and the account active;
    the token's last use is noted (to the minute)."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain.strip()))
    )
    if token is None or not token.is_valid():
        return None
    token.note_use()
    return token.user


@login_manager.user_loader
def user_for_session(user_id: str) -> User | None:
    """The user a session or remember-me cookie names, as "id:generation" (User.get_id): one
    made before the account's last sign-out or password change carries an older generation,
    and names nobody."""
    raw_id, _, generation = str(user_id).partition(":")
    try:
        user = db.session.get(User, int(raw_id))
        generation = int(generation or 0)
    except (TypeError, ValueError):
        return None
    if user is None or generation != (user.session_generation or 0):
        return None
    return user


# --- managing accounts (admins) ---------------------------------------------------------


def users_list() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.email)))


def user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    return user


def _other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def _keep_an_admin(user: User, by: User) -> None:
    """Nobody may lock themselves out, nor leave the site without an active admin."""
    if user.id == by.id:
        message = (
            "You cannot change your own role or deactivate your own account: ask another admin."
        )
        raise ValidationError(message, {"role": [message]})
    if user.role == Role.ADMIN and user.active and _other_active_admins(user) == 0:
        message = "This is the only active admin: make another admin first."
        raise ValidationError(message, {"role": [message]})


def change_role(user: User, role: Role | str, by: User) -> User:
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError("Choose a role.", {"role": ["Unknown role."]}) from None
    if role == user.role:
        return user
    _keep_an_admin(user, by)
    old = user.role
    user.role = role
    # A session made under the old role must not keep its powers.
    user.end_sessions()
    record("user_role_changed", user, summary=f"{user.email}: {old.value} to {role.value}")
    return user


def deactivate_user(user: User, by: User) -> User:
    """The account can no longer sign in; its sessions end and its API tokens are revoked at
    once (revoked, not only refused while inactive, so a reactivation does not bring back a
    token that may have leaked meanwhile)."""
    if not user.active:
        return user
    _keep_an_admin(user, by)
    user.active = False
    user.end_sessions()
    revoked = 0
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoke()
            revoked += 1
    record("user_deactivated", user, summary=f"{user.email}; {revoked} API token(s) revoked")
    return user


def reactivate_user(user: User) -> User:
    if user.active:
        return user
    user.active = True
    record("user_reactivated", user, summary=user.email)
    return user


# --- invitations ------------------------------------------------------------------------

INVITATION_DAYS = 7
_INVITATION_SALT = "minutebook.invitation"


def invitation_serializer() -> URLSafeTimedSerializer:
    """Signs an invitation's token into its link (and checks a link's signature)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_INVITATION_SALT)


def invitation_roles(by: User) -> list[Role]:
    """Clerks invite members and viewers; only an admin may make staff accounts."""
    if by.role == Role.ADMIN:
        return [Role.MEMBER, Role.VIEWER, Role.CLERK, Role.ADMIN]
    return [Role.MEMBER, Role.VIEWER]


def invite(person: Person, role: Role | str, by: User, now=None) -> None:
    """Send the person an invitation to make an account, to the address on their record.

    Whether that address (or the person) already has an account changes only what the
    message says, never what the inviter is told: someone with an account is sent a
    reminder of how to sign in instead of a link. Any earlier open invitation for the
    person stops working. The message is queued in this transaction."""
    now = now or utcnow()
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError("Choose a role.", {"role": ["Unknown role."]}) from None
    if role not in invitation_roles(by):
        raise ValidationError(
            "Only an admin may invite a clerk or an admin.", {"role": ["Not allowed."]}
        )
    if not person.email:
        raise ValidationError(
            f"Add an e-mail address for {person.name} first.", {"email": ["No address."]}
        )
    email = normalise_email(person.email)
    for old in db.session.scalars(
        select(Invitation).where(
            Invitation.person_id == person.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    existing = find_user(email) or db.session.scalar(
        select(User).where(User.person_id == person.id)
    )
    record("invitation_sent", person, summary=f"to {email} as {role.value}")
    if existing is not None:
        signals.invited_with_an_account.send(person, email=email, now=now)
        return
    plain = secrets.token_urlsafe(32)
    invitation = Invitation(
        person=person,
        email=email,
        role=role,
        token_hash=hash_token(plain),
        invited_by_id=by.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    signals.invitation_created.send(invitation, link_token=invitation_serializer().dumps(plain))


class InvitationRefused(Exception):
    """The link is not one that can be used now. One message for every reason (used,
    expired, revoked, forged, or the address has an account meanwhile): the link's holder
    learns nothing about accounts from it."""

    message = (
        "This invitation link cannot be used: it has already been used, it has expired, or a "
        "newer invitation has replaced it. Ask the clerk to send you a new invitation."
    )


def open_invitation(token: str, now=None) -> Invitation:
    """The invitation a link names, if it may be used now; else InvitationRefused."""
    now = now or utcnow()
    try:
        plain = invitation_serializer().loads(token, max_age=INVITATION_DAYS * 86400 + 3600)
    except BadData:
        raise InvitationRefused from None
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(str(plain)))
    )
    if invitation is None or not invitation.is_open(now):
        raise InvitationRefused
    return invitation


def accept_invitation(token: str, password: str, now=None) -> User:
    """Make the invited person's account with this password; the link is used up. The
    invitation row is claimed with a guarded UPDATE, so the same link sent twice at once
    makes one account."""
    now = now or utcnow()
    invitation = open_invitation(token, now)
    person = invitation.person
    if find_user(invitation.email) is not None or (
        db.session.scalar(select(User.id).where(User.person_id == person.id)) is not None
    ):
        raise InvitationRefused
    check_password_strength(password, invitation.email, person.name)
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvitationRefused
    user = User(email=invitation.email, name=person.name, role=invitation.role, person=person)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("invitation_accepted", user, summary=f"{user.email} as {user.role.value}", user=user)
    return user
