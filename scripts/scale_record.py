"""A council's record built through the services, a year at a time, for bench_scale.py.

Two shapes: the small default (a few committees, a couple of minutes to build and measure)
and issue 17's council (40 committees, ten meetings a year each, 20 agenda items, ~13 minutes
and ~17 resolutions, 5 actions with 2 updates and 2 papers a meeting, 500 people, one Full
Council of 100 members whose meetings have 40 items and 100 attendees).

Every row is made by the service a clerk's page would call (the checks, audit events, search
index and signals included), committed once per committee-year. One shortcut: an upload is
checked in a child process (pdfsafety), which costs the same for every copy of the same file;
the builder generates a few PDF variants, really checks each variant once, and gives later
uploads of a variant that check's answer (`Timings` reports what the real check cost).
"""

from __future__ import annotations

import io
import itertools
import shutil
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.actions import services as actions
from app.agenda import documents, pdfsafety
from app.agenda import services as agenda
from app.agenda.publication import publish_agenda
from app.auth.models import User
from app.committees import services as committees
from app.core.permissions import Role
from app.extensions import db
from app.meetings import services as meetings
from app.meetings.attendance import set_attendance
from app.minutes import services as minutes
from app.models import Committee, Meeting, Person

PASSWORD = "bench scale correct horse battery"
COUNCIL_SLUG = "full-council"
SAVE_SLUG = "committee-1"  # holds the meeting with many papers whose minute is saved

TITLES = [
    "Budget monitoring report",
    "Housing revenue account",
    "Planning application for the town centre",
    "Capital programme update",
    "Annual review of the council's budget",
    "School places strategy",
    "Parks and open spaces",
    "Transport and highways programme",
    "Library service review",
    "Climate emergency action plan",
    "Treasury management",
    "Performance report",
    "Community safety partnership",
    "Adult social care",
]
WORDS = (
    "The council considered the report on the budget, housing and transport. Members noted "
    "the risks to the budget set out in the appendix and the officers' recommendations. "
)


@dataclass(frozen=True)
class Shape:
    committees: int
    meetings_a_year: int
    items: int  # agenda items a meeting, sub-items included
    sub_items: int
    extra_resolutions: int  # beyond one a minute
    actions: int  # a meeting
    updates: int  # an action
    papers: int  # a meeting
    people: int
    members: int  # a committee's members, besides the Full Council
    council_members: int
    council_items: int
    named_votes: int  # resolutions a Full Council meeting with a recorded vote of each member
    save_papers: int  # papers of the meeting whose minute is saved
    pdf_pages: int
    variants: int  # distinct generated PDFs


SMALL = Shape(
    committees=4, meetings_a_year=6, items=6, sub_items=2, extra_resolutions=1, actions=2,
    updates=2, papers=1, people=40, members=6, council_members=20, council_items=12,
    named_votes=1, save_papers=80, pdf_pages=2, variants=4,
)  # fmt: skip
COUNCIL = Shape(
    committees=40, meetings_a_year=10, items=20, sub_items=7, extra_resolutions=4, actions=5,
    updates=2, papers=2, people=500, members=12, council_members=100, council_items=40,
    named_votes=2, save_papers=80, pdf_pages=3, variants=12,
)  # fmt: skip


class Timings:
    """Seconds spent in each service while building, and how many calls."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def __call__(self, name: str, calls: int = 1):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.calls[name] += calls

    def report(self) -> str:
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        return "\n".join(
            f"  {name:34} {self.calls[name]:7d} calls {s:8.1f} s "
            f"{s / max(1, self.calls[name]) * 1000:8.2f} ms each"
            for name, s in rows
        )


def generated_pdf(label: str, pages: int) -> bytes:
    from weasyprint import HTML

    body = "".join(
        f"<section style='page-break-after: always'><h2>{label}, page {n + 1}</h2>"
        + "".join(f"<p>{label}: paragraph {i}. {WORDS}</p>" for i in range(8))
        + "</section>"
        for n in range(pages)
    )
    html = f"<html lang='en'><head><title>{label}</title></head><body>{body}</body></html>"
    return HTML(string=html).write_pdf()


class CheckOncePerVariant:
    """pdfsafety.checked, run for real on the first upload of each set of bytes and answered
    from that run for later uploads of the same bytes (a fresh copy of the safe file each
    time, as add_document moves it into storage)."""

    def __init__(self, timings: Timings):
        self.real = pdfsafety.checked
        self.folder = Path(tempfile.mkdtemp(prefix="bench-checks-"))
        self.answers: dict[bytes, tuple[int, str | None, Path]] = {}
        self.timings = timings

    @contextmanager
    def __call__(self, source: Path, with_text: bool = True):
        data = source.read_bytes()
        if data not in self.answers:
            with self.timings("pdfsafety.checked (real child)"), self.real(source, with_text) as f:
                kept = self.folder / f"{len(self.answers)}.pdf"
                shutil.copyfile(f.safe, kept)
                self.answers[data] = (f.pages, f.text, kept)
        pages, text, kept = self.answers[data]
        work = Path(tempfile.mkdtemp(dir=source.parent, prefix=".check-"))
        safe = work / "safe.pdf"
        shutil.copyfile(kept, safe)
        try:
            yield pdfsafety.Checked(pages, text, safe)
        finally:
            safe.unlink(missing_ok=True)
            work.rmdir()

    def __enter__(self):
        pdfsafety.checked = self
        return self

    def __exit__(self, *_exc):
        pdfsafety.checked = self.real
        shutil.rmtree(self.folder, ignore_errors=True)


class Record:
    """A council's record, grown a year at a time through the services."""

    def __init__(self, shape: Shape, start: datetime, timings: Timings):
        self.shape, self.start, self.t = shape, start, timings
        self.year = 0
        self.pdfs = [
            generated_pdf(f"Report {TITLES[n % len(TITLES)]} {n}", shape.pdf_pages)
            for n in range(shape.variants)
        ]
        self.paper_count = 0
        with self.t("create_person", shape.people):
            self.people = [
                # No email addresses: what is mailed on each publication is not measured here.
                committees.create_person(name=f"Councillor {n:03d} Smith")
                for n in range(shape.people)
            ]
        db.session.flush()
        self.person_ids = [p.id for p in self.people]
        self.committee_ids = []
        members = itertools.cycle(self.person_ids[shape.council_members :] or self.person_ids)
        for n in range(shape.committees):
            council = n == 0
            with self.t("create_committee"):
                c = committees.create_committee(
                    name="Full Council" if council else f"Committee {n}",
                    slug=COUNCIL_SLUG if council else f"committee-{n}",
                )
            ids = (
                self.person_ids[: shape.council_members]
                if council
                else [next(members) for _ in range(shape.members)]
            )
            with self.t("add_membership", len(ids)):
                for pid in dict.fromkeys(ids):
                    committees.add_membership(c, db.session.get(Person, pid), "member")
            db.session.flush()
            self.committee_ids.append(c.id)
        self.users = {}
        for role, person in (("member", self.people[0]), ("clerk", None)):
            user = User(email=f"{role}@example.org", name=role, role=Role(role), person=person)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            self.users[role] = user.id
        db.session.commit()
        self.save_meeting_id = self._meeting_with_papers()
        db.session.commit()

    def grow(self, years: int, progress=None) -> None:
        for _ in range(years):
            for cid in self.committee_ids:
                self._year_of(db.session.get(Committee, cid))
                with self.t("commit"):
                    db.session.commit()
                db.session.expunge_all()
            self.year += 1
            if progress:
                progress(self.year)

    def _paper(self, item, title: str) -> None:
        data = self.pdfs[self.paper_count % len(self.pdfs)]
        self.paper_count += 1
        with self.t("add_document"):
            documents.add_document(item, io.BytesIO(data), f"{title[:40]}.pdf", title)

    def _meeting_with_papers(self) -> int:
        """A meeting of SAVE_SLUG's committee with save_papers papers and draft minutes, never
        approved, so one minute can be saved at every size of the record."""
        c = db.session.scalar(db.select(Committee).where(Committee.slug == SAVE_SLUG))
        c = c or db.session.get(Committee, self.committee_ids[-1])
        m = meetings.schedule_meeting(c, self.start - timedelta(days=30), title="Papers")
        per_item = 4
        for n in range(0, self.shape.save_papers, per_item):
            item = agenda.add_item(m, title=f"{TITLES[n % len(TITLES)]} ({n})", purpose="To note.")
            for k in range(min(per_item, self.shape.save_papers - n)):
                self._paper(item, f"Appendix {n + k}")
        publish_agenda(m, now=m.starts_at - timedelta(days=14), late_reason=None)
        for minute in minutes.draft_minutes(m):
            minutes.save_minute(minute, WORDS, minute.version)
        return m.id

    def _year_of(self, c: Committee) -> None:
        s = self.shape
        council = c.slug == COUNCIL_SLUG
        members = [m.person for m in c.memberships]
        clerk = db.session.get(User, self.users["clerk"])
        made = []
        for k in range(s.meetings_a_year):
            day = 365 * self.year + (365 // s.meetings_a_year) * k + c.id % 30
            when = self.start + timedelta(days=day, hours=c.id % 6)
            with self.t("schedule_meeting"):
                m = meetings.schedule_meeting(c, when)
            self._agenda(
                m, s.council_items if council else s.items, s.sub_items * (2 if council else 1)
            )
            with self.t("publish_agenda"):
                publish_agenda(m, now=when - timedelta(days=14), late_reason=None)
            with self.t("set_attendance", len(members)):
                for person in members:
                    set_attendance(m, person, "present")
            with self.t("draft_minutes"):
                drafted = minutes.draft_minutes(m)
            with self.t("save_minute", len(drafted)):
                for minute in drafted:
                    minutes.save_minute(minute, f"{minute.title}. {WORDS}", minute.version)
            resolutions = []
            for n, minute in enumerate(drafted):
                extra = 1 + (n < s.extra_resolutions)
                for e in range(extra):
                    named = None
                    if council and n < s.named_votes and e == 0:
                        named = [
                            (p.id, "for" if i % 7 else "against") for i, p in enumerate(members)
                        ]
                    with self.t("add_resolution" + (" (named votes)" if named else "")):
                        resolutions.append(
                            minutes.add_resolution(
                                minute, f"That the {minute.title.lower()} be noted ({e}).",
                                named_votes=named,
                            )
                        )  # fmt: skip
            for n, r in enumerate(resolutions[: s.actions]):
                owner = members[n % len(members)]
                due = (when + timedelta(days=90)).date()
                with self.t("create_from_resolution"):
                    action = actions.create_from_resolution(
                        r, f"Follow up {r.text[:60]}", owner.id, due
                    )
                for u in range(s.updates):
                    last = u == s.updates - 1
                    # Older actions are done; the latest year's stay open.
                    done = last and n % 2 == 0
                    with self.t("post_update"):
                        actions.post_update(
                            action, clerk, note=f"Progress {u}: budget on track.",
                            status="complete" if done else "in_progress",
                            rag=None if done else ("green", "amber", "red")[(n + u) % 3],
                        )  # fmt: skip
            with self.t("publish_minutes"):
                minutes.publish_minutes(m)
            made.append(m)
        with self.t("approve_minutes", len(made) - 1):
            for m, after in itertools.pairwise(made):
                minutes.approve_minutes(m, after)

    def _agenda(self, m: Meeting, items: int, subs: int) -> None:
        s = self.shape
        top = items - subs
        made = []
        with self.t("add_item", items):
            for n in range(top):
                exempt = n % 9 == 8
                made.append(
                    agenda.add_item(
                        m,
                        title=f"{TITLES[(n + m.id) % len(TITLES)]}",
                        purpose="To consider the report and its budget implications.",
                        **(
                            dict(visibility="exempt", exempt_paragraphs=[3],
                                 public_interest_reason="Commercially sensitive.")
                            if exempt else {}
                        ),
                    )
                )  # fmt: skip
            for n in range(subs):
                agenda.add_item(m, title=f"Appendix {n}", parent=made[n % len(made)])
        for n in range(s.papers):
            self._paper(made[n % len(made)], f"Report {n} of {m.id}")


def council_meeting_id() -> int:
    """The latest Full Council meeting (40 items, 100 attendees at council size)."""
    return db.session.scalar(
        db.select(Meeting.id)
        .join(Committee)
        .where(Committee.slug == COUNCIL_SLUG)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def scaled(shape: Shape, **changes) -> Shape:
    return replace(shape, **changes)


START = datetime(2016, 12, 1, 13, tzinfo=UTC)
TODAY = date.today()
