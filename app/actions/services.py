"""Actions: created from resolutions or standalone (action plans: app/actions/plan.py); progress
updates with status and RAG; the tracker's filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from app.actions import signals as action_signals
from app.actions.models import Action, ActionStatus, ActionUpdate, Rag
from app.audit.models import AuditEvent
from app.audit.services import record
from app.auth.models import User
from app.committees.models import Committee, Membership, active_on
from app.core import text as rules
from app.core.db import utcnow
from app.core.errors import Forbidden, ValidationError
from app.core.keyset import BadCursor, Key, Keyset, fetch
from app.core.permissions import CommitteeReader, is_staff, person_id_of
from app.extensions import db
from app.meetings.models import Meeting
from app.meetings.services import check_record_open
from app.minutes import signals as minute_signals
from app.minutes.models import Minute, Resolution
from app.minutes.queries import visible_minutes
from app.people.models import Person

REFERENCE_RE = re.compile(r"^[A-Za-z0-9]+(?:[.\-/][A-Za-z0-9]+)*$")


def _owner(owner_id) -> Person | None:
    if owner_id in (None, ""):
        return None
    try:
        person = db.session.get(Person, int(owner_id))
    except (TypeError, ValueError):
        person = None
    if person is None:
        raise ValidationError(
            "Choose the owner from the people list.", {"owner_id": ["Unknown person."]}
        )
    return person


def _required_owner(errors: dict, owner_id) -> Person | None:
    try:
        owner = _owner(owner_id)
        if owner is None:
            errors["owner_id"] = ["Choose who owns the action."]
    except ValidationError as exc:
        errors.update(exc.errors)
        owner = None
    return owner


def _text(errors: dict, key: str, value, limit: int, multiline: bool = False) -> str | None:
    try:
        label = key.replace("_", " ").capitalize()
        return rules.clean_text(value, limit, multiline=multiline, label=label)
    except ValueError as exc:
        errors[key] = [str(exc)]
        return None


def _validate(title, due_date, reference) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Say what is to be done."]
    if due_date is not None and not isinstance(due_date, date):
        errors["due_date"] = ["Enter a date."]
    else:
        try:
            rules.check_year(due_date, "The due date")
        except ValueError as exc:
            errors["due_date"] = [str(exc)]
    if reference and not REFERENCE_RE.match(reference):
        errors["reference"] = ["Use a reference like 1.2.3."]
    return errors


def create_action(
    committee: Committee,
    title: str,
    owner_id=None,
    due_date: date | None = None,
    resolution: Resolution | None = None,
    reference: str | None = None,
    user=None,
    **extra,
) -> Action:
    cleaned: dict[str, list[str]] = {}
    title = _text(cleaned, "title", title, rules.SHORT_TEXT)
    reference = _text(cleaned, "reference", reference, 50)
    texts = {
        "theme": _text(cleaned, "theme", extra.get("theme"), rules.LINE),
        "objective": _text(cleaned, "objective", extra.get("objective"), rules.LONG_TEXT, True),
        "target_measure": _text(
            cleaned, "target_measure", extra.get("target_measure"), rules.LONG_TEXT, True
        ),
    }
    errors = {**_validate(title, due_date, reference), **cleaned}
    try:
        rules.check_year(extra.get("review_date"), "The review date")
    except ValueError as exc:
        errors["review_date"] = [str(exc)]
    owner = _required_owner(errors, owner_id)
    if resolution is not None and resolution.minute.committee_id != committee.id:
        errors["resolution_id"] = ["That resolution belongs to another committee."]
    source = resolution.minute if resolution is not None else extra.get("minute")
    if source is not None:
        # Actions arising are part of the minutes: approved minutes gain none.
        check_record_open(source.meeting, "no action can be added to them", "title")
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    action = Action(
        committee=committee,
        title=title,
        owner=owner,
        due_date=due_date,
        resolution=resolution,
        reference=reference,
        **texts,
        review_date=extra.get("review_date"),
        rag=Rag(extra["rag"]) if extra.get("rag") else None,
        minute=extra.get("minute"),
    )
    if action.rag == Rag.GREY:
        # Grey means complete and evidenced, so a grey action (from a plan) is complete.
        action.status = ActionStatus.COMPLETE
        action.closed_at = utcnow()
    db.session.add(action)
    db.session.flush()
    record("action_created", action, user=user, summary=action.title)
    if action.owner is not None:
        action_signals.action_assigned.send(action, user=user)
    return action


def create_from_resolution(
    resolution: Resolution, title: str, owner_id=None, due_date: date | None = None, user=None
) -> Action:
    return create_action(
        resolution.minute.committee, title, owner_id, due_date, resolution=resolution, user=user
    )


def post_update(
    action: Action,
    user,
    note: str | None = None,
    status: ActionStatus | str | None = None,
    rag: Rag | str | None = None,
    expected_version: int | None = None,
) -> ActionUpdate:
    """An owner's (or clerk's) progress report. Grey means complete and evidenced."""
    from app.meetings.services import check_version

    if not action.can_update(user):
        raise Forbidden("Only the action's owner or a clerk can update it.")
    check_version(action, expected_version)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, rules.LONG_TEXT, multiline=True)
    try:
        status = ActionStatus(status) if status else None
    except ValueError:
        errors["status"] = ["Choose open, in progress, complete or cancelled."]
        status = None
    try:
        rag = Rag(rag) if rag else None
    except ValueError:
        errors["rag"] = ["Choose red, amber, green or grey."]
        rag = None
    if not (note or status or rag) and not errors:
        errors["note"] = ["Add a note, a status or a RAG rating."]
    new_status = status or action.status
    if rag == Rag.GREY and new_status != ActionStatus.COMPLETE:
        errors["rag"] = ["Grey is for actions that are complete and evidenced."]
    elif rag is None and action.rag == Rag.GREY and new_status != ActionStatus.COMPLETE:
        # Reopening (or cancelling) must not leave a grey rating behind.
        errors["rag"] = [
            "This action is rated grey (complete and evidenced): choose red, amber or green "
            f"when you mark it {new_status.value.replace('_', ' ')}."
        ]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    update = ActionUpdate(
        action=action,
        author_user_id=getattr(user, "id", None),
        # An owner reporting by their personal link has no account: the person is the author.
        author_person_id=person_id_of(user),
        note=note,
        status=status,
        rag=rag,
    )
    db.session.add(update)
    if status:
        action.status = status
        action.closed_at = utcnow() if status.closed else None
    if rag:
        action.rag = rag
    action.version += 1
    db.session.flush()
    record(
        "action_updated",
        action,
        user=user,
        status=new_status.value,
        rag=action.rag.value if action.rag else None,
    )
    return update


# The fields a correction may change, with what the page calls them.
CORRECTABLE = {
    "title": "Action",
    "owner_id": "Owner",
    "due_date": "Due date",
    "reference": "Reference",
}


def correct_action(action: Action, user, expected_version: int | None = None, **fields) -> Action:
    """Correct what an action is: any of its title, owner_id, due_date and reference (a field
    not given keeps its value; reference and due_date may be cleared with None), checked as
    create_action checks them. Audited as "action_corrected" with who, when and each changed
    field's old and new value, and shown in the action's history (action_history). Sending
    the values it already has changes nothing and records nothing: that is not an error.

    An action arising from approved minutes is part of that record, yet its title, owner,
    due date and reference may still be corrected: they are tracking data (who is to do what
    by when), which the committee must keep true long after approving the minutes that gave
    rise to it, and locking them would leave stale deadlines on the tracker. Such a correction
    is marked in the audit (approved_record) and in the history as made after approval, so
    it is never mistaken for what the approved minutes recorded."""
    from app.meetings.services import check_version, locked_reason

    if not action.can_correct(user):
        raise Forbidden("Only a clerk can correct an action.")
    unknown = sorted(set(fields) - set(CORRECTABLE))
    if unknown:
        raise ValidationError(
            f"Only {', '.join(CORRECTABLE)} can be corrected.",
            {name: ["This cannot be corrected here."] for name in unknown},
        )
    check_version(action, expected_version)
    errors: dict[str, list[str]] = {}
    title = action.title
    if "title" in fields:
        title = _text(errors, "title", fields["title"], rules.SHORT_TEXT)
    reference = action.reference
    if "reference" in fields:
        reference = _text(errors, "reference", fields["reference"], 50)
    due_date = fields.get("due_date", action.due_date)
    owner = _required_owner(errors, fields["owner_id"]) if "owner_id" in fields else action.owner
    errors = {**_validate(title, due_date, reference), **errors}
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    changes: dict[str, list] = {}
    for name, old, new in (
        ("title", action.title, title),
        ("owner_id", action.owner, owner),
        ("due_date", action.due_date, due_date),
        ("reference", action.reference, reference),
    ):
        if old != new:
            changes[name] = [_shown(old), _shown(new)]
    if not changes:
        return action
    action.title, action.owner = title, owner
    action.due_date, action.reference = due_date, reference
    action.version += 1
    db.session.flush()
    source = action.source_minute
    approved = source is not None and bool(
        locked_reason(source.meeting, "this correction is made after their approval")
    )
    record(
        "action_corrected",
        action,
        user=user,
        summary=action.title,
        changes=changes,
        approved_record=approved,
    )
    if "owner_id" in changes and action.owner is not None:
        action_signals.action_assigned.send(action, user=user)
    return action


def _shown(value):
    """How a corrected value is kept in the audit: what a clerk knows it by."""
    if isinstance(value, Person):
        return value.display_name
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class HistoryEntry:
    kind: str  # "update" (progress reported) or "correction"
    at: datetime
    by: str | None
    note: str | None = None
    status: ActionStatus | None = None
    rag: Rag | None = None
    changes: dict[str, list] | None = None  # field -> [old, new]
    approved_record: bool = False


def action_history(action: Action) -> list[HistoryEntry]:
    """An action's progress updates and corrections, oldest first, for its page and the API."""
    corrections = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == Action.__tablename__,
            AuditEvent.entity_id == action.id,
            AuditEvent.verb == "action_corrected",
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).all()
    user_ids = {u.author_user_id for u in action.updates} | {e.user_id for e in corrections}
    users = {
        u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(user_ids - {None})))
    }
    person_ids = {u.author_person_id for u in action.updates if u.author_user_id is None}
    people = {
        p.id: p.display_name
        for p in db.session.scalars(select(Person).where(Person.id.in_(person_ids - {None})))
    }
    entries = [
        HistoryEntry(
            "update",
            u.created_at,
            users.get(u.author_user_id) or people.get(u.author_person_id),
            u.note,
            u.status,
            u.rag,
        )
        for u in action.updates
    ] + [
        HistoryEntry(
            "correction",
            e.occurred_at,
            users.get(e.user_id),
            changes=(e.data or {}).get("changes") or {},
            approved_record=bool((e.data or {}).get("approved_record")),
        )
        for e in corrections
    ]
    return sorted(entries, key=lambda entry: entry.at)


@dataclass(frozen=True)
class Minuted:
    """An action arising as its minutes recorded it: for approved minutes, its values with
    every correction made since their approval undone (each is kept in its history)."""

    title: str
    owner: str | None  # as the minutes name the owner
    due_date: date | None
    reference: str | None
    corrected_since_approval: bool = False


def as_minuted(actions) -> dict[int, Minuted]:
    """What the minutes say of each action, by id (one query for all of them). The approved
    record never changes; the tracker shows the corrected values, and whoever reads the
    minutes is told that a correction was made since."""
    actions = list(actions)
    undone: dict[int, list[dict]] = {}
    if actions:
        for event in db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == Action.__tablename__,
                AuditEvent.entity_id.in_([a.id for a in actions]),
                AuditEvent.verb == "action_corrected",
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        ):
            data = event.data or {}
            if data.get("approved_record"):
                undone.setdefault(event.entity_id, []).append(data.get("changes") or {})
    out = {}
    for a in actions:
        values = {
            "title": a.title,
            "owner_id": a.owner.display_name if a.owner is not None else None,
            "due_date": a.due_date.isoformat() if a.due_date else None,
            "reference": a.reference,
        }
        for changes in undone.get(a.id, []):  # newest first, back to the approved values
            for name, (old, _new) in changes.items():
                if name in values:
                    values[name] = old
        out[a.id] = Minuted(
            values["title"],
            values["owner_id"],
            date.fromisoformat(values["due_date"]) if values["due_date"] else None,
            values["reference"],
            corrected_since_approval=a.id in undone,
        )
    return out


# --- the tracker -------------------------------------------------------------------------

OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def visible_actions(user, committee_id: int | None = None) -> ColumnElement[bool]:
    """SQL form of Action.can_view(user), so the tracker filters and pages in the database
    (tests/actions/test_tracker.py checks it agrees with the predicate). Given the committee
    the actions are of, the minutes looked through are that committee's only (an action
    arises only from its own committee's minutes: create_action), not ten years of every
    committee's."""
    if is_staff(user):
        return true()
    # Correlated to each action's own minute or resolution (looked up by key), not a list of
    # every minute the reader may see: the database can walk the actions in the tracker's
    # order and stop at a page.
    seen_minutes = (
        select(Minute.id)
        .join(Minute.meeting)
        .where(Minute.id == Action.minute_id, visible_minutes(user))
    )
    seen_resolutions = (
        select(Resolution.id)
        .join(Resolution.minute)
        .join(Minute.meeting)
        .where(Resolution.id == Action.resolution_id, visible_minutes(user))
    )
    if committee_id:
        seen_minutes = seen_minutes.where(Minute.committee_id == committee_id)
        seen_resolutions = seen_resolutions.where(Minute.committee_id == committee_id)
    if isinstance(user, CommitteeReader):
        member_of = select(Committee.id).where(Committee.id == user.committee_id)
    else:
        member_of = select(Membership.committee_id).where(
            Membership.person_id == person_id_of(user), active_on(date.today())
        )
    person_id = person_id_of(user)
    return or_(
        and_(Action.owner_id.is_not(None), Action.owner_id == person_id) if person_id else false(),
        and_(Action.resolution_id.is_not(None), seen_resolutions.exists()),
        and_(Action.resolution_id.is_(None), seen_minutes.exists()),
        and_(
            Action.resolution_id.is_(None),
            Action.minute_id.is_(None),
            Action.committee_id.in_(member_of),
        ),
    )


def tracker_query(
    committee_id: int | None = None,
    owner_id: int | None = None,
    status: str | None = None,
    rag: str | None = None,
    overdue: bool = False,
    today: date | None = None,
    user=None,
    *,
    for_reader: bool = False,
) -> Select:
    """Actions matching the tracker's filters; with for_reader, only those `user` may see."""
    stmt = select(Action)
    if for_reader:
        stmt = stmt.where(visible_actions(user, committee_id))
    if committee_id:
        stmt = stmt.where(Action.committee_id == committee_id)
    if owner_id:
        stmt = stmt.where(Action.owner_id == owner_id)
    if status:
        stmt = stmt.where(Action.status == ActionStatus(status))
    if rag:
        stmt = stmt.where(Action.rag == Rag(rag))
    if overdue:
        stmt = stmt.where(
            Action.status.in_(OPEN_STATUSES),
            Action.due_date.is_not(None),
            Action.due_date < (today or date.today()),
        )
    return stmt.order_by(*TRACKER_ORDER.order_by())


# The tracker's order, its cursor and the API's: by due date, those without one last, then id.
TRACKER_ORDER = Keyset(
    (Key(Action.due_date, date, nulls_last=True), Key(Action.id)),
    lambda a: (a.due_date, a.id),
)
# One committee's plan in themes: by theme (the actions without one last), then as above. Its
# cursors hold three values, so one from the plain order is refused, not misread.
THEME_ORDER = Keyset(
    (Key(Action.theme, str, nulls_last=True), *TRACKER_ORDER.keys),
    lambda a: (a.theme, a.due_date, a.id),
)
TRACKER_PAGE = 100


@dataclass(frozen=True)
class TrackerPage:
    actions: list[Action]
    next_after: str | None  # the cursor of the page after this one, if there is one
    by_theme: bool = False  # one committee's plan: grouped by theme, in due order within each

    @property
    def groups(self) -> list[tuple[str | None, list[Action]]]:
        """The page's actions in runs of one theme (the rows come in theme order)."""
        out: list[tuple[str | None, list[Action]]] = []
        for action in self.actions:
            theme = action.theme if self.by_theme else None
            if not out or out[-1][0] != theme:
                out.append((theme, []))
            out[-1][1].append(action)
        return out


def _minute_options(path):
    return path.options(
        selectinload(Minute.committee),
        selectinload(Minute.item),
        selectinload(Minute.meeting).selectinload(Meeting.committee),
        selectinload(Minute.resolutions),
    )


def has_themes(committee_id: int | None) -> bool:
    """Whether one committee's actions are a plan in themes, to be shown grouped by them."""
    if not committee_id:
        return False
    return (
        db.session.scalar(
            select(Action.id)
            .where(Action.committee_id == committee_id, Action.theme.is_not(None))
            .limit(1)
        )
        is not None
    )


def tracker_page(
    user, after: str | None = None, per_page: int | None = None, **filters
) -> TrackerPage:
    """One page of the tracker as this reader may see it, in due order, after the cursor
    given (keyset paging: a page costs the same however far into ten years of actions it
    is, and an action added meanwhile never shifts or repeats a row). What a row shows
    (committee, minute, meeting, owner, latest update) is loaded with the page, not row by
    row. A cursor that cannot be read starts from the beginning. One committee's actions
    that have themes (an action plan's) come in theme order first, due order within each
    theme, and the cursor carries the theme."""
    per_page = per_page or TRACKER_PAGE
    by_theme = has_themes(filters.get("committee_id"))
    order = THEME_ORDER if by_theme else TRACKER_ORDER
    stmt = tracker_query(**filters, user=user, for_reader=True).options(
        selectinload(Action.owner),
        selectinload(Action.committee),
        selectinload(Action.updates),
        _minute_options(selectinload(Action.minute)),
        _minute_options(selectinload(Action.resolution).selectinload(Resolution.minute)),
    )
    try:
        page = fetch(db.session, order, stmt, per_page, after=after or None)
    except BadCursor:
        page = fetch(db.session, order, stmt, per_page)
    shown = [a for a in page.rows if a.can_view(user)]  # the SQL rule, checked again
    return TrackerPage(shown, page.next_cursor, by_theme)


def actions_by_minute(minutes) -> dict[int, list[Action]]:
    """The actions recorded in these minutes (from a resolution or the minute's narrative),
    by minute id. Callers showing them to someone check action.can_view(user)."""
    minute_ids = [m.id for m in minutes]
    resolution_ids = [r.id for m in minutes for r in m.resolutions]
    out: dict[int, list[Action]] = {}
    if not minute_ids:
        return out
    for action in db.session.scalars(
        select(Action)
        .where(or_(Action.minute_id.in_(minute_ids), Action.resolution_id.in_(resolution_ids)))
        .order_by(Action.id)
    ):
        out.setdefault(action.source_minute.id, []).append(action)
    return out


def open_actions(committee: Committee) -> list[Action]:
    """Carried into the next agenda's action log until closed."""
    return list(
        db.session.scalars(tracker_query(committee.id).where(Action.status.in_(OPEN_STATUSES)))
    )


def count_by_rag(committee: Committee) -> dict[str | None, int]:
    rows = db.session.execute(
        select(Action.rag, func.count())
        .where(Action.committee_id == committee.id, or_(Action.status.in_(OPEN_STATUSES)))
        .group_by(Action.rag)
    )
    return {(rag.value if rag else None): n for rag, n in rows}


@minute_signals.removal_blockers.connect
def _actions_arising(minute, *, resolution_ids: list[int]) -> list[str]:
    """Actions are never deleted with a minute, so a minute they arise from stays."""
    linked = db.session.scalars(
        select(Action).where(
            or_(Action.minute_id == minute.id, Action.resolution_id.in_(resolution_ids))
        )
    ).all()
    if not linked:
        return []
    titles = "; ".join(a.title for a in linked[:3])
    return [
        f"Minute {minute.display_number} has actions arising from it ({titles}). "
        "Actions are never deleted with a minute; this minute cannot be deleted."
    ]
