"""Action plans as councils keep them: a spreadsheet (CSV or XLSX) with the council's own
headings, theme lines above groups of rows, RAG as letters or words, several leads in a cell
and dates as people write them. One preview and one import, called by the page and the API
alike; re-importing the same plan updates its actions by reference and never duplicates them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.actions.models import Action, ActionCoOwner, ActionStatus, Rag
from app.actions.services import REFERENCE_RE, correct_action, create_action, post_update
from app.audit.services import record
from app.committees.models import Committee
from app.committees.services import create_person
from app.core import text as rules
from app.core.dates import read_written_date
from app.core.errors import ValidationError
from app.core.storage import disk_space, storage_root
from app.extensions import db
from app.people.models import Person

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 60
# An XLSX is a zip: what it unpacks to is bounded too, so a small file cannot expand to fill
# the memory of the process reading it.
MAX_UNZIPPED = 40 * 1024 * 1024
HEADER_SEARCH = 10  # title rows councils put above the headings

# The fields a plan's column can be, with what the page calls them.
FIELDS = {
    "theme": "Theme",
    "objective": "Objective",
    "reference": "Reference",
    "action": "Action",
    "lead": "Lead (owner)",
    "lead_email": "Lead's e-mail",
    "due_date": "Due or end date",
    "review_date": "Review date",
    "target": "Targets and measures",
    "rag": "RAG rating",
    "status": "Status",
    "note": "Progress note",
}
IGNORE = "ignore"  # a column the clerk leaves out

# Headings as councils write them (normalised: lower case, words only), and the field each
# means. "Priority" is the action where no other column is, otherwise the objective.
HEADINGS: dict[str, tuple[str, ...]] = {}
for _field, _names in {
    "theme": "theme|themes|strategic theme|priority theme|workstream|work stream|area|"
    "priority area|outcome area|section",
    "objective": "objective|objectives|aim|aims|strategic objective|strategic priority|"
    "outcome|outcomes|desired outcome|goal",
    "reference": "ref|reference|ref no|ref number|reference number|no|number|id|action ref|"
    "action no|action number|item|item no",
    "action": "action|actions|action required|actions required|key actions|key action|task|"
    "tasks|activity|activities|what we will do|what will we do|description|milestone",
    "lead": "lead|leads|lead driver|lead drivers|owner|owners|action owner|lead officer|"
    "lead officers|responsible officer|responsible|responsibility|who|lead person|"
    "lead agency|lead organisation|accountable officer|accountable|lead partner",
    "lead_email": "email|e mail|lead email|lead e mail|owner email|owner e mail|contact email",
    "due_date": "deadline|due|due date|end date|target date|by when|when|completion date|"
    "timescale|timescales|date|review end date|end review date|target completion date|"
    "timeframe|delivery date",
    "review_date": "review date|review|next review|review by|date of review",
    "target": "target|targets|measure|measures|target measure|targets outputs and outcome "
    "measures|outputs and outcome measures|outcome measures|performance measures|"
    "success measures|success criteria|kpi|kpis|performance indicator|measures of success|"
    "how will we know|evidence",
    "rag": "rag|rag status|rag rating|rating|status rag|rag rated|progress rag",
    "status": "status|current status|progress status|state",
    "note": "progress|progress update|update|updates|comments|comment|commentary|notes|"
    "progress to date|latest update|progress comments",
}.items():
    for _name in _names.split("|"):
        HEADINGS[_name] = (_field,)
HEADINGS["priority"] = ("action", "objective")
HEADINGS["priorities"] = ("action", "objective")

RAG_WORDS = {
    "r": Rag.RED,
    "red": Rag.RED,
    "a": Rag.AMBER,
    "amber": Rag.AMBER,
    "g": Rag.GREEN,
    "green": Rag.GREEN,
    # Plans give "complete" a colour of its own (grey, blue, or the word): Minutebook's grey,
    # complete and evidenced.
    "grey": Rag.GREY,
    "gray": Rag.GREY,
    "gy": Rag.GREY,
    "blue": Rag.GREY,
    "b": Rag.GREY,
    "complete": Rag.GREY,
    "completed": Rag.GREY,
    "c": Rag.GREY,
}
STATUS_WORDS = {
    "open": ActionStatus.OPEN,
    "not started": ActionStatus.OPEN,
    "not yet started": ActionStatus.OPEN,
    "planned": ActionStatus.OPEN,
    "in progress": ActionStatus.IN_PROGRESS,
    "ongoing": ActionStatus.IN_PROGRESS,
    "on going": ActionStatus.IN_PROGRESS,
    "started": ActionStatus.IN_PROGRESS,
    "on track": ActionStatus.IN_PROGRESS,
    "underway": ActionStatus.IN_PROGRESS,
    "under way": ActionStatus.IN_PROGRESS,
    "complete": ActionStatus.COMPLETE,
    "completed": ActionStatus.COMPLETE,
    "done": ActionStatus.COMPLETE,
    "achieved": ActionStatus.COMPLETE,
    "closed": ActionStatus.COMPLETE,
    "cancelled": ActionStatus.CANCELLED,
    "canceled": ActionStatus.CANCELLED,
    "withdrawn": ActionStatus.CANCELLED,
    "no longer required": ActionStatus.CANCELLED,
}
_LEAD_SPLIT = re.compile(r"\s*(?:[,;/&+\n]|\band\b)\s*", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_REVIEW = re.compile(r"^\s*review(?:ed)?(?:\s+date)?\b[\s:,-]*", re.IGNORECASE)


class PlanFileError(Exception):
    """The file as a whole cannot be read as a plan."""


def normalise_heading(heading) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", str(heading or "").lower().replace("&", " and "))
    return " ".join(words.split())


def _guess(heading: str) -> tuple[str, ...]:
    """The fields a heading may mean: as written, else by the word that gives it away."""
    name = normalise_heading(heading)
    if name in HEADINGS:
        return HEADINGS[name]
    words = set(name.split())
    for keys, found in (
        ({"rag"}, "rag"),
        ({"lead", "leads", "owner", "owners", "responsible", "accountable"}, "lead"),
        ({"email"}, "lead_email"),
        ({"target", "targets", "measure", "measures", "kpi", "kpis"}, "target"),
        ({"deadline", "timescale", "timescales", "due"}, "due_date"),
        ({"review"}, "review_date"),
        ({"objective", "objectives"}, "objective"),
        ({"theme", "themes"}, "theme"),
        ({"ref"}, "reference"),
        ({"action", "actions"}, "action"),
        ({"progress", "comments", "commentary"}, "note"),
        ({"status"}, "status"),
    ):
        if words & keys:
            return (found,)
    return ()


# --- the upload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanUpload:
    filename: str
    data: bytes

    @property
    def kind(self) -> str:
        if self.data[:4] == b"PK\x03\x04":
            return "xlsx"
        if self.data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            return "xls"
        return "csv"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def upload_from(file_storage) -> PlanUpload:
    """The uploaded file, read up to the limit; PlanFileError when there is none or too much."""
    # A form field sent as text where the file should be is no file either.
    data = file_storage.read(MAX_BYTES + 1) if hasattr(file_storage, "read") else b""
    if isinstance(data, str):
        data = data.encode()
    if not data:
        raise PlanFileError("Choose a CSV or XLSX file.")
    if len(data) > MAX_BYTES:
        raise PlanFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    name = Path(str(getattr(file_storage, "filename", "") or "plan")).name[:200]
    return PlanUpload(name or "plan", data)


# Kept between the preview and the confirmation, named by its content and signed, so the
# clerk confirms exactly the file previewed without sending it twice, and no half-stored row
# exists meanwhile: it is a file under the instance's storage, not a database row.
KEPT_FOR = 24 * 3600


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="action-plan-upload")


def _kept_path(sha256: str) -> Path:
    return storage_root() / "plan-uploads" / f"{sha256}.upload"


def keep_upload(upload: PlanUpload, committee: Committee) -> str:
    """Store the file for the confirmation; the token names it, for this committee only."""
    path = _kept_path(upload.sha256)
    with disk_space():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written whole under a name of its own, then renamed: another process previewing
            # the same file at once never reads half of it.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(upload.data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            path.touch()  # kept for another day from this preview
    _forget_old(path.parent)
    return _signer().dumps([committee.id, upload.sha256, upload.filename])


def kept_upload(token: str | None, committee: Committee) -> PlanUpload:
    try:
        committee_id, sha256, filename = _signer().loads(token or "", max_age=KEPT_FOR)
    except (BadSignature, ValueError, TypeError):
        raise PlanFileError("The previewed file has expired: choose it again.") from None
    path = _kept_path(str(sha256))
    if committee_id != committee.id or not path.exists():
        raise PlanFileError("The previewed file has expired: choose it again.")
    return PlanUpload(str(filename), path.read_bytes())


def _forget_old(folder: Path) -> None:
    now = datetime.now().timestamp()
    for old in folder.glob("*.upload"):
        try:
            if now - old.stat().st_mtime > KEPT_FOR:
                old.unlink()
        except OSError:
            pass  # another process removed it first


# --- reading the table -----------------------------------------------------------------------

Cell = str | date


def _cell(value) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float):
        # A reference typed as 1.2 is stored by Excel as a number.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def read_table(upload: PlanUpload) -> list[tuple[int, list[Cell]]]:
    """(row number as the spreadsheet shows it, cells) for each row that is not blank."""
    name = upload.filename.lower()
    if name.endswith((".xlsm", ".xltm", ".xlsb", ".xlam")):
        raise PlanFileError(
            "The file is a workbook with macros: save it as an .xlsx workbook or as CSV."
        )
    kind = upload.kind
    if kind == "xls":
        raise PlanFileError(
            "The file is an old Excel (.xls) workbook: save it as .xlsx or as CSV UTF-8."
        )
    rows = _read_xlsx(upload.data) if kind == "xlsx" else _read_csv(upload.data)
    kept = []
    for number, cells in rows:
        if any(c != "" for c in cells):
            if len(kept) > MAX_ROWS:
                raise PlanFileError(f"At most {MAX_ROWS} rows can be imported at once.")
            kept.append((number, cells))
    if not kept:
        raise PlanFileError("The file has no rows to import.")
    return kept


def _read_csv(data: bytes):
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise PlanFileError("The file is not UTF-8 text. Save it as CSV UTF-8.") from None
    if "\x00" in text:
        raise PlanFileError("The file holds NUL characters, so it is not a text CSV file.")
    try:
        return [
            (number, [c.strip() for c in cells[:MAX_COLUMNS]])
            for number, cells in enumerate(csv.reader(io.StringIO(text), strict=True), start=1)
        ]
    except csv.Error as exc:
        raise PlanFileError(f"The file is not valid CSV: {exc}.") from None


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise PlanFileError("The file cannot be read as an XLSX workbook.") from None
    if "xl/workbook.xml" not in names:
        raise PlanFileError("The file is not an Excel workbook: save it as .xlsx or as CSV.")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise PlanFileError(
            "The file is a workbook with macros: save it as an .xlsx workbook or as CSV."
        )
    if unpacked > MAX_UNZIPPED or len(names) > 1000:
        raise PlanFileError("The workbook is too large to import: save the plan's sheet alone.")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # an untrusted file: any failure of the reader is a file that cannot be read
        raise PlanFileError("The file cannot be read as an XLSX workbook.") from None
    try:
        sheet = book.worksheets[0]  # the plan is the first sheet
        rows = []
        for number, values in enumerate(
            sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
        ):
            cells = [_cell(v) for v in values]
            while cells and cells[-1] == "":  # a sheet's width is its widest row's
                cells.pop()
            rows.append((number, cells))
            if len(rows) > MAX_ROWS + HEADER_SEARCH + 1 and any(cells):
                raise PlanFileError(f"At most {MAX_ROWS} rows can be imported at once.")
        return rows
    except PlanFileError:
        raise
    except Exception:
        raise PlanFileError("The file cannot be read as an XLSX workbook.") from None
    finally:
        book.close()


# --- the preview -----------------------------------------------------------------------------


@dataclass
class Column:
    heading: str
    field: str | None  # None: left out
    recognised: bool  # found from the heading, not chosen by the clerk


@dataclass
class Lead:
    name: str
    email: str | None
    person: Person | None = None
    how: str = "new"  # "e-mail", "name", "new", or "ambiguous"

    @property
    def said(self) -> str:
        if self.how == "e-mail":
            return f"{self.name}: an existing person, found by e-mail"
        if self.how == "name":
            return f"{self.name}: an existing person, found by name"
        if self.how == "ambiguous":
            return f"{self.name}: several people have this name; add the lead's e-mail"
        return f"{self.name}: a new person, to be added"


@dataclass
class PlanRow:
    line: int
    outcome: str = "create"  # "create", "update", "leave" or "error"
    reference: str | None = None
    title: str | None = None
    theme: str | None = None
    objective: str | None = None
    target: str | None = None
    leads: list[Lead] = field(default_factory=list)
    due_date: date | None = None
    review_date: date | None = None
    rag: Rag | None = None
    status: ActionStatus | None = None  # as the file says, or from a grey rating
    note: str | None = None
    action: Action | None = None  # the action it updates or leaves
    changes: list[str] = field(default_factory=list)  # what an update changes
    notes: list[str] = field(default_factory=list)  # how the row was read
    errors: list[str] = field(default_factory=list)

    @property
    def owner(self) -> Lead | None:
        return self.leads[0] if self.leads else None

    @property
    def co_owners(self) -> list[Lead]:
        return self.leads[1:]


@dataclass
class PlanPreview:
    filename: str
    columns: list[Column] = field(default_factory=list)
    rows: list[PlanRow] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)  # each lead once, as the file names them
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(not r.errors for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "leave": 0, "error": 0}
        for row in self.rows:
            out[row.outcome] += 1
        return out

    @property
    def unrecognised(self) -> list[Column]:
        return [c for c in self.columns if not c.recognised]

    def refusal(self) -> ValidationError:
        errors = {f"row {r.line}": r.errors for r in self.rows if r.errors}
        if self.errors:
            errors["file"] = self.errors
        first = self.errors[0] if self.errors else "Some rows have errors."
        return ValidationError(f"Nothing was imported: {first}", errors)


def check_columns(columns) -> dict[str, str]:
    """The clerk's mapping (heading -> field, or "ignore"), checked; ValidationError if not."""
    if columns is None:
        return {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise ValidationError(
            "Columns map each heading to a field.",
            {"columns": ["Send an object of heading: field."]},
        )
    bad = sorted({v for v in columns.values() if v not in FIELDS and v not in (IGNORE, "")})
    if bad:
        raise ValidationError(
            f"Unknown field(s): {', '.join(bad)}.",
            {"columns": [f"Fields are {', '.join(FIELDS)} or {IGNORE}."]},
        )
    return {normalise_heading(k): (v or IGNORE) for k, v in columns.items()}


def _map_columns(header: list[Cell], chosen: dict[str, str]) -> tuple[list[Column], list[str]]:
    columns: list[Column] = []
    errors: list[str] = []
    guesses = []
    for cell in header:
        heading = str(cell) if not isinstance(cell, date) else cell.isoformat()
        columns.append(Column(heading, None, False))
        guesses.append(_guess(heading) if heading else ())
    taken: set[str] = set()
    for column, guess in zip(columns, guesses, strict=True):  # the clerk's choices first
        key = normalise_heading(column.heading)
        if key in chosen:
            column.field = None if chosen[key] == IGNORE else chosen[key]
            column.recognised = column.field is not None and column.field in guess
            if column.field in taken:
                errors.append(f"Two columns are mapped to {FIELDS[column.field].lower()}.")
            taken.add(column.field or IGNORE)
    for unambiguous in (True, False):
        for column, guess in zip(columns, guesses, strict=True):
            key = normalise_heading(column.heading)
            if key in chosen or column.field or not guess or (len(guess) == 1) != unambiguous:
                continue
            free = [f for f in guess if f not in taken]
            if free:
                column.field, column.recognised = free[0], True
                taken.add(free[0])
    known = {normalise_heading(c.heading) for c in columns}
    for key in chosen:
        if key not in known:
            errors.append(f"The file has no heading {key!r} to map.")
    if "action" not in taken:
        errors.append("No column is the action: choose which heading says what is to be done.")
    return columns, errors


def _header_at(rows: list[tuple[int, list[Cell]]], chosen: dict[str, str]) -> int:
    """Where the headings are: the first of the top rows with two or more known headings (or
    a heading the clerk mapped), else the first row."""
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH]):
        found = sum(
            1
            for c in cells
            if isinstance(c, str) and c and (_guess(c) or normalise_heading(c) in chosen)
        )
        if found >= 2:
            return index
    return 0


def _text(row: PlanRow, value, limit: int, label: str, multiline: bool = False) -> str | None:
    if isinstance(value, date):
        value = value.isoformat()
    try:
        return rules.clean_text(value, limit, multiline=multiline, label=label)
    except ValueError as exc:
        row.errors.append(str(exc))
        return None


def _date(row: PlanRow, value, label: str) -> date | None:
    written = read_written_date(value)
    if written.problem:
        row.notes.append(f"{label}: {written.problem}, so it is left without one.")
        return None
    if written.value is None:
        return None
    try:
        rules.check_year(written.value, f"The {label.lower()}")
    except ValueError as exc:
        row.errors.append(str(exc))
        return None
    if written.approximated:
        row.notes.append(
            f"{label}: {str(value).strip()!r} names no day, so it is read as "
            f"{written.value.day} {written.value:%B %Y}, the end of that period."
        )
    return written.value


def read_rag(value: str) -> Rag | str | None:
    """The rating a cell gives, None for a blank cell, or the text when it is no rating."""
    word = normalise_heading(value)
    if not word:
        return None
    if word in RAG_WORDS:
        return RAG_WORDS[word]
    # "A/G", "Amber Green": between two ratings, the worse.
    parts = [RAG_WORDS.get(w) for w in word.split() if w in RAG_WORDS]
    if parts and len(parts) == len(word.split()):
        order = [Rag.RED, Rag.AMBER, Rag.GREEN, Rag.GREY]
        return min(parts, key=order.index)
    return str(value)


def _leads(row: PlanRow, value, emails_cell) -> list[tuple[str, str | None]]:
    text = _text(row, value, rules.SHORT_TEXT, "The lead", multiline=True) or ""
    emails = _EMAIL.findall(str(emails_cell or ""))
    out: list[tuple[str, str | None]] = []
    for part in _LEAD_SPLIT.split(text):
        email_match = _EMAIL.search(part)
        email = email_match[0] if email_match else None
        name = " ".join(_EMAIL.sub("", part).replace("(", " ").replace(")", " ").split())
        name = name.strip(" <>-:")
        if not name and email:
            name = email.split("@")[0].replace(".", " ").title()
        if not name:
            continue
        if len(name) > rules.NAME:
            row.errors.append(f"The lead {name[:40]!r}… is longer than a name can be.")
            continue
        if name.lower() not in {n.lower() for n, _ in out}:
            out.append((name, email))
    # An e-mail column gives the leads' addresses in the same order.
    out = [
        (name, email or (emails[i] if i < len(emails) else None))
        for i, (name, email) in enumerate(out)
    ]
    return out


def _find_leads(wanted: dict[str, Lead]) -> None:
    """Existing people by e-mail first, then by name (one query each for the whole file)."""
    emails = {lead.email.lower() for lead in wanted.values() if lead.email}
    by_email: dict[str, Person] = {}
    if emails:
        for person in db.session.scalars(
            select(Person).where(func.lower(Person.email).in_(emails)).order_by(Person.id)
        ):
            by_email.setdefault((person.email or "").lower(), person)
    names = {lead.name.lower() for lead in wanted.values()}
    by_name: dict[str, list[Person]] = {}
    for person in db.session.scalars(
        select(Person).where(func.lower(Person.name).in_(names)).order_by(Person.id)
    ):
        by_name.setdefault(person.name.lower(), []).append(person)
    for lead in wanted.values():
        if lead.email and lead.email.lower() in by_email:
            lead.person, lead.how = by_email[lead.email.lower()], "e-mail"
            continue
        matches = by_name.get(lead.name.lower(), [])
        if len(matches) == 1:
            lead.person, lead.how = matches[0], "name"
        elif len(matches) > 1:
            lead.how = "ambiguous"


def preview_plan(committee: Committee, upload: PlanUpload, columns=None) -> PlanPreview:
    """What importing this plan into the committee would do, row by row: create, update (and
    what changes), leave (nothing to change) or error (and why). Nothing is written."""
    preview = PlanPreview(upload.filename)
    chosen = check_columns(columns)
    try:
        table = read_table(upload)
    except PlanFileError as exc:
        preview.errors.append(str(exc))
        return preview
    start = _header_at(table, chosen)
    if start:
        preview.notes.append(
            f"The headings are on row {table[start][0]}; the rows above them are left out."
        )
    header_cells = table[start][1]
    preview.columns, preview.errors = _map_columns(header_cells, chosen)
    if preview.errors:
        return preview
    index = {c.field: i for i, c in enumerate(preview.columns) if c.field}
    action_first = preview.columns[0].field == "action"

    def cell(cells: list[Cell], name: str) -> Cell:
        i = index.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    theme: str | None = None
    objective: str | None = None
    seen_refs: dict[str, int] = {}
    wanted: dict[str, Lead] = {}
    for number, cells in table[start + 1 :]:
        filled = [i for i, c in enumerate(cells) if c != ""]
        if filled == [0] and len(preview.columns) > 1 and not action_first:
            # A line naming the theme of the rows below it.
            row = PlanRow(number)
            theme = _text(row, cells[0], rules.LINE, "The theme")
            objective = None
            if row.errors:
                row.outcome = "error"
                preview.rows.append(row)
            continue
        row = PlanRow(number)
        # A theme or objective written once for a group (merged cells) holds for the rows
        # below it until another is written.
        if "theme" in index and cell(cells, "theme") != "":
            theme = _text(row, cell(cells, "theme"), rules.LINE, "The theme")
            objective = None
        if "objective" in index and cell(cells, "objective") != "":
            objective = _text(row, cell(cells, "objective"), rules.LONG_TEXT, "The objective", True)
        row.theme, row.objective = theme, objective
        row.title = _text(row, cell(cells, "action"), rules.SHORT_TEXT, "The action")
        if not row.title:
            row.errors.append("The action is empty.")
        reference = _text(row, cell(cells, "reference"), 50, "The reference")
        if reference:
            reference = reference.rstrip(".")
            if not REFERENCE_RE.match(reference):
                row.errors.append(f"Reference {reference!r} should look like 1.2.3.")
            elif reference in seen_refs:
                row.errors.append(f"Reference {reference} is also on row {seen_refs[reference]}.")
            seen_refs.setdefault(reference, number)
        row.reference = reference
        row.target = _text(row, cell(cells, "target"), rules.LONG_TEXT, "The target", True)
        row.note = _text(row, cell(cells, "note"), rules.LONG_TEXT, "The progress note", True)
        due = cell(cells, "due_date")
        if isinstance(due, str) and _REVIEW.match(due):
            # "Review 31 st July 2015": the plan gives a date to review it by, not an end.
            row.review_date = _date(row, _REVIEW.sub("", due), "Review date")
        else:
            row.due_date = _date(row, due, "Due date")
        if "review_date" in index:
            row.review_date = _date(row, cell(cells, "review_date"), "Review date")
        rag = read_rag(str(cell(cells, "rag")))
        if rag is not None and not isinstance(rag, Rag):
            row.errors.append(f"RAG {rag!r} should be red, amber, green or grey (R, A, G).")
            rag = None
        row.rag = rag
        status_text = str(cell(cells, "status"))
        if status_text:
            said = normalise_heading(status_text)
            if said in STATUS_WORDS:
                row.status = STATUS_WORDS[said]
            elif isinstance(found := read_rag(status_text), Rag) and not row.rag:
                row.rag = found  # councils' "Status" column often holds the RAG rating
            else:
                # Not a status Minutebook has: kept as what it is, a note on progress.
                row.note = "\n".join(n for n in (status_text, row.note) if n)
                row.notes.append(f"Status {status_text!r} is kept as a progress note.")
        if row.rag == Rag.GREY:
            if row.status not in (None, ActionStatus.COMPLETE):
                row.errors.append("Grey (complete) is for actions that are complete.")
            row.status = ActionStatus.COMPLETE
        for name, email in _leads(row, cell(cells, "lead"), cell(cells, "lead_email")):
            lead = wanted.setdefault(name.lower(), Lead(name, email))
            lead.email = lead.email or email
            row.leads.append(lead)
        if not row.leads:
            row.errors.append("The lead is empty: every action needs an owner.")
        preview.rows.append(row)
    _find_leads(wanted)
    preview.leads = list(wanted.values())
    for row in preview.rows:
        for lead in row.leads:
            if lead.how == "ambiguous":
                row.errors.append(lead.said)
        if len(row.leads) > 1:
            row.notes.append(
                f"Owner: {row.leads[0].name}; also leading (kept as co-owners): "
                + ", ".join(lead.name for lead in row.co_owners)
                + "."
            )
    _match_existing(committee, preview)
    return preview


def _match_existing(committee: Committee, preview: PlanPreview) -> None:
    """Each row's action already in the committee: by reference, else (no reference) by its
    words; then what importing the row would change."""
    refs = {r.reference for r in preview.rows if r.reference}
    titles = {r.title.lower() for r in preview.rows if r.title and not r.reference}
    by_ref: dict[str, list[Action]] = {}
    by_title: dict[str, list[Action]] = {}
    if refs:
        for action in db.session.scalars(
            select(Action).where(Action.committee_id == committee.id, Action.reference.in_(refs))
        ):
            by_ref.setdefault(action.reference, []).append(action)
    if titles:
        for action in db.session.scalars(
            select(Action).where(
                Action.committee_id == committee.id,
                Action.reference.is_(None),
                func.lower(Action.title).in_(titles),
            )
        ):
            by_title.setdefault(action.title.lower(), []).append(action)
    for row in preview.rows:
        if row.title is None and row.reference is None and not row.leads:
            row.outcome = "error"  # a theme line that could not be read
            continue
        found = by_ref.get(row.reference, []) if row.reference else []
        if not row.reference and row.title:
            found = by_title.get(row.title.lower(), [])
        if len(found) > 1:
            row.errors.append(
                f"{len(found)} actions of this committee already have "
                + (f"reference {row.reference}" if row.reference else "these words")
                + ": correct them first."
            )
        elif found:
            row.action = found[0]
            if not row.reference:
                row.notes.append("Matched to the committee's action with the same words.")
            _changes(row, found[0])
        if row.errors:
            row.outcome = "error"
        elif row.action is None:
            row.outcome = "create"
        else:
            row.outcome = "update" if row.changes else "leave"


def _changes(row: PlanRow, action: Action) -> None:
    if row.status and row.status != action.status:
        row.changes.append(
            f"status {action.status.value.replace('_', ' ')} → {row.status.value.replace('_', ' ')}"
        )
    if row.rag and row.rag != action.rag:
        row.changes.append(f"RAG {action.rag.value if action.rag else 'none'} → {row.rag.value}")
    new_status = row.status or action.status
    if action.rag == Rag.GREY and not row.rag and new_status != ActionStatus.COMPLETE:
        row.errors.append("The action is rated grey (complete): give a RAG rating to reopen it.")
    owner = row.owner
    if owner is not None and (owner.person is None or owner.person.id != action.owner_id):
        was = action.owner.display_name if action.owner else "none"
        row.changes.append(f"lead {was} → {owner.name}")
    if row.due_date and row.due_date != action.due_date:
        was = action.due_date.isoformat() if action.due_date else "none"
        row.changes.append(f"due date {was} → {row.due_date.isoformat()}")
    wanted_co = [lead.name.lower() for lead in row.co_owners]
    if wanted_co != [p.name.lower() for p in action.co_owners]:
        row.changes.append(
            "also leading: " + (", ".join(lead.name for lead in row.co_owners) or "nobody")
        )
    if row.title and row.title != action.title:
        row.notes.append("The file words the action differently; its title is left as it is.")


# --- the import ------------------------------------------------------------------------------


@dataclass
class PlanResult:
    preview: PlanPreview
    created: list[Action] = field(default_factory=list)
    updated: list[Action] = field(default_factory=list)
    left: list[Action] = field(default_factory=list)
    people_added: list[Person] = field(default_factory=list)


def import_plan(committee: Committee, upload: PlanUpload, user, columns=None) -> PlanResult:
    """Import the plan as its preview says, or nothing at all (ValidationError) when any row
    has an error. New leads become people; updates go through the actions' own update and
    correction paths, so each is in the action's history and the audit."""
    preview = preview_plan(committee, upload, columns)
    if not preview.ok:
        raise preview.refusal()
    result = PlanResult(preview)
    savepoint = db.session.begin_nested()
    try:
        for lead in preview.leads:
            if lead.person is None:
                lead.person = create_person(name=lead.name, email=lead.email)
                result.people_added.append(lead.person)
        for row in preview.rows:
            if row.outcome == "create":
                result.created.append(_create(committee, row, upload, user))
            elif row.outcome == "update":
                result.updated.append(_update(row, upload, user))
            else:
                result.left.append(row.action)
        record(
            "action_plan_imported",
            committee,
            user=user,
            summary=upload.filename,
            sha256=upload.sha256,
            created=len(result.created),
            updated=len(result.updated),
            left=len(result.left),
            people_added=len(result.people_added),
        )
    except Exception:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _set_co_owners(action: Action, row: PlanRow) -> None:
    action.co_owner_links = [
        ActionCoOwner(person=lead.person, position=i) for i, lead in enumerate(row.co_owners)
    ]


def _create(committee: Committee, row: PlanRow, upload: PlanUpload, user) -> Action:
    action = create_action(
        committee,
        row.title,
        row.owner.person.id,
        row.due_date,
        reference=row.reference,
        theme=row.theme,
        objective=row.objective,
        target_measure=row.target,
        review_date=row.review_date,
        rag=row.rag.value if row.rag else None,
        user=user,
    )
    _set_co_owners(action, row)
    status = row.status if row.status and row.status != action.status else None
    if status or row.note:
        post_update(
            action,
            user,
            row.note or f"Imported from the action plan {upload.filename}.",
            status,
        )
    db.session.flush()
    return action


def _update(row: PlanRow, upload: PlanUpload, user) -> Action:
    action = row.action
    corrections = {}
    if row.owner.person.id != action.owner_id:
        corrections["owner_id"] = row.owner.person.id
    if row.due_date and row.due_date != action.due_date:
        corrections["due_date"] = row.due_date
    if corrections:
        correct_action(action, user, **corrections)
    _set_co_owners(action, row)
    note = f"Updated from the action plan {upload.filename}: " + "; ".join(row.changes) + "."
    if row.note:
        note += "\n" + row.note
    post_update(
        action,
        user,
        note[: rules.LONG_TEXT],
        row.status if row.status != action.status else None,
        row.rag if row.rag != action.rag else None,
    )
    return action
