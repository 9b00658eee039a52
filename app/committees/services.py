"""Committees, memberships and the CSV import of people and memberships."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from app.audit.services import record
from app.committees.models import VOTING_ROLES, Committee, Membership, MembershipRole, Regime
from app.core import text as rules
from app.core.csvfile import CsvFileError, CsvPreview, CsvRow, parse_csv
from app.core.dates import parse_date
from app.core.errors import NotFound, ValidationError, check_version, constraint_errors
from app.extensions import db
from app.people.models import Person
from app.people.queries import found_by


def slugify(name: str) -> str:
    """'Children, Young People and Families Partnership' ->
    'children-young-people-and-families-partnership'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace("&", " and ").replace("'", "").replace("\u2019", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:200] or "committee"


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

COMMITTEE_FIELDS = (
    "name",
    "slug",
    "description",
    "default_venue",
    "default_start_time",
    "timezone",
    "regime",
    "first_minute_number",
    "minute_prefix",
    "quorum",
    "publish_draft_minutes",
    "sections",
    "agenda_template",
    "clerk_name",
    "clerk_email",
    "clerk_phone",
)


def _text(
    value, limit: int = rules.SHORT_TEXT, label: str = "This", multiline: bool = False
) -> str | None:
    return rules.clean_text(value, limit, multiline=multiline, label=label)


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def parse_quorum(value) -> tuple[int | None, str | None]:
    """'3' -> a count of three; '1/3' -> a third of the voting members; '' -> no quorum."""
    value = _text(value)
    if value is None:
        return None, None
    if value.isdigit() and int(value) >= 1:
        return int(value), None
    try:
        fraction = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError("Enter a number of members (3) or a fraction (1/3).") from None
    if not 0 < fraction <= 1 or "/" not in value:
        raise ValueError("Enter a number of members (3) or a fraction (1/3).")
    return None, f"{fraction.numerator}/{fraction.denominator}"


# --- the agenda template: the standard items a new agenda starts from ----------------------

# The exclusion item is inserted by itself in front of Part 2, so a template cannot hold one.
TEMPLATE_KINDS = {
    "apologies": "apologies",
    "declarations": "declarations",
    "previous_minutes": "previous minutes",
    "matters_arising": "matters arising",
    "business": "business",
    "aob": "any other business",
    "next_meeting": "next meeting",
}
MAX_TEMPLATE_ITEMS = 30
MAX_SECTIONS = 30
_KIND_WORDS = {
    **{k: k for k in TEMPLATE_KINDS},
    **{v: k for k, v in TEMPLATE_KINDS.items()},
    "aob": "aob",
    "minutes": "previous_minutes",
    "actions": "matters_arising",
    "date of next meeting": "next_meeting",
}


def _template_kind(word) -> str:
    key = " ".join(str(word or "").replace("_", " ").replace("-", " ").lower().split())
    kind = _KIND_WORDS.get(key) or _KIND_WORDS.get(key.replace(" ", "_"))
    if kind is None:
        allowed = ", ".join(TEMPLATE_KINDS.values())
        raise ValueError(f"{str(word).strip()!r} is not a kind of standard item; use {allowed}.")
    return kind


def clean_agenda_template(entries) -> list[dict]:
    """Check the standard items (kind, title, optional section); every problem names the
    item it is in, counting from 1."""
    if entries is None:
        return []
    if not isinstance(entries, list | tuple):
        raise ValueError("Give the standard items as a list.")
    if len(entries) > MAX_TEMPLATE_ITEMS:
        raise ValueError(f"A template can hold at most {MAX_TEMPLATE_ITEMS} standard items.")
    cleaned = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"Item {n}: give a kind and a title.")
        try:
            kind = _template_kind(entry.get("kind") or "business")
        except ValueError as exc:
            raise ValueError(f"Item {n}: {exc}") from None
        title = _text(entry.get("title"), rules.TITLE, f"Item {n}: titles")
        if not title:
            raise ValueError(f"Item {n}: enter a title.")
        section = _text(entry.get("section"), rules.NAME, f"Item {n}: section headings")
        cleaned.append({"kind": kind, "title": title, "section": section})
    return cleaned


def agenda_template_from_text(text: str) -> list[dict]:
    """One standard item a line, as clerks type them: "kind: title", optionally followed by
    " | section"; a line without a kind is an item of business."""
    entries = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        line, _, section = line.partition("|")
        kind, colon, title = line.partition(":")
        if not colon:
            kind, title = "business", kind
        try:
            kind = _template_kind(kind)
        except ValueError as exc:
            raise ValueError(f"Line {n}: {exc}") from None
        if not title.strip():
            raise ValueError(f"Line {n}: enter a title after the colon.")
        entries.append({"kind": kind, "title": title, "section": section})
    return entries


def agenda_template_as_text(entries) -> str:
    lines = []
    for e in entries or []:
        kind = TEMPLATE_KINDS.get(e.get("kind"), e.get("kind") or "business")
        line = f"{kind}: {e.get('title') or ''}"
        if e.get("section"):
            line += f" | {e['section']}"
        lines.append(line)
    return "\n".join(lines)


def _apply_committee_fields(committee: Committee, fields: dict) -> None:
    errors: dict[str, list[str]] = {}

    def take(key, convert):
        if key not in fields:
            return
        try:
            convert(fields[key])
        except (ValueError, TypeError) as exc:
            errors[key] = [str(exc) or "Not valid."]

    def set_name(v):
        name = _text(v, rules.NAME, "The name")
        if not name:
            raise ValueError("Enter a name.")
        committee.name = name

    def set_slug(v):
        slug = _text(v, rules.NAME, "The web address")
        if slug is None:
            return
        if not SLUG_RE.match(slug):
            raise ValueError("Use lower-case letters, digits and hyphens only.")
        committee.slug = slug

    def set_timezone(v):
        name = _text(v) or "Europe/London"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("Unknown timezone.") from None
        committee.timezone = name

    def set_regime(v):
        try:
            committee.regime = Regime(_text(v) or Regime.PRINCIPAL)
        except ValueError:
            raise ValueError("Choose principal, parish or none.") from None

    def set_first_number(v):
        number = int(v)
        if number < 1:
            raise ValueError("Minute numbers start at 1 or more.")
        committee.first_minute_number = number

    def set_quorum(v):
        committee.quorum_count, committee.quorum_fraction = parse_quorum(v)

    def set_start_time(v):
        if v in (None, ""):
            committee.default_start_time = None
        elif isinstance(v, time):
            committee.default_start_time = v
        else:
            committee.default_start_time = time.fromisoformat(str(v).strip())

    def set_email(v):
        v = _text(v)
        if v:
            try:
                v = validate_email(v, check_deliverability=False).normalized
            except EmailNotValidError:
                raise ValueError("Enter a valid e-mail address.") from None
        committee.clerk_email = v

    def set_sections(v):
        sections = [_text(s, rules.NAME, "A section heading") for s in (v or [])]
        sections = [s for s in sections if s]
        if len(sections) > MAX_SECTIONS:
            raise ValueError(f"A committee can have at most {MAX_SECTIONS} section headings.")
        committee.sections = sections

    def set_template(v):
        # The committee form sends the clerk's lines; the API sends a list of items.
        entries = agenda_template_from_text(v) if isinstance(v, str) else v
        committee.agenda_template = clean_agenda_template(entries)

    def set_plain(key, limit, multiline=False):
        return lambda v: setattr(committee, key, _text(v, limit, _label(key), multiline))

    take("name", set_name)
    take("slug", set_slug)
    take("description", set_plain("description", 5000, multiline=True))
    take("default_venue", set_plain("default_venue", 300))
    take("default_start_time", set_start_time)
    take("timezone", set_timezone)
    take("regime", set_regime)
    take("first_minute_number", set_first_number)
    take("minute_prefix", set_plain("minute_prefix", 20))
    take("quorum", set_quorum)
    take("publish_draft_minutes", lambda v: setattr(committee, "publish_draft_minutes", bool(v)))
    take("sections", set_sections)
    take("agenda_template", set_template)
    take("clerk_name", set_plain("clerk_name", 200))
    take("clerk_email", set_email)
    take("clerk_phone", set_plain("clerk_phone", 50))
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)


def _check_unique(committee: Committee) -> None:
    """Name the clashing field plainly (the database would report only one of the two)."""
    others = (
        select(Committee).where(Committee.id != committee.id) if committee.id else select(Committee)
    )
    errors = {}
    if db.session.scalar(others.where(func.lower(Committee.name) == committee.name.lower())):
        errors["name"] = ["A committee with that name already exists."]
    elif db.session.scalar(others.where(Committee.slug == committee.slug)):
        errors["slug"] = ["Another committee already uses that web address."]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)


def create_committee(**fields) -> Committee:
    committee = Committee()
    if not _text(fields.get("slug")) and _text(fields.get("name")):
        fields["slug"] = slugify(fields["name"])
    _apply_committee_fields(committee, {k: v for k, v in fields.items() if k in COMMITTEE_FIELDS})
    _check_unique(committee)
    with constraint_errors(db.session):
        db.session.add(committee)
    record("committee_created", committee, summary=committee.name)
    return committee


def update_committee(committee: Committee, **fields) -> Committee:
    with db.session.no_autoflush:
        _apply_committee_fields(
            committee, {k: v for k, v in fields.items() if k in COMMITTEE_FIELDS}
        )
        _check_unique(committee)
    with constraint_errors(db.session):
        pass  # a clash that slipped past the check (a race) still becomes a field error
    record("committee_updated", committee, fields=sorted(fields))
    return committee


# --- memberships -------------------------------------------------------------------------


def _role(value) -> MembershipRole:
    try:
        return MembershipRole(str(value).strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        allowed = ", ".join(r.value for r in MembershipRole)
        raise ValidationError(
            f"Role must be one of {allowed}.", {"role": ["Unknown role."]}
        ) from None


def _organisation(value) -> str | None:
    return rules.text_field(value, "organisation", rules.NAME, label="Organisation")


def _check_dates(start: date | None, end: date | None) -> None:
    rules.date_field(start, "start_date", "The start date")
    rules.date_field(end, "end_date", "The end date")
    if start and end and end < start:
        raise ValidationError(
            "A membership cannot end before it starts.",
            {"end_date": ["Must be on or after the start date."]},
        )


def add_membership(
    committee: Committee,
    person: Person,
    role="member",
    organisation: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Membership:
    role = _role(role)
    _check_dates(start_date, end_date)
    overlapping = [
        m
        for m in committee.memberships
        if m.person_id == person.id
        and (m.end_date is None or start_date is None or m.end_date >= start_date)
        and (end_date is None or m.start_date is None or m.start_date <= end_date)
    ]
    if overlapping:
        raise ValidationError(
            f"{person.name} already has a membership for those dates.",
            {"person_id": ["Already a member for those dates."]},
        )
    membership = Membership(
        committee=committee,
        person=person,
        role=role,
        organisation=_organisation(organisation),
        start_date=start_date,
        end_date=end_date,
    )
    db.session.add(membership)
    db.session.flush()
    record("membership_added", membership, summary=f"{person.name} as {role.value}")
    return membership


def update_membership(membership: Membership, **fields) -> Membership:
    if "role" in fields:
        membership.role = _role(fields["role"])
    if "organisation" in fields:
        membership.organisation = _organisation(fields["organisation"])
    if "start_date" in fields:
        membership.start_date = fields["start_date"]
    if "end_date" in fields:
        membership.end_date = fields["end_date"]
    _check_dates(membership.start_date, membership.end_date)
    db.session.flush()
    record("membership_updated", membership, fields=sorted(fields))
    return membership


def end_membership(membership: Membership, on: date) -> Membership:
    return update_membership(membership, end_date=on)


# --- people --------------------------------------------------------------------------------

PERSON_LIMITS = {"name": 200, "honorific": 50, "job_title": 200, "organisation": 200, "email": 254}


def clean_person_fields(fields: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out = {}
    for key, limit in PERSON_LIMITS.items():
        if key not in fields:
            continue
        try:
            out[key] = _text(fields[key], limit, _label(key))
        except ValueError as exc:
            errors[key] = [str(exc)]
    if "name" in fields and not out.get("name") and "name" not in errors:
        errors["name"] = ["Enter a name."]
    if out.get("email"):
        try:
            out["email"] = validate_email(out["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = ["Enter a valid e-mail address."]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    return out


def create_person(**fields) -> Person:
    person = Person(**clean_person_fields({"name": fields.get("name"), **fields}))
    db.session.add(person)
    db.session.flush()
    record("person_created", person, summary=person.name)
    return person


def find_person(name: str | None, email: str | None) -> Person | None:
    """The existing person an import row means: by e-mail first, else by exact name."""
    if email:
        found = db.session.scalar(select(Person).where(func.lower(Person.email) == email.lower()))
        if found:
            return found
    if name:
        matches = db.session.scalars(
            select(Person).where(func.lower(Person.name) == name.lower())
        ).all()
        if len(matches) == 1:
            return matches[0]
    return None


PERSON_FIELDS = tuple(PERSON_LIMITS)


def person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    return person


def update_person(person: Person, expected_version: int | None = None, **fields) -> Person:
    """Change a person's fields; a Conflict when the form was loaded from an older version.
    The audit event lists what changed, old and new."""
    check_version(person, expected_version)
    cleaned = clean_person_fields({k: fields[k] for k in PERSON_FIELDS if k in fields})
    changes = {}
    for key, value in cleaned.items():
        old = getattr(person, key)
        if (old or None) != (value or None):
            changes[key] = [old, value]
            setattr(person, key, value)
    if changes:
        person.version += 1
        db.session.flush()
        record("person_updated", person, summary=person.name, changes=changes)
    return person


# --- pickers -------------------------------------------------------------------------------

PICKER_LIMIT = 20
PICKER_GROUPS = (
    ("Members", set(VOTING_ROLES)),
    ("Substitutes", {MembershipRole.SUBSTITUTE}),
    ("Officers and observers", {MembershipRole.OFFICER, MembershipRole.OBSERVER}),
)


def people_for_picker(
    committee: Committee | None,
    on: date | None = None,
    q: str | None = None,
    keep=(),
    also=(),
) -> list[tuple[str, list[Person]]]:
    """The people a picker offers, as (group label, people) in order: the committee's members,
    substitutes, officers and observers on that date, then `also` (those already on the
    meeting's register), then everyone else only as found by name (`q`, at most PICKER_LIMIT)
    or already chosen (`keep`, ids), so a saved choice outside the committee still shows.
    Every page that picks a person asks this, so none lists the whole system."""
    groups: list[tuple[str, list[Person]]] = []
    offered: set[int] = set()
    memberships = committee.current_memberships(on) if committee is not None else []
    for label, roles in PICKER_GROUPS:
        people = sorted(
            {m.person for m in memberships if m.role in roles and m.person_id not in offered},
            key=lambda p: (p.name.lower(), p.id),
        )
        offered.update(p.id for p in people)
        groups.append((label, people))
    at_meeting = sorted(
        {p for p in also if p.id not in offered}, key=lambda p: (p.name.lower(), p.id)
    )
    offered.update(p.id for p in at_meeting)
    groups.append(("Also at this meeting", at_meeting))
    others: list[Person] = []
    q = found_by(q)
    # Ids come from forms: anything but a plausible id is no one (and never reaches SQL).
    keep_ids = {int(k) for k in keep if str(k).isdecimal() and 0 < int(k) < 2**31} - offered
    if keep_ids:
        others += db.session.scalars(select(Person).where(Person.id.in_(keep_ids))).all()
        offered.update(p.id for p in others)
    if q:
        stmt = select(Person).where(rules.contains_literally(Person.name, q))
        if offered:
            stmt = stmt.where(Person.id.not_in(offered))
        stmt = stmt.order_by(func.lower(Person.name), Person.id).limit(PICKER_LIMIT)
        others += db.session.scalars(stmt).all()
    groups.append(("Someone else", sorted(others, key=lambda p: (p.name.lower(), p.id))))
    return [(label, people) for label, people in groups if people]


# --- CSV import ------------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "name",
    "honorific",
    "job_title",
    "organisation",
    "email",
    "role",
    "start_date",
    "end_date",
)
REQUIRED_COLUMNS = ("name", "role")


@dataclass
class ImportRow(CsvRow):
    person: Person | None = None
    creates_person: bool = False


class ImportPreview(CsvPreview):
    @property
    def people_to_create(self) -> int:
        return sum(r.creates_person for r in self.rows)


def _same_person_as(fields: dict, by_email: dict, by_name: dict) -> str | None:
    """Whether a row repeats an earlier one. The same e-mail address is the same person; so is
    the same name when either row lacks an address, since nothing then tells them apart (two
    people of one name are told apart by giving both their addresses)."""
    email = (fields.get("email") or "").lower()
    name = " ".join((fields.get("name") or "").split()).lower()
    if email and email in by_email:
        return f"Same person as line {by_email[email]}."
    for line, other_email in by_name.get(name, []) if name else []:
        if other_email is None and not email:
            return f"Same person as line {line}."
        if other_email is None or not email:
            return (
                f"Same person as line {line}? The same name is given with an e-mail address "
                "on one line and without on the other. If they are two people, give both "
                "their e-mail addresses; if not, remove one of the lines."
            )
    return None


def preview_import(committee: Committee, data: bytes | str) -> ImportPreview:
    """Check every row and say what would be created, without changing anything."""
    try:
        parsed = parse_csv(data, IMPORT_COLUMNS, REQUIRED_COLUMNS)
    except CsvFileError as exc:
        return ImportPreview([], [str(exc)])
    rows: list[ImportRow] = []
    by_email: dict[str, int] = {}
    by_name: dict[str, list[tuple[int, str | None]]] = {}
    for index, values in parsed:
        row = ImportRow(index, values)
        try:
            person_fields = clean_person_fields({k: values.get(k) for k in PERSON_LIMITS})
        except ValidationError as exc:
            row.errors.extend(f"{k}: {m[0]}" for k, m in exc.errors.items())
            person_fields = {}
        try:
            values["role"] = _role(values.get("role") or "member")
        except ValidationError as exc:
            row.errors.append(exc.detail)
        start = parse_date(values.get("start_date"), "Start date", row.errors)
        end = parse_date(values.get("end_date"), "End date", row.errors)
        for day, label in ((start, "The start date"), (end, "The end date")):
            try:
                rules.check_year(day, label)
            except ValueError as exc:
                row.errors.append(str(exc))
        if start and end and end < start:
            row.errors.append("End date is before the start date.")
        values["start_date"], values["end_date"] = start, end
        duplicate = _same_person_as(person_fields, by_email, by_name)
        if duplicate:
            row.errors.append(duplicate)
        email = (person_fields.get("email") or "").lower()
        name = " ".join((person_fields.get("name") or "").split()).lower()
        if email:
            by_email.setdefault(email, index)
        if name:
            by_name.setdefault(name, []).append((index, email or None))
        if person_fields.get("name"):
            row.person = find_person(person_fields["name"], person_fields.get("email"))
            row.creates_person = row.person is None
            values.update(person_fields)
            if row.person is not None and any(
                m.person_id == row.person.id and m.is_current(start or date.today())
                for m in committee.memberships
            ):
                row.errors.append(f"{row.person.name} is already a member.")
        rows.append(row)
    return ImportPreview(rows)


def apply_import(committee: Committee, data: bytes | str) -> ImportPreview:
    """Import every row, or none: any bad row refuses the whole file."""
    preview = preview_import(committee, data)
    if not preview.ok:
        raise preview.refusal()
    savepoint = db.session.begin_nested()
    try:
        for row in preview.rows:
            person = row.person or create_person(**{k: row.values.get(k) for k in PERSON_LIMITS})
            add_membership(
                committee,
                person,
                row.values["role"],
                organisation=row.values.get("organisation"),
                start_date=row.values["start_date"],
                end_date=row.values["end_date"],
            )
    except Exception:
        savepoint.rollback()
        raise
    savepoint.commit()
    record("memberships_imported", committee, summary=f"{len(preview.rows)} rows")
    return preview
