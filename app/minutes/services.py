"""Minute-taking: numbering, narrative, resolutions, approval and corrections.

Minute numbers run on across a committee's meetings. They are handed out in agenda order when
the minutes are first drafted and are never reused, so a number, once given, always means the
same minute ("Minute No. 86(1) refers")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.agenda import signals as agenda_signals
from app.agenda.models import AgendaItem, ItemKind
from app.audit.services import record
from app.committees.models import VOTING_ROLES, Committee
from app.core import text as rules
from app.core.db import utcnow
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.meetings.models import AttendanceStatus, Meeting, MinutesState
from app.minutes import signals
from app.minutes.models import (
    Minute,
    MinuteRevision,
    Resolution,
    ResolutionKind,
    ResolutionVote,
    RevisionKind,
    VoteChoice,
)
from app.people.models import Person

MAX_TEXT = 200_000


def next_minute_number(committee: Committee) -> int:
    highest = db.session.scalar(
        select(func.max(Minute.number)).where(Minute.committee_id == committee.id)
    )
    return max(
        committee.first_minute_number,
        (highest or 0) + 1,
        (committee.last_minute_number or 0) + 1,
    )


def _issue_number(committee: Committee) -> int:
    number = next_minute_number(committee)
    committee.last_minute_number = number
    return number


def _lock_committee(committee: Committee) -> None:
    """Serialise numbering per committee on PostgreSQL (SQLite serialises all writers)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Committee.id).where(Committee.id == committee.id).with_for_update()
        )


def _urgent_preamble(item: AgendaItem) -> str:
    return (
        "The Chair agreed that this item be considered as a matter of urgency for the "
        f"following reason: {item.urgent_reason.strip()}"
    )


def draft_minutes(meeting: Meeting, user=None) -> list[Minute]:
    """Give every top-level agenda item without a minute its minute and number, in agenda
    order. Existing minutes keep their numbers; later calls only add what is missing."""
    if meeting.minutes_locked:
        raise Conflict("These minutes are approved and locked.")
    _lock_committee(meeting.committee)
    have = {
        m.agenda_item_id
        for m in db.session.scalars(select(Minute).where(Minute.meeting_id == meeting.id))
    }
    created = []
    for item, _n in meeting.numbered_items():
        if item.parent_id is not None or item.id in have:
            continue
        text = _urgent_preamble(item) if item.urgent and item.urgent_reason else ""
        minute = Minute(
            committee=meeting.committee,
            meeting=meeting,
            item=item,
            number=_issue_number(meeting.committee),
            title=item.title,
            text=text,
        )
        db.session.add(minute)
        if item.kind == ItemKind.EXCLUSION and item.purpose:
            # The exclusion item's draft resolution is what the meeting resolves.
            minute.resolutions.append(Resolution(ordinal=1, text=item.purpose))
        created.append(minute)
    if meeting.minutes_state == MinutesState.NONE:
        meeting.minutes_state = MinutesState.DRAFT
    db.session.flush()
    for minute in created:
        _snapshot(minute, user)
    record("minutes_drafted", meeting, user=user, numbers=[m.number for m in created])
    return created


def add_standalone_minute(meeting: Meeting, title: str, text: str = "", user=None) -> Minute:
    if meeting.minutes_locked:
        raise Conflict("These minutes are approved and locked.")
    title = _title(title)
    _lock_committee(meeting.committee)
    minute = Minute(
        committee=meeting.committee,
        meeting=meeting,
        title=title,
        text=_check_text(text),
        number=_issue_number(meeting.committee),
    )
    db.session.add(minute)
    if meeting.minutes_state == MinutesState.NONE:
        meeting.minutes_state = MinutesState.DRAFT
    db.session.flush()
    _snapshot(minute, user)
    return minute


def _check_text(text: str | None) -> str:
    return rules.text_field(text, "text", MAX_TEXT, multiline=True, label="The minute") or ""


def _title(title: str | None) -> str:
    return rules.text_field(title, "title", rules.TITLE, label="The title", required=True)


def _snapshot(
    minute: Minute, user, kind: RevisionKind = RevisionKind.EDIT, reason: str | None = None
) -> MinuteRevision:
    revision = MinuteRevision(
        minute=minute,
        version=minute.version,
        title=minute.title,
        text=minute.text,
        kind=kind,
        reason=reason,
        edited_by_id=getattr(user, "id", None),
    )
    db.session.add(revision)
    return revision


def save_minute(
    minute: Minute, text: str, expected_version: int | None, user=None, title: str | None = None
) -> Minute:
    """Save a draft minute. A save based on an older version is refused with both texts, so
    the second clerk can merge by hand and nothing is lost."""
    if minute.locked:
        raise Conflict("These minutes are approved and locked. Record a correction instead.")
    text = _check_text(text)
    if expected_version is not None and expected_version != minute.version:
        raise Conflict(
            "Someone else saved this minute while you were editing it. Your text has not been "
            "saved: compare it with theirs, merge the two and save again.",
            {"text": [minute.text], "version": [str(minute.version)]},
        )
    if title is not None:
        minute.title = title = _title(title)
    if text == minute.text and title in (None, minute.title) and minute.revisions:
        return minute
    minute.text = text
    minute.version += 1
    db.session.flush()
    _snapshot(minute, user)
    return minute


def correct_minute(minute: Minute, text: str, reason: str, user=None) -> Minute:
    """Correct an approved minute: the approved text stays in the history with the reason."""
    if not minute.locked:
        raise Conflict("These minutes are not approved yet; edit them instead.")
    reason = rules.text_field(
        reason, "reason", rules.SHORT_TEXT, multiline=True, label="The reason"
    )
    if not reason:
        raise ValidationError(
            "Give the reason for the correction.", {"reason": ["Enter the reason."]}
        )
    minute.text = _check_text(text)
    minute.version += 1
    db.session.flush()
    _snapshot(minute, user, RevisionKind.CORRECTION, reason)
    record("minute_corrected", minute, user=user, summary=reason)
    return minute


def voters(meeting: Meeting) -> list[Person]:
    """Who may have a named vote: the voting members on the day who were there, and the
    substitutes in place of those who were not. A member who sent apologies, was absent or
    was replaced by a substitute has no vote; once the register records anyone as present,
    only those it records as present vote."""
    on = meeting.local_start.date()
    rows = {a.person_id: a for a in meeting.attendance}
    replaced = {a.substitute_for_id for a in rows.values() if a.substitute_for_id}
    register_taken = any(a.status == AttendanceStatus.PRESENT for a in rows.values())
    people = []
    for m in meeting.committee.current_memberships(on):
        row = rows.get(m.person_id)
        if m.role not in VOTING_ROLES or m.person_id in replaced:
            continue
        if row is not None and row.status != AttendanceStatus.PRESENT:
            continue
        if row is None and register_taken:
            continue
        people.append(m.person)
    people += [a.person for a in rows.values() if a.status == AttendanceStatus.SUBSTITUTE]
    # One vote each, though someone may hold two voting memberships.
    return list({p.id: p for p in people}.values())


def _voter(minute: Minute, who) -> Person | None:
    """A named vote names a person by id, or by name among the meeting's voters."""
    if isinstance(who, Person):
        who = who.id
    if isinstance(who, int) and not isinstance(who, bool):
        # Only those who may vote at this meeting, as the form offers.
        return next((p for p in voters(minute.meeting) if p.id == who), None)
    if isinstance(who, str) and who.strip():
        wanted = " ".join(who.split()).lower()
        matches = [
            p for p in voters(minute.meeting) if wanted in (p.name.lower(), p.display_name.lower())
        ]
        return matches[0] if len(matches) == 1 else None
    return None


def add_resolution(
    minute: Minute,
    text: str,
    kind: ResolutionKind | str = ResolutionKind.RESOLVED,
    votes_for: int | None = None,
    votes_against: int | None = None,
    abstentions: int | None = None,
    recommended_to: str | None = None,
    user=None,
    named_votes: list[tuple[int, str]] | None = None,
) -> Resolution:
    """The next numbered resolution; votes as counts, or named (person id or member's name,
    for/against/abstain) when the minutes record how each member voted, and then the counts
    follow from the names."""
    if minute.locked:
        raise Conflict("These minutes are approved and locked.")
    errors: dict[str, list[str]] = {}
    votes = []
    for who, choice in named_votes or []:
        person = _voter(minute, who)
        try:
            votes.append((person, VoteChoice(choice)))
        except ValueError:
            errors["votes"] = ["Each vote is for, against or abstain."]
        if person is None:
            errors["votes"] = [
                f"No member called {who!r} on the day; use their name as in the register."
                if isinstance(who, str)
                else "Only the voting members present, and substitutes in place of absent "
                "ones, may have a named vote."
            ]
    if len({p.id for p, _ in votes if p}) != len(votes):
        errors.setdefault("votes", ["Each person votes once."])
    try:
        text = rules.clean_text(text, rules.LONG_TEXT, multiline=True, label="The resolution")
    except ValueError as exc:
        errors["text"], text = [str(exc)], None
    if not text and "text" not in errors:
        errors["text"] = ["Enter the resolution."]
    try:
        kind = ResolutionKind(kind)
    except ValueError:
        errors["kind"] = ["Choose resolved, recommended or noted."]
    for name, value in (
        ("votes_for", votes_for),
        ("votes_against", votes_against),
        ("abstentions", abstentions),
    ):
        if value is not None and (not isinstance(value, int) or value < 0):
            errors[name] = ["Enter a whole number, 0 or more."]
    if votes and not errors:
        # The counts follow from the names; counts given as well must agree with them.
        named = {
            "votes_for": sum(v == VoteChoice.FOR for _, v in votes),
            "votes_against": sum(v == VoteChoice.AGAINST for _, v in votes),
            "abstentions": sum(v == VoteChoice.ABSTAIN for _, v in votes),
        }
        given = {"votes_for": votes_for, "votes_against": votes_against, "abstentions": abstentions}
        for name, value in given.items():
            if value is not None and value != named[name]:
                errors[name] = [
                    f"The named votes give {named[name]} here, not {value}: leave the counts "
                    "empty when you name how each member voted."
                ]
        votes_for, votes_against, abstentions = (
            named["votes_for"],
            named["votes_against"],
            named["abstentions"],
        )
    try:
        recommended_to = rules.clean_text(
            recommended_to, rules.LINE, label="The body recommended to"
        )
    except ValueError as exc:
        errors["recommended_to"], recommended_to = [str(exc)], None
    if kind == ResolutionKind.RECOMMENDED and not recommended_to:
        errors["recommended_to"] = ["Name the body the recommendation goes to."]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    ordinal = max((r.ordinal for r in minute.resolutions), default=0) + 1
    resolution = Resolution(
        minute=minute,
        ordinal=ordinal,
        kind=kind,
        text=text,
        votes_for=votes_for,
        votes_against=votes_against,
        abstentions=abstentions,
        recommended_to=recommended_to,
    )
    resolution.votes = [ResolutionVote(person=p, vote=v) for p, v in votes]
    db.session.add(resolution)
    db.session.flush()
    record("resolution_added", resolution, user=user, minute=minute.number)
    return resolution


def delete_minute(minute: Minute, user=None) -> int:
    """Delete a draft minute (say, one numbered for an item that was withdrawn). Its number
    stays issued: the committee's high-water mark is kept, so the number is never reused and
    "Minute No. N" can never come to mean something else. Returns the deleted number."""
    if minute.locked:
        raise Conflict("These minutes are approved and locked. Record a correction instead.")
    resolution_ids = [r.id for r in minute.resolutions]
    reasons = [
        reason
        for _receiver, found in signals.removal_blockers.send(minute, resolution_ids=resolution_ids)
        for reason in found or ()
    ]
    if reasons:
        raise Conflict(" ".join(reasons))
    _lock_committee(minute.committee)
    committee, number = minute.committee, minute.number
    committee.last_minute_number = max(committee.last_minute_number or 0, number)
    meeting = minute.meeting
    db.session.delete(minute)
    db.session.flush()
    record("minute_deleted", meeting, user=user, number=number, title=minute.title)
    return number


def publish_minutes(meeting: Meeting, user=None) -> None:
    """Circulate the draft minutes (members see them; the public too where allowed)."""
    if meeting.minutes_state != MinutesState.DRAFT:
        raise Conflict("Only draft minutes can be published.")
    meeting.minutes_state = MinutesState.PUBLISHED
    meeting.minutes_published_at = utcnow()
    meeting.version += 1
    db.session.flush()
    record("minutes_published", meeting, user=user)
    signals.minutes_published.send(meeting, user=user)


def approve_minutes(
    meeting: Meeting,
    at_meeting: Meeting,
    amendments: str | None = None,
    chair_name: str | None = None,
    signed_on: date | None = None,
    user=None,
) -> None:
    """Approve as a correct record at a later meeting of the same committee; this locks them."""
    if meeting.minutes_locked:
        raise Conflict("These minutes are already approved.")
    if meeting.minutes_state == MinutesState.NONE:
        raise Conflict("There are no minutes to approve.")
    errors = {}
    if at_meeting.committee_id != meeting.committee_id:
        errors["at_meeting_id"] = ["Minutes are approved at a meeting of the same committee."]
    elif at_meeting.starts_at <= meeting.starts_at:
        errors["at_meeting_id"] = ["Minutes are approved at a later meeting."]
    if errors:
        raise ValidationError(errors["at_meeting_id"][0], errors)
    amendments = rules.text_field(
        amendments, "amendments", rules.LONG_TEXT, multiline=True, label="The amendments"
    )
    chair_name = rules.text_field(chair_name, "chair_name", rules.NAME, label="The chair's name")
    rules.date_field(signed_on, "signed_on", "The date signed")
    for minute in db.session.scalars(select(Minute).where(Minute.meeting_id == meeting.id)):
        minute.prefix = meeting.committee.minute_prefix or ""
    meeting.minutes_state = MinutesState.APPROVED
    meeting.minutes_approved_at = utcnow()
    meeting.minutes_published_at = meeting.minutes_published_at or meeting.minutes_approved_at
    meeting.approved_at_meeting = at_meeting
    meeting.approval_amendments = amendments
    meeting.chair_signed_name = chair_name
    meeting.chair_signed_on = signed_on
    meeting.version += 1
    db.session.flush()
    record(
        "minutes_approved",
        meeting,
        user=user,
        at_meeting=at_meeting.id,
        amendments=meeting.approval_amendments,
    )


@agenda_signals.removal_blockers.connect
def _minutes_of_items(item, *, ids: list[int]) -> list[str]:
    """An item with a minute stays: removing it would orphan the minute (an exempt item's
    minute would turn public, since a minute is restricted through its item)."""
    minutes = db.session.scalars(
        select(Minute).where(Minute.agenda_item_id.in_(ids)).order_by(Minute.number)
    ).all()
    if not minutes:
        return []
    own = [m.display_number for m in minutes if m.agenda_item_id == item.id]
    below = [m.display_number for m in minutes if m.agenda_item_id != item.id]
    whose = []
    if own:
        whose.append(f"This item has a minute ({', '.join(own)})")
    if below:
        has = "sub-items have minutes" if len(below) > 1 else "sub-item has a minute"
        whose.append(f"{'its' if own else 'Its'} {has} ({', '.join(below)})")
    return [
        " and ".join(whose) + "; an item with a minute cannot be removed, because the "
        "minute would lose its item. Edit the item instead."
    ]
