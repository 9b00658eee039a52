"""Drafting agendas: standard items from the committee's template, adding, editing, moving and
removing items, and keeping exempt business in Part 2 behind the exclusion item.

Numbers are never stored: they follow from positions (see Meeting.numbered_items)."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy import func, or_, select

from app.agenda import signals
from app.agenda.exemption import exemption_grounds
from app.agenda.models import AgendaItem, ItemKind, Visibility
from app.audit.services import record
from app.committees.services import clean_agenda_template
from app.core import text as rules
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.meetings.models import AgendaState, Attendance, Declaration, Meeting
from app.meetings.services import check_version, locked_reason
from app.people.models import Person

EXCLUSION_TITLE = "Exclusion of the press and public"
# Positions are renumbered in two passes so the unique (meeting, position) index never sees two
# items on one position; the first pass parks them this far out of the way.
_PARK = 100_000

EDITABLE_FIELDS = (
    "title",
    "section",
    "purpose",
    "presenter_id",
    "presenter_text",
    "kind",
    "visibility",
    "exempt_paragraphs",
    "public_interest_reason",
    "urgent_reason",
)
# Each text field of an item: its maximum, and whether it may run over several lines.
TEXT_FIELDS = {
    "title": (rules.TITLE, False),
    "section": (rules.NAME, False),
    "presenter_text": (rules.LINE, False),
    "purpose": (rules.LONG_TEXT, True),
    "public_interest_reason": (rules.LONG_TEXT, True),
    "urgent_reason": (rules.LONG_TEXT, True),
}


def exclusion_resolution(paragraphs: Iterable[int], confidential: bool = False) -> str:
    """The draft resolution that opens Part 2, citing what it relies on.

    Exempt information is defined by the paragraphs of Part 1 of Schedule 12A and the public
    may be excluded for it by resolution (s.100A(4)); confidential information is defined by
    s.100A(3) and the public must be excluded whenever it would be disclosed (s.100A(2)).
    Schedule 12A says nothing about confidential information, so it is cited only for
    exempt items."""
    paras = sorted(set(paragraphs))
    grounds = []
    if confidential:
        grounds.append("confidential information as defined in Section 100A(3) of the Act")
    if paras or not confidential:
        if not paras:
            cited = "Part 1 of Schedule 12A"
        else:
            words = (
                f"Paragraph {paras[0]}"
                if len(paras) == 1
                else "Paragraphs " + ", ".join(map(str, paras[:-1])) + f" and {paras[-1]}"
            )
            cited = f"{words} of Part 1 of Schedule 12A"
        grounds.append(f"exempt information as defined in {cited} to the Act")
    if confidential and paras:
        section = "Section 100A(2) and (4)"
    elif confidential:
        section = "Section 100A(2)"
    else:
        section = "Section 100A(4)"
    return (
        f"That under {section} of the Local Government Act 1972, the public be excluded "
        "from the meeting for the following items of business on the grounds that they involve "
        f"the likely disclosure of {' and '.join(grounds)}."
    )


def _clean(value):
    # Enum members are str subclasses too; stripping one would turn it into a plain string.
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        value = value.strip()
        return value or None
    return value


def _validate(
    fields: dict, item: AgendaItem | None = None, parent: AgendaItem | None = None
) -> dict:
    errors: dict[str, list[str]] = {}
    for key, (limit, multiline) in TEXT_FIELDS.items():
        if key in fields and not isinstance(fields[key], enum.Enum):
            try:
                fields[key] = rules.clean_text(
                    fields[key],
                    limit,
                    multiline=multiline,
                    label=key.replace("_", " ").capitalize(),
                )
            except ValueError as exc:
                errors[key] = [str(exc)]
    if item is not None:
        parent = item.parent
    if item is None and parent is not None and parent.restricted:
        # A new sub-item of restricted business starts as restricted as its parent, with its
        # grounds, unless the clerk says otherwise.
        fields.setdefault("visibility", parent.visibility)
        if Visibility(fields["visibility"]) == parent.visibility:
            fields.setdefault("exempt_paragraphs", parent.exempt_paragraphs)
            fields.setdefault("public_interest_reason", parent.public_interest_reason)
    title = _clean(fields.get("title", item.title if item else None))
    if not title and "title" not in errors:
        errors["title"] = ["Enter a title."]
    kind = fields.get("kind", item.kind if item else ItemKind.BUSINESS)
    try:
        fields["kind"] = ItemKind(kind)
    except ValueError:
        errors["kind"] = ["Unknown kind of item."]
    visibility = fields.get("visibility", item.visibility if item else Visibility.PUBLIC)
    try:
        visibility = fields["visibility"] = Visibility(visibility)
    except ValueError:
        errors["visibility"] = ["Choose public, exempt or confidential."]
        visibility = None
    paragraphs, reason, grounds_errors = exemption_grounds(
        visibility,
        fields.get("exempt_paragraphs", item.exempt_paragraphs if item else []),
        fields.get("public_interest_reason", item.public_interest_reason if item else None),
    )
    for key, messages in grounds_errors.items():
        errors.setdefault(key, messages)
    if visibility is not None and parent is not None and visibility.rank < parent.visibility.rank:
        errors["visibility"] = [
            f"A sub-item of {parent.visibility.value} business is {parent.visibility.value} "
            "too: it cannot be more public than the item it belongs to."
        ]
    presenter_id = fields.get("presenter_id")
    if presenter_id not in (None, "") and db.session.get(Person, int(presenter_id)) is None:
        errors["presenter_id"] = ["Unknown person."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, errors)
    fields["title"] = title
    fields["exempt_paragraphs"] = paragraphs
    fields["public_interest_reason"] = reason
    return fields


def _restrict_children(item: AgendaItem) -> list[AgendaItem]:
    """An item made stricter takes its sub-items with it: what is stored then says what the
    visibility rule (AgendaItem.effective_visibility) gives, and queries can trust it."""
    changed = []
    for child in item.children:
        if child.visibility.rank >= item.visibility.rank:
            continue
        paragraphs, reason, _ = exemption_grounds(
            item.visibility,
            child.exempt_paragraphs or item.exempt_paragraphs,
            child.public_interest_reason or item.public_interest_reason,
        )
        # All at once: loading the paragraph rows must not flush an exempt sub-item that
        # has no public-interest statement yet (the database refuses that row).
        with db.session.no_autoflush:
            child.visibility = item.visibility
            child.exempt_paragraphs = paragraphs
            child.public_interest_reason = reason
        child.version += 1
        changed.append(child)
    return changed


def _siblings(meeting: Meeting, parent_id: int | None) -> list[AgendaItem]:
    return sorted((i for i in meeting.items if i.parent_id == parent_id), key=lambda i: i.position)


# New business goes before these closing standard items, as clerks expect.
_CLOSING_KINDS = (ItemKind.AOB, ItemKind.NEXT_MEETING, ItemKind.EXCLUSION)


def _default_index(
    top_level: list[AgendaItem], section: str | None = None, sections: Iterable[str] = ()
) -> int:
    """Where a new top-level item goes: after the last item of its own section, or where its
    section falls in the committee's order of sections, and always before the closing items
    (so it never opens a second heading for a section already on the agenda)."""
    closing = next(
        (
            index
            for index, item in enumerate(top_level)
            if item.kind in _CLOSING_KINDS or _is_part_two(item)
        ),
        len(top_level),
    )
    if not section:
        return closing
    body = top_level[:closing]
    same = [index for index, item in enumerate(body) if item.section == section]
    if same:
        return same[-1] + 1
    order = list(sections)
    if section in order:
        rank = order.index(section)
        for index, item in enumerate(body):
            if item.section in order and order.index(item.section) > rank:
                return index
    return closing


def _apply_order(items: list[AgendaItem]) -> None:
    """Give the listed siblings positions 0..n-1 in that order."""
    if [i.position for i in items] == list(range(len(items))):
        return
    for i in items:
        i.position = i.position + _PARK
    db.session.flush()
    for pos, i in enumerate(items):
        i.position = pos
    db.session.flush()


def check_agenda_open(meeting: Meeting) -> None:
    message = locked_reason(meeting, "its agenda can no longer be changed")
    if message:
        raise Conflict(message, {"item": [message]})


def add_item(
    meeting: Meeting,
    *,
    parent: AgendaItem | None = None,
    position: int | None = None,
    urgent: bool = False,
    **fields,
) -> AgendaItem:
    """Add an item (at the end, or at a position among its siblings)."""
    check_agenda_open(meeting)
    if parent is not None and parent.meeting_id != meeting.id:
        raise ValidationError(
            "That parent item belongs to another meeting.",
            {"parent_id": ["Not an item of this meeting."]},
        )
    if parent is not None and parent.parent_id is not None:
        raise ValidationError(
            "Sub-items cannot have sub-items of their own.",
            {"parent_id": ["Choose a top-level item."]},
        )
    fields = _validate(dict(fields), parent=parent)
    published = meeting.agenda_state == AgendaState.PUBLISHED
    urgent_reason = _clean(fields.pop("urgent_reason", None))
    if urgent and not urgent_reason:
        raise ValidationError(
            "Describe the special circumstances that make the item urgent.",
            {"urgent_reason": ["Enter the special circumstances."]},
        )
    paragraphs = fields.pop("exempt_paragraphs")
    siblings = _siblings(meeting, parent.id if parent else None)
    item = AgendaItem(
        meeting=meeting,
        parent=parent,
        position=len(siblings) + _PARK,
        urgent=bool(urgent),
        urgent_reason=urgent_reason if urgent else None,
        # Every field set, None included, so a later edit's audit event has old values.
        **{
            k: _clean(fields.get(k))
            for k in EDITABLE_FIELDS
            if k not in ("urgent_reason", "exempt_paragraphs")
        },
    )
    item.exempt_paragraphs = paragraphs
    db.session.add(item)
    db.session.flush()
    order = list(siblings)
    if position is None:
        index = (
            _default_index(order, item.section, meeting.committee.sections or [])
            if parent is None
            else len(order)
        )
    else:
        index = max(0, min(int(position), len(order)))
    order.insert(index, item)
    _apply_order(order)
    if parent is None:
        arrange_parts(meeting)
    record("agenda_item_added", item, summary=item.title, after_publication=published)
    return item


def update_item(
    item: AgendaItem,
    expected_version: int | None = None,
    urgent: bool | None = None,
    **fields,
) -> AgendaItem:
    check_version(item, expected_version)
    check_agenda_open(item.meeting)
    fields = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS}
    audited = set(fields)
    if urgent is not None and bool(urgent) != item.urgent:
        item.urgent = bool(urgent)
        audited.add("urgent")
        if not item.urgent:
            fields["urgent_reason"] = None
    merged = _validate(dict(fields), item)
    for key in fields:
        value = merged.get(key, fields[key])
        if key == "exempt_paragraphs":
            item.exempt_paragraphs = value
        else:
            setattr(item, key, _clean(value))
    # The grounds the one rule kept (agenda.exemption): none but for exempt business.
    item.exempt_paragraphs = merged["exempt_paragraphs"]
    item.public_interest_reason = merged["public_interest_reason"]
    if item.urgent and not _clean(item.urgent_reason):
        raise ValidationError(
            "An urgent item needs its special circumstances.",
            {"urgent_reason": ["Enter the special circumstances."]},
        )
    item.version += 1
    children = _restrict_children(item)
    db.session.flush()
    arrange_parts(item.meeting)
    record("agenda_item_updated", item, summary=item.title, fields=sorted(audited | set(fields)))
    for child in children:
        record("agenda_item_updated", child, summary=child.title, fields=["visibility"])
    return item


def removal_blockers(item: AgendaItem) -> list[str]:
    """Why an item may not be removed: the record of the meeting refers to it or its
    sub-items. Removing it would orphan a minute (an exempt item's minute would turn public,
    since a minute is restricted through its item) and delete declarations of interest."""
    meeting = item.meeting
    locked = locked_reason(meeting, "its agenda items cannot be removed")
    if locked:
        return [locked]
    ids = [item.id, *(c.id for c in item.children)]
    # The record kept above the agenda (a minute) says for itself why it needs the item.
    blockers = [
        reason
        for _receiver, found in signals.removal_blockers.send(item, ids=ids)
        for reason in found or ()
    ]
    declared = db.session.scalar(
        select(func.count()).select_from(Declaration).where(Declaration.agenda_item_id.in_(ids))
    )
    if declared:
        blockers.append(
            f"Interests have been declared on this item ({declared}); an item with "
            "declarations of interest cannot be removed."
        )
    attended = db.session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(or_(Attendance.arrived_at_item_id.in_(ids), Attendance.left_at_item_id.in_(ids)))
    )
    if attended:
        blockers.append(
            "The attendance register records someone arriving or leaving at this item, so it "
            "cannot be removed."
        )
    return blockers


def delete_item(item: AgendaItem) -> None:
    """Remove an item and its sub-items, unless the record of the meeting refers to them."""
    blockers = removal_blockers(item)
    if blockers:
        raise Conflict(" ".join(blockers), {"item": blockers})
    meeting = item.meeting
    parent_id = item.parent_id
    record("agenda_item_deleted", item, summary=item.title)
    # Leaving the meeting's collection deletes them (delete-orphan), children first.
    for child in list(item.children):
        meeting.items.remove(child)
    meeting.items.remove(item)
    db.session.flush()
    _apply_order(_siblings(meeting, parent_id))
    arrange_parts(meeting)


def move_item(item: AgendaItem, offset: int) -> None:
    """Move an item up (negative) or down (positive) among its siblings, within its part."""
    check_agenda_open(item.meeting)
    siblings = _siblings(item.meeting, item.parent_id)
    index = siblings.index(item)
    target = max(0, min(index + offset, len(siblings) - 1))
    if target == index:
        return
    siblings.insert(target, siblings.pop(index))
    _apply_order(siblings)
    if item.parent_id is None:
        arrange_parts(item.meeting)
    record("agenda_item_moved", item, to=target)


def reorder(meeting: Meeting, item_ids: list[int], parent_id: int | None = None) -> None:
    """Put the siblings in the given order (drag and drop sends the whole list)."""
    check_agenda_open(meeting)
    siblings = _siblings(meeting, parent_id)
    by_id = {i.id: i for i in siblings}
    if sorted(item_ids) != sorted(by_id):
        raise Conflict("The agenda changed while you were reordering it; reload and try again.")
    _apply_order([by_id[i] for i in item_ids])
    if parent_id is None:
        arrange_parts(meeting)
    record("agenda_reordered", meeting)


def _is_part_two(item: AgendaItem) -> bool:
    return item.visibility.restricted and item.kind != ItemKind.EXCLUSION


def _check_exclusion_removable(exclusion: AgendaItem) -> None:
    """The exclusion item goes when Part 2 is emptied, but never with a record of its own: a
    change that would take its minute's item or its declarations with it is refused."""
    blockers = [] if exclusion.id is None else removal_blockers(exclusion)
    if exclusion.children:
        blockers.append(
            f"it has sub-items ({', '.join(c.title for c in exclusion.children)}); move or "
            "remove them first"
        )
    if blockers:
        because = "; ".join(b.rstrip(".") for b in blockers)
        message = (
            "This change would leave no business in Part 2 and so remove the item "
            f"'{exclusion.title}', which cannot be removed: {because}."
        )
        raise Conflict(message, {"item": [message]})


def arrange_parts(meeting: Meeting) -> None:
    """Keep restricted top-level items in Part 2, after an exclusion item that cites their
    paragraphs; remove the exclusion item when no restricted business is left."""
    top = _siblings(meeting, None)
    exclusions = [i for i in top if i.kind == ItemKind.EXCLUSION]
    part_two = [i for i in top if _is_part_two(i)]
    part_one = [i for i in top if i not in part_two and i not in exclusions]
    if not part_two:
        for ex in exclusions:
            _check_exclusion_removable(ex)
            meeting.items.remove(ex)
        db.session.flush()
        _apply_order(part_one)
        return
    exclusion = exclusions[0] if exclusions else None
    for extra in exclusions[1:]:
        meeting.items.remove(extra)
    paragraphs = sorted({p for i in part_two for p in i.exempt_paragraphs})
    if exclusion is None:
        exclusion = AgendaItem(
            meeting=meeting,
            kind=ItemKind.EXCLUSION,
            title=EXCLUSION_TITLE,
            position=len(top) + _PARK,
        )
        db.session.add(exclusion)
    confidential = any(i.visibility == Visibility.CONFIDENTIAL for i in part_two)
    exclusion.purpose = exclusion_resolution(paragraphs, confidential=confidential)
    exclusion.section = None
    db.session.flush()
    _apply_order([*part_one, exclusion, *part_two])


def apply_template(meeting: Meeting) -> list[AgendaItem]:
    """Start a new agenda from the committee's standard items (only when it is empty)."""
    if meeting.items:
        raise Conflict("This agenda already has items; the template only starts empty agendas.")
    committee = meeting.committee
    try:
        # Templates saved before they were checked may hold anything.
        entries = clean_agenda_template(committee.agenda_template)
    except ValueError as exc:
        raise Conflict(
            f"The standard items of {committee.name} cannot be used ({exc}). Correct them in "
            "the committee's settings."
        ) from None
    created = []
    for entry in entries:
        created.append(
            add_item(
                meeting,
                title=entry["title"],
                kind=entry["kind"],
                section=entry["section"],
                position=len(created),
            )
        )
    return created
