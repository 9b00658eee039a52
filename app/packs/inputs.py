"""What a pack (or a minutes PDF) shows its audience, gathered once as plain values: the
templates render only from these, the content key is the hash of their canonical form, and
the manifest kept beside a built pack is that form. So nothing a pack shows can be left out
of its key, and the fallback to an older pack can ask what exactly the older one showed.

Gathering asks the model predicates and the services the pages ask (one visibility rule);
what an audience may not see never enters its inputs, so it cannot reach its PDF either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, is_dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.actions.models import Action
from app.actions.services import OPEN_STATUSES, actions_by_minute, as_minuted, tracker_query
from app.agenda import pdfsafety, revisions
from app.agenda.models import SCHEDULE_12A, AgendaItem, Document, ItemKind
from app.committees.models import Membership, MembershipRole
from app.core.permissions import CommitteeReader
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings.models import (
    MEMBERS_PACK,
    PUBLIC_PACK,
    Attendance,
    AttendanceStatus,
    Declaration,
    DeclarationKind,
    Meeting,
    MinutesState,
)
from app.meetings.services import previous_meeting
from app.minutes import queries as minute_queries
from app.minutes.models import Minute, Resolution, ResolutionVote

PUBLIC, MEMBERS = PUBLIC_PACK, MEMBERS_PACK
VARIANTS = (PUBLIC, MEMBERS)
Paragraphs = tuple[tuple[int, str], ...]  # Schedule 12A paragraph numbers with their words


@dataclass(frozen=True)
class Name:
    display_name: str  # as the shared record phrases (minutes/_record.html) ask for it


@dataclass(frozen=True)
class Row:
    """An agenda row. Purpose and urgent reason are present only where this audience may
    read them (`shown`: the item is shown in full)."""

    id: int
    kind: str
    number: str
    heading: str | None
    title: str
    presenter: str | None
    urgent: bool
    urgent_reason: str | None
    restricted: bool
    purpose: str | None
    paragraphs: Paragraphs
    shown: bool


@dataclass(frozen=True)
class Withheld:
    """The NOT FOR PUBLICATION page the public gets in place of a restricted item's papers."""

    visibility: str
    paragraphs: Paragraphs
    reason: str | None


@dataclass(frozen=True)
class Paper:
    """A run of pages in the pack and where it comes from: an uploaded document (by its
    hash), the previous minutes, the action log, or a withheld page."""

    item_id: int
    number: str
    title: str
    kind: str  # "document", "withheld", "minutes", "to_follow", "actions"
    restricted: bool = False
    document_id: int | None = None
    sha256: str | None = None
    pages: int = 0  # known up front for uploads; rendered parts are counted when built
    withheld: Withheld | None = None
    # Whether the upload's checked copy was ready: a pack built without it shows placeholder
    # pages, and must not be served once the paper is put right (uploaded again).
    checked: bool = True


@dataclass(frozen=True)
class MinuteItem:
    exempt_paragraphs: tuple[int, ...]
    effective_visibility: str


@dataclass(frozen=True)
class Vote:
    vote: str
    person: Name


@dataclass(frozen=True)
class ResolutionRow:
    id: int
    ordinal: int
    kind: str
    text: str
    recommended_to: str | None
    votes_for: int | None
    votes_against: int | None
    abstentions: int | None
    votes: tuple[Vote, ...]


@dataclass(frozen=True)
class MinuteAction:
    id: int
    title: str
    owner: Name | None
    due_date: date | None


@dataclass(frozen=True)
class MinuteRow:
    """A minute as this audience may read it. One it may not read (`withheld`) keeps only its
    number and the grounds its heading cites."""

    id: int
    display_number: str
    withheld: bool
    restricted: bool
    item: MinuteItem | None
    agenda_item_id: int | None
    title: str = ""
    text: str = ""
    resolutions: tuple[ResolutionRow, ...] = ()
    actions: tuple[MinuteAction, ...] = ()


@dataclass(frozen=True)
class Attendee:
    person: Name
    status: str
    in_chair: bool
    capacity: str | None
    substitute_for: Name | None
    arrived_at_item_id: int | None
    left_at_item_id: int | None


@dataclass(frozen=True)
class DeclarationRow:
    id: int
    item_id: int  # the item whose minute records it
    person: Name
    kind: DeclarationKind  # a StrEnum: its .value is what the record's phrases look up
    nature: str
    withdrew: bool


@dataclass(frozen=True)
class Quorum:
    present: int
    required: int | None
    quorate: bool | None


@dataclass(frozen=True)
class MinutesInputs:
    """The minutes of one meeting as an audience may read them."""

    meeting_id: int
    committee_name: str
    starts_at: datetime
    timezone: str
    draft: bool
    attendance: tuple[Attendee, ...]
    quorum: Quorum
    declarations: tuple[DeclarationRow, ...]
    minutes: tuple[MinuteRow, ...]
    item_numbers: tuple[tuple[int, str], ...]
    approved_at: datetime | None  # when the meeting that approved them was held
    approval_amendments: str | None
    chair_signed_name: str | None
    chair_signed_on: date | None


@dataclass(frozen=True)
class ActionRow:
    id: int
    reference: str
    title: str
    owner: str | None
    due_date: date | None
    overdue: bool
    note: str | None
    rag: str | None


@dataclass(frozen=True)
class ActionLog:
    as_at: date  # the date it speaks for, from the data (see _as_at)
    rows: tuple[ActionRow, ...]


@dataclass(frozen=True)
class Front:
    """The front sheet's facts."""

    committee_name: str
    long_date: str
    starts_at: datetime
    timezone: str
    venue: str | None
    status: str
    status_reason: str | None
    published_at: datetime | None
    revision: int
    revised_at: datetime | None  # the latest publication
    # Each revision published after the deadline, with its reason: (revision, reason).
    late: tuple[tuple[int, str], ...]
    clerk_name: str | None
    clerk_email: str | None
    clerk_phone: str | None
    membership: tuple[str, ...]  # as printed: "Councillor Lakin (Chair)"
    # What the supplement printed changed, in the public words of its publication.
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviousMinutes:
    meeting_id: int
    long_date: str
    committee_name: str
    minutes: MinutesInputs | None  # None: not open to this audience yet ("to follow")


@dataclass(frozen=True)
class PackInputs:
    variant: str
    meeting_id: int
    front: Front
    rows: tuple[Row, ...]
    papers: tuple[Paper, ...]
    previous: PreviousMinutes | None
    action_log: ActionLog | None


def reader_for(meeting: Meeting, variant: str):
    """Who a variant is for, as the permission predicates understand it: the public pack is
    what an anonymous visitor may see, the members' pack what any member may see."""
    return CommitteeReader(meeting.committee_id) if variant == MEMBERS else None


def long_date(meeting: Meeting) -> str:
    local = meeting.local_start
    return f"{local:%A} {local.day} {local:%B %Y}"


def _name(person) -> Name | None:
    return Name(person.display_name) if person is not None else None


def _paragraphs(numbers) -> Paragraphs:
    return tuple((p, SCHEDULE_12A[p]) for p in numbers)


# --- gathering ---------------------------------------------------------------------------


def _load_items(meeting: Meeting) -> list[tuple[AgendaItem, str]]:
    # One query per kind of thing, whatever the meeting's size: the key is worked out on
    # every request for a pack.
    db.session.scalars(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting.id)
        .options(
            selectinload(AgendaItem.children),
            selectinload(AgendaItem.paragraph_rows),
            selectinload(AgendaItem.presenter),
            selectinload(AgendaItem.documents).selectinload(Document.paragraph_rows),
        )
    ).all()
    return meeting.numbered_items()


def minutes_inputs(meeting: Meeting, include_restricted: bool) -> MinutesInputs:
    """The minutes as the meeting page shows them (the same helpers): a restricted minute this
    audience may not see keeps its place as a heading only; actions are those of the minutes
    shown (whoever may see a minute may see its actions)."""
    numbered = _load_items(meeting)
    committee = meeting.committee
    minutes = db.session.scalars(
        select(Minute)
        .where(Minute.meeting_id == meeting.id)
        .order_by(Minute.number)
        .options(
            selectinload(Minute.resolutions)
            .selectinload(Resolution.votes)
            .selectinload(ResolutionVote.person)
        )
    ).all()
    db.session.scalars(
        select(Attendance)
        .where(Attendance.meeting_id == meeting.id)
        .options(selectinload(Attendance.person), selectinload(Attendance.substitute_for))
    ).all()
    db.session.scalars(
        select(Declaration)
        .where(Declaration.meeting_id == meeting.id)
        .options(selectinload(Declaration.person))
    ).all()
    shown = [m for m in minutes if include_restricted or not m.restricted]
    actions = actions_by_minute(shown)
    minuted = as_minuted(a for found in actions.values() for a in found)
    declared = minute_queries.declarations_by_item(meeting, include_restricted)
    quorum = attendance_services.quorum(meeting)
    rows = []
    for m in minutes:
        item = (
            MinuteItem(tuple(m.item.exempt_paragraphs), m.item.effective_visibility.value)
            if m.item is not None
            else None
        )
        if not include_restricted and m.restricted:
            rows.append(MinuteRow(m.id, m.display_number, True, True, item, m.agenda_item_id))
            continue
        rows.append(
            MinuteRow(
                m.id,
                m.display_number,
                False,
                m.restricted,
                item,
                m.agenda_item_id,
                m.title,
                m.text,
                tuple(
                    ResolutionRow(
                        r.id,
                        r.ordinal,
                        r.kind.value,
                        r.text,
                        r.recommended_to,
                        r.votes_for,
                        r.votes_against,
                        r.abstentions,
                        tuple(
                            Vote(v.vote.value, _name(v.person))
                            for v in sorted(r.votes, key=lambda v: v.id)
                        ),
                    )
                    for r in m.resolutions
                ),
                tuple(
                    MinuteAction(
                        a.id,
                        minuted[a.id].title,
                        Name(minuted[a.id].owner) if minuted[a.id].owner else None,
                        minuted[a.id].due_date,
                    )
                    for a in actions.get(m.id, [])
                ),
            )
        )
    attendance = [
        Attendee(
            _name(a.person),
            status.value,
            a.in_chair,
            a.capacity,
            _name(a.substitute_for),
            a.arrived_at_item_id,
            a.left_at_item_id,
        )
        for status in AttendanceStatus
        for a in meeting.attendance_by_status(status)
    ]
    approved_at = meeting.approved_at_meeting
    return MinutesInputs(
        meeting_id=meeting.id,
        committee_name=committee.name,
        starts_at=meeting.starts_at,
        timezone=meeting.timezone,
        draft=meeting.minutes_state != MinutesState.APPROVED,
        attendance=tuple(attendance),
        quorum=Quorum(quorum.present, quorum.required, quorum.quorate),
        declarations=tuple(
            DeclarationRow(d.id, item_id, _name(d.person), d.kind, d.nature, d.withdrew)
            for item_id, ds in declared.items()
            for d in ds
        ),
        minutes=tuple(rows),
        item_numbers=tuple((i.id, n) for i, n in numbered),
        approved_at=approved_at.starts_at if approved_at is not None else None,
        approval_amendments=meeting.approval_amendments,
        chair_signed_name=meeting.chair_signed_name,
        chair_signed_on=meeting.chair_signed_on,
    )


def _action_log_query(meeting: Meeting, reader):
    return tracker_query(meeting.committee_id, user=reader, for_reader=True).where(
        Action.status.in_(OPEN_STATUSES)
    )


def action_log(meeting: Meeting, reader) -> list[Action]:
    """Open actions as the action tracker shows them to this reader (the same query)."""
    return list(
        db.session.scalars(
            _action_log_query(meeting, reader).options(
                selectinload(Action.owner),
                selectinload(Action.updates),
                selectinload(Action.minute),
                selectinload(Action.resolution)
                .selectinload(Resolution.minute)
                .selectinload(Minute.resolutions),
            )
        )
    )


def _as_at(meeting: Meeting, actions: list[Action]) -> date:
    """The date the action log speaks for ("overdue" is judged on it): the later of the
    agenda's publication and the last progress reported on a listed action. Taken from the
    data, not the clock, so an unchanged pack stays the same from one day to the next."""
    moments = [a.latest_update.created_at for a in actions if a.latest_update]
    published = [p.published_at for p in meeting.publications]
    moments.append(
        max(published) if published else (meeting.agenda_published_at or meeting.created_at)
    )
    return max(m.astimezone(meeting.tz) for m in moments if m is not None).date()


def _action_log(meeting: Meeting, reader) -> ActionLog:
    actions = action_log(meeting, reader)
    as_at = _as_at(meeting, actions)
    rows = []
    for a in actions:
        source = a.source_minute
        reference = a.reference or (
            a.resolution.reference if a.resolution else (source.display_number if source else "")
        )
        latest = a.latest_update
        rows.append(
            ActionRow(
                a.id,
                reference,
                a.title,
                a.owner.display_name if a.owner else None,
                a.due_date,
                a.is_overdue(as_at),
                latest.note if latest and latest.note else None,
                a.rag.value if a.rag else None,
            )
        )
    return ActionLog(as_at, tuple(rows))


def _front(meeting: Meeting, revision: int | None = None) -> Front:
    committee = meeting.committee
    db.session.scalars(
        select(Membership)
        .where(Membership.committee_id == committee.id)
        .options(selectinload(Membership.person))
    ).all()
    named = (MembershipRole.CHAIR, MembershipRole.VICE_CHAIR)
    membership = tuple(
        m.person.display_name + (f" ({m.role.label})" if m.role in named else "")
        for m in committee.current_memberships(meeting.local_start.date())
    )
    # As of the revision printed: a later supplement is not part of an earlier pack.
    publications = [p for p in meeting.publications if revision is None or p.revision <= revision]
    return Front(
        committee_name=committee.name,
        long_date=long_date(meeting),
        starts_at=meeting.starts_at,
        timezone=meeting.timezone,
        venue=meeting.venue,
        status=meeting.status.value,
        status_reason=meeting.status_reason,
        published_at=meeting.agenda_published_at,
        revision=meeting.agenda_revision if revision is None else revision,
        revised_at=publications[-1].published_at if publications else None,
        late=tuple((p.revision, p.late_reason or "") for p in publications if p.late),
        clerk_name=committee.clerk_name,
        clerk_email=committee.clerk_email,
        clerk_phone=committee.clerk_phone,
        membership=membership,
        changes=tuple(
            line
            for line in (
                publications[-1].summary or ""
                if publications and publications[-1].revision > 1
                else ""
            ).splitlines()
            if line.strip()
        ),
    )


def pack_inputs(meeting: Meeting, variant: str, agenda=None) -> PackInputs:
    """Everything the pack shows this audience, in agenda order: of `agenda` (a published
    revision or the working copy, agenda.revisions.Agenda), by default the latest revision."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    members = variant == MEMBERS
    reader = reader_for(meeting, variant)
    _load_items(meeting)
    if agenda is None:  # before the first publication, the draft (for staff)
        agenda = revisions.published(meeting) if meeting.agenda_revision else None
        agenda = agenda or revisions.working_copy(meeting)
    numbered = agenda.numbered_items()
    previous = previous_meeting(meeting)
    previous_minutes = None
    log = None
    rows, papers = [], []
    section = None
    for item, number in numbered:
        heading = None
        if item.parent_id is None and item.section != section:
            section = heading = item.section
        shown = members or not item.restricted
        rows.append(
            Row(
                id=item.id,
                kind=item.kind.value,
                number=number,
                heading=heading,
                title=item.title,
                presenter=item.presenter_name,
                urgent=item.urgent,
                urgent_reason=item.urgent_reason if shown else None,
                restricted=item.restricted,
                purpose=item.purpose if shown else None,
                paragraphs=_paragraphs(item.exempt_paragraphs),
                shown=shown,
            )
        )
        if item.kind == ItemKind.PREVIOUS_MINUTES and previous is not None:
            title = f"Minutes of the meeting held on {long_date(previous)}"
            record = None
            if previous.can_see_minutes(reader):
                record = minutes_inputs(previous, previous.can_see_restricted(reader))
            else:
                title += " (to follow)"  # draft minutes this audience may not see yet
            previous_minutes = PreviousMinutes(
                previous.id, long_date(previous), previous.committee.name, record
            )
            kind = "minutes" if record is not None else "to_follow"
            papers.append(Paper(item.id, number, title, kind))
        if item.kind == ItemKind.MATTERS_ARISING:
            log = _action_log(meeting, reader)
            papers.append(Paper(item.id, number, "Action log", "actions"))
        withheld_item = False
        for doc in item.documents:
            restricted = doc.restricted
            if restricted and not members:
                if item.restricted and withheld_item:
                    continue  # one page stands for all of a restricted item's papers
                withheld_item = True
                # The paper's own title may itself say too much: the public sees the item's.
                notice = Withheld(
                    (doc.visibility if doc.visibility.restricted else item.visibility).value,
                    _paragraphs(doc.exempt_paragraphs or item.exempt_paragraphs),
                    doc.public_interest_reason or item.public_interest_reason,
                )
                papers.append(
                    Paper(
                        item.id,
                        number,
                        f"Item {number}: not for publication",
                        "withheld",
                        restricted=True,
                        pages=1,
                        withheld=notice,
                    )
                )
                continue  # a confidential paper in an open item hides only itself
            papers.append(
                Paper(
                    item.id,
                    number,
                    doc.title,
                    "document",
                    restricted=restricted,
                    document_id=doc.id,
                    sha256=doc.sha256,
                    pages=doc.page_count,
                    checked=pdfsafety.safe_copy_path(doc.sha256).exists(),
                )
            )
    return PackInputs(
        variant=variant,
        meeting_id=meeting.id,
        front=_front(meeting, agenda.revision),
        rows=tuple(rows),
        papers=tuple(papers),
        previous=previous_minutes,
        action_log=log,
    )


# --- the canonical form, the key and what a pack shows -----------------------------------


def _plain(value):
    # Called by the JSON encoder for what it does not know. A dataclass is given as its own
    # fields (not dataclasses.asdict, which deep-copies everything first: this runs on every
    # request for a pack).
    if is_dataclass(value):
        return vars(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not a plain value: {value!r}")


def canonical(inputs) -> bytes:
    """The inputs as canonical JSON: the manifest kept beside a pack, and what its key hashes."""
    return json.dumps(
        inputs, default=_plain, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def key_of(serialised: bytes, *salt: str) -> str:
    digest = hashlib.sha256()
    for part in salt:
        digest.update(part.encode() + b"\0")
    digest.update(serialised)
    return digest.hexdigest()


# What a pack shows in full, by kind of thing; see identities().
SHOWN_KINDS = ("items", "documents", "meetings", "minutes", "declarations", "actions")


def identities(data: dict) -> dict[str, set[int]]:
    """Everything a pack shows in full, by identity, from its inputs' canonical form (a
    manifest read back, or current inputs): the items whose purpose it prints, the uploaded
    papers it carries, the previous meeting and its minutes, declarations and actions, and
    the action log's rows. An older pack may be served while a rebuild fails only if all of
    this is still shown now (packs.cache)."""
    out: dict[str, set[int]] = {kind: set() for kind in SHOWN_KINDS}
    out["items"] = {r["id"] for r in data["rows"] if r["shown"]}
    out["documents"] = {p["document_id"] for p in data["papers"] if p["kind"] == "document"}
    previous = data["previous"]
    if previous is not None:
        out["meetings"].add(previous["meeting_id"])
        record = previous["minutes"]
        if record is not None:
            shown = [m for m in record["minutes"] if not m["withheld"]]
            out["minutes"] = {m["id"] for m in shown}
            out["declarations"] = {d["id"] for d in record["declarations"]}
            out["actions"] = {a["id"] for m in shown for a in m["actions"]}
    if data["action_log"] is not None:
        out["actions"] |= {a["id"] for a in data["action_log"]["rows"]}
    return out
