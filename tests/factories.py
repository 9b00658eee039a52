"""Small builders for test records. Each flushes, so ids are set, and leaves committing to
the test."""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime, timedelta

from app.auth.models import User
from app.committees.models import Committee, Membership, MembershipRole
from app.core.permissions import Role
from app.extensions import db
from app.models import (
    AgendaItem,
    AgendaState,
    Attendance,
    AttendanceStatus,
    Document,
    ItemKind,
    Meeting,
    Minute,
    MinutesState,
    Resolution,
    ResolutionKind,
    Visibility,
)
from app.people.models import Person

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


@functools.cache
def _default_password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    from app.auth.models import _hasher

    return _hasher.hash(PASSWORD)


def person(name: str | None = None, **kw) -> Person:
    p = Person(name=name or f"Person {next(_seq)}", **kw)
    db.session.add(p)
    db.session.flush()
    return p


def user(
    role: Role | str = Role.VIEWER,
    email: str | None = None,
    person: Person | None = None,
    password: str = PASSWORD,
    **kw,
) -> User:
    u = User(
        email=email or f"user{next(_seq)}@example.org",
        name=kw.pop("name", "Test User"),
        role=Role(role),
        person=person,
        **kw,
    )
    if password == PASSWORD:
        u.password_hash = _default_password_hash()
    else:
        u.set_password(password)
    db.session.add(u)
    db.session.flush()
    return u


def committee(name: str | None = None, **kw) -> Committee:
    name = name or f"Committee {next(_seq)}"
    from app.committees.services import slugify

    c = Committee(name=name, slug=kw.pop("slug", slugify(name)), **kw)
    db.session.add(c)
    db.session.flush()
    return c


def membership(
    committee: Committee, person: Person, role: MembershipRole = MembershipRole.MEMBER, **kw
) -> Membership:
    m = Membership(committee=committee, person=person, role=role, **kw)
    db.session.add(m)
    db.session.flush()
    return m


def member_user(committee: Committee, role: Role = Role.MEMBER, **kw) -> User:
    """A signed-in-able member of the committee."""
    p = person()
    membership(committee, p, kw.pop("membership_role", MembershipRole.MEMBER))
    return user(role, person=p, **kw)


def meeting(committee: Committee, starts_at: datetime | None = None, **kw) -> Meeting:
    starts_at = starts_at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    m = Meeting(committee=committee, starts_at=starts_at, timezone=committee.timezone, **kw)
    db.session.add(m)
    db.session.flush()
    return m


def published_meeting(committee: Committee, **kw) -> Meeting:
    return meeting(
        committee,
        agenda_state=AgendaState.PUBLISHED,
        agenda_published_at=datetime.now(UTC),
        agenda_revision=1,
        **kw,
    )


def item(meeting: Meeting, title: str = "Report", position: int | None = None, **kw) -> AgendaItem:
    if position is None:
        siblings = [i for i in meeting.items if i.parent_id == kw.get("parent_id")]
        position = max((i.position for i in siblings), default=-1) + 1
    i = AgendaItem(
        meeting=meeting,
        title=title,
        position=position,
        kind=kw.pop("kind", ItemKind.BUSINESS),
        **kw,
    )
    db.session.add(i)
    db.session.flush()
    return i


def exempt_item(meeting: Meeting, title: str = "Staffing restructure", paragraphs=(1,), **kw):
    i = item(
        meeting,
        title,
        visibility=Visibility.EXEMPT,
        public_interest_reason="The public interest in maintaining the exemption "
        "outweighs the public interest in disclosing the information.",
        **kw,
    )
    i.exempt_paragraphs = list(paragraphs)
    db.session.flush()
    return i


def document(item: AgendaItem, title: str = "Report", **kw) -> Document:
    d = Document(
        item=item,
        title=title,
        filename=kw.pop("filename", "report.pdf"),
        sha256=kw.pop("sha256", "0" * 64),
        size_bytes=kw.pop("size_bytes", 1000),
        page_count=kw.pop("page_count", 1),
        position=len(item.documents),
        **kw,
    )
    db.session.add(d)
    db.session.flush()
    return d


def minute(
    meeting: Meeting,
    number: int,
    title: str = "Minute",
    item: AgendaItem | None = None,
    text: str = "",
    **kw,
) -> Minute:
    m = Minute(
        committee=meeting.committee,
        meeting=meeting,
        number=number,
        title=title,
        item=item,
        text=text,
        **kw,
    )
    db.session.add(m)
    db.session.flush()
    return m


def resolution(
    minute: Minute,
    text: str,
    ordinal: int | None = None,
    kind: ResolutionKind = ResolutionKind.RESOLVED,
    **kw,
) -> Resolution:
    r = Resolution(
        minute=minute, text=text, kind=kind, ordinal=ordinal or len(minute.resolutions) + 1, **kw
    )
    db.session.add(r)
    db.session.flush()
    return r


def attendance(
    meeting: Meeting, person: Person, status: AttendanceStatus = AttendanceStatus.PRESENT, **kw
) -> Attendance:
    a = Attendance(meeting=meeting, person=person, status=status, **kw)
    db.session.add(a)
    db.session.flush()
    return a


def with_minutes_state(meeting: Meeting, state: MinutesState) -> Meeting:
    meeting.minutes_state = state
    if state == MinutesState.APPROVED:
        meeting.minutes_approved_at = datetime.now(UTC)
    db.session.flush()
    return meeting
