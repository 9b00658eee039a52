"""The list pages at two sizes of record: does a page cost the same after ten years?

Builds a council's record through the services (committees, members, meetings with agendas
of public and exempt business, minutes, resolutions and actions, minutes approved at the
next meeting), measures each list page and API list (wall time p50 and p95, and the SQL
statements it runs) for the public, a member and a clerk, then grows the record FACTOR
times and measures again. The issue-17 promise is that the second column matches the
first; tests/web/test_list_query_counts.py checks the statement counts, this prints the times
(tests check behaviour, not timings).

Run: .venv/bin/python scripts/bench_scale.py [--committees 4] [--years 2] [--factor 5]
     [--repeat 15] [--database postgresql://localhost/empty_db]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import g
from sqlalchemy import event, select, text

from app import create_app
from app.actions import services as actions
from app.agenda import services as agenda
from app.agenda.publication import publish_agenda
from app.auth.models import User
from app.auth.services import issue_token
from app.committees import services as committees
from app.core.permissions import Role
from app.extensions import db
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import Committee, Meeting
from config import Config

PASSWORD = "bench scale correct horse battery"
MEETINGS_A_YEAR = 6
START = datetime(2014, 1, 15, 13, tzinfo=UTC)

PAGES = {
    "public": ["/", "/committees/committee-0/", "/decisions/", "/decisions/?committee=committee-0",
               "/actions/", "/api/v1/meetings", "/api/v1/actions", "/api/v1/decisions"],
    "member": ["/", "/committees/committee-0/", "/decisions/", "/actions/", "/api/v1/decisions"],
    "clerk": ["/", "/decisions/", "/actions/", "/people/", "/api/v1/actions", "/api/v1/decisions"],
}  # fmt: skip


class Record:
    """A council's record, grown a year at a time through the services."""

    def __init__(self, committee_count: int):
        self.year = 0
        self.committee_ids = []
        for n in range(committee_count):
            c = committees.create_committee(name=f"Committee {n}", slug=f"committee-{n}")
            db.session.flush()
            self.committee_ids.append(c.id)
        first = db.session.get(Committee, self.committee_ids[0])
        member = committees.create_person(name="Member Reader", email="member@example.org")
        committees.add_membership(first, member, "member")
        self.users = {}
        for role, person in (("member", member), ("clerk", None)):
            user = User(email=f"{role}@example.org", name=role, role=Role(role), person=person)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            self.users[role] = user.id
        db.session.commit()

    def grow(self, years: int) -> None:
        for _ in range(years):
            for cid in self.committee_ids:
                self._year_of(db.session.get(Committee, cid))
            self.year += 1
            db.session.commit()

    def _year_of(self, c: Committee) -> None:
        person = committees.create_person(name=f"Councillor {c.slug} {self.year}")
        committees.add_membership(c, person, "member")
        made = []
        for k in range(MEETINGS_A_YEAR):
            when = START + timedelta(days=365 * self.year + 60 * k)
            m = meetings.schedule_meeting(c, when)
            budget = agenda.add_item(m, title="Budget monitoring", purpose="To note.")
            agenda.add_item(m, title="Appendix", parent=budget)
            agenda.add_item(
                m,
                title="Staffing",
                visibility="exempt",
                exempt_paragraphs=[1],
                public_interest_reason="Individuals are named.",
            )
            publish_agenda(m, now=when - timedelta(days=14), late_reason=None)
            for n, minute in enumerate(minutes.draft_minutes(m)):
                r = minutes.add_resolution(minute, f"That report {n} be noted.")
                actions.create_from_resolution(r, f"Follow up {n}", person.id, date(2030, 1, 1))
            minutes.publish_minutes(m)
            made.append(m)
        for m, after in itertools.pairwise(made):
            minutes.approve_minutes(m, after)


def measure(app, record: Record, repeat: int) -> dict:
    out = {}
    for role, paths in PAGES.items():
        client, headers = app.test_client(), {}
        if role in record.users:
            user = db.session.get(User, record.users[role])
            client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {issue_token(user)}"}
            db.session.commit()
        for path in paths:
            times, counts = [], []
            for _ in range(repeat):
                db.session.expunge_all()
                g.pop("_login_user", None)
                seen = []
                listener = lambda *_a, seen=seen: seen.append(1)  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", listener)
                started = time.perf_counter()
                response = client.get(path, headers=headers if "/api/" in path else {})
                times.append((time.perf_counter() - started) * 1000)
                event.remove(db.engine, "before_cursor_execute", listener)
                assert response.status_code == 200, (path, response.status_code)
                counts.append(len(seen))
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            out[(role, path)] = (statistics.median(times), p95, max(counts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--committees", type=int, default=4)
    parser.add_argument("--years", type=int, default=2, help="the first size, in years")
    parser.add_argument("--factor", type=int, default=5, help="how many times larger the second")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
        SECRET_KEY = "bench"
        STORAGE_DIR = folder / "storage"
        INSTANCE_PATH = folder
        WTF_CSRF_ENABLED = False
        SKIP_DATABASE_CHECK = True

    app = create_app(BenchConfig)
    with app.app_context():
        db.drop_all()
        db.create_all()
        record = Record(args.committees)
        sizes = [args.years, args.years * args.factor]
        results = []
        for size in sizes:
            started = time.perf_counter()
            record.grow(size - record.year)
            built = time.perf_counter() - started
            # As a database in service would have: planner statistics for the record's size.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            meetings_now = db.session.scalar(select(db.func.count(Meeting.id)))
            print(f"{size} years: {meetings_now} meetings (built in {built:.0f} s)", flush=True)
            results.append(measure(app, record, args.repeat))
        print(
            f"\n{'reader':7} {'page':40} "
            + "  ".join(f"{s:>2} years p50/p95 ms, SQL" for s in sizes)
        )
        for key in results[0]:
            cells = "  ".join(
                f"{r[key][0]:8.1f} {r[key][1]:8.1f} {r[key][2]:4d}     " for r in results
            )
            flag = "" if results[-1][key][2] <= results[0][key][2] else "  <- more SQL"
            print(f"{key[0]:7} {key[1]:40} {cells}{flag}")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
