"""Every page and output at two sizes of record: does it cost the same after ten years?

Builds a council's record through the services (scale_record.py: committees, members,
meetings with agendas of public and exempt business and papers, attendance, minutes,
resolutions with named votes, actions with updates, minutes approved at the next meeting),
then measures each page, API list and output for the public, a member and a clerk: wall time
p50 and p95, CPU time p50 (this process: the app and, on SQLite, the database; a busy machine
makes wall time mostly waiting for a core) and the SQL statements it runs. It then grows the
record FACTOR times, measures again, prints both sizes beside issue 17's targets, and has 20
clients ask gunicorn (2 workers, as `make serve`) for the cached pack, its 304 and the
meeting page of the larger record (bench_serve.py's runner).

Statement counts are the figure that should not move: a page whose count grows with the
record loads something one row at a time, and its repeated statements are shown.
tests/web/test_list_query_counts.py asserts the counts; this prints the times.

Run: .venv/bin/python scripts/bench_scale.py [--council] [--years N] [--factor N]
     [--repeat 15] [--database postgresql://host/empty_db] [--no-serve]
The default is a small record (4 committees, 2 and 10 years; a couple of minutes);
--council is issue 17's (40 committees, 4,000 meetings over ten years against one year).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_serve
import scale_record
from flask import g
from sqlalchemy import event, func, select, text

from app import create_app
from app.auth.models import User
from app.auth.services import issue_token
from app.extensions import db
from app.minutes import services as minutes
from app.models import (
    Action,
    ActionUpdate,
    AgendaItem,
    Attendance,
    Document,
    Meeting,
    Minute,
    Person,
    Resolution,
)
from config import Config

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench scale secret"


@dataclass
class Case:
    label: str
    role: str  # public, member or clerk
    path: str = ""
    headers: dict = field(default_factory=dict)
    target_ms: float | None = None  # issue 17's target at the larger size
    run: object = None  # instead of a GET: a callable measured the same way
    expect: tuple = (200,)


@dataclass
class Figure:
    p50: float
    p95: float
    cpu: float
    sql: int
    status: int
    statements: list[str]
    first_sql: int = 0
    slowest: list = field(default_factory=list)  # (ms in all, times run, statement)


def cases(app, record) -> list[Case]:
    council = scale_record.COUNCIL_SLUG
    meeting = scale_record.council_meeting_id()
    pack = f"/meetings/{meeting}/pack.pdf"
    out = [
        Case("home", "public", "/"),
        Case("home", "member", "/"),
        Case("home", "clerk", "/"),
        Case("committee page", "public", f"/committees/{council}/"),
        Case("committee page (other)", "public", "/committees/committee-1/"),
        Case("committee page", "clerk", f"/committees/{council}/"),
        Case("decisions, first page", "public", "/decisions/", target_ms=150),
        Case("decisions, first page", "clerk", "/decisions/", target_ms=150),
        Case("decisions, last page", "public", last_decisions_page(app), target_ms=150),
        Case("decisions, one committee", "public", "/decisions/?committee=committee-1"),
        Case("action tracker", "public", "/actions/", target_ms=150),
        Case("action tracker", "clerk", "/actions/", target_ms=150),
        Case(
            "tracker, filtered",
            "clerk",
            "/actions/?committee=committee-1&status=in_progress",
            target_ms=150,
        ),
        Case("meeting page (Full Council)", "public", f"/meetings/{meeting}/", target_ms=150),
        Case("meeting page (Full Council)", "clerk", f"/meetings/{meeting}/", target_ms=150),
        Case("search 'budget'", "public", "/search?q=budget", target_ms=150),
        Case("search 'budget'", "clerk", "/search?q=budget", target_ms=150),
        Case("people list", "clerk", "/people/"),
        Case("iCal, committee", "public", f"/committees/{council}/meetings.ics"),
        Case("built pack", "public", pack, target_ms=20),
        Case("built pack, 304", "public", pack, target_ms=20, expect=(304,)),
        Case("save one minute (80 papers)", "clerk", run=saver(record)),
    ]
    for role in ("public", "clerk"):
        for path in (
            "/api/v1/meetings",
            "/api/v1/actions",
            "/api/v1/decisions",
            "/api/v1/committees",
            f"/api/v1/committees/{council}/memberships",
            f"/api/v1/meetings/{meeting}/agenda-items",
            "/api/v1/people",
            "/api/v1/search?q=budget",
        ):
            label = path.removeprefix("/api/v1/").replace(f"meetings/{meeting}/", "meeting's ")
            out.append(Case("API " + label, role, path))
    out.append(Case("API users", "clerk", "/api/v1/users", expect=(200, 403)))
    return out


def saver(record):
    minute_id = db.session.scalar(
        select(Minute.id).where(Minute.meeting_id == record.save_meeting_id).limit(1)
    )
    texts = iter(f"The council noted report {n}." for n in range(10**6))

    def save():
        minute = db.session.get(Minute, minute_id)
        minutes.save_minute(minute, next(texts), minute.version)
        db.session.commit()
        return 200

    return save


def last_decisions_page(app) -> str:
    """The register's last page as a reader reaches it: by its Next links to the end."""
    client, path, pages = app.test_client(), "/decisions/", 1
    started = time.perf_counter()
    while True:
        body = client.get(path).get_data(as_text=True)
        found = re.search(r'href="(/decisions/\?after=[^"]+)"', body)
        if not found:
            break
        path, pages = html.unescape(found.group(1)), pages + 1
    took = time.perf_counter() - started
    print(f"  decisions register: {pages} pages to its end ({took:.1f} s to walk)", flush=True)
    return path


def measure(app, record, repeat: int) -> dict:
    out = {}
    clients, tokens = {"public": app.test_client()}, {"public": None}
    for role, uid in record.users.items():
        user = db.session.get(User, uid)
        clients[role] = app.test_client()
        # One app context around every request: its g keeps the last request's user.
        g.pop("_login_user", None)
        signed = clients[role].post("/sign-in", data={"email": user.email, "password": PASSWORD})
        assert signed.status_code == 302, (role, signed.status_code)
        tokens[role] = issue_token(user)
        db.session.commit()
    etag = None
    for case in cases(app, record):
        client = clients[case.role]
        headers = dict(case.headers)
        if "/api/" in case.path and tokens[case.role]:
            headers["Authorization"] = f"Bearer {tokens[case.role]}"
        if case.expect == (304,):
            headers["If-None-Match"] = etag
        if case.path.endswith("pack.pdf") and etag is None:
            started = time.perf_counter()
            response = client.get(case.path)
            assert response.status_code == 200, (case.path, response.status_code)
            etag = response.headers["ETag"]
            print(
                f"  pack built in {time.perf_counter() - started:.1f} s "
                f"({len(response.data) // 1024} KiB)",
                flush=True,
            )
            headers.pop("If-None-Match", None)
        walls, cpus, counts, runs = [], [], [], []
        for _ in range(repeat):
            db.session.expunge_all()
            g.pop("_login_user", None)
            seen: list[str] = []
            took: list[float] = []

            def before(*_a, took=took, **_k):
                took.append(time.perf_counter())

            def after(_c, _k, statement, *_a, seen=seen, took=took):
                seen.append(statement)
                took[-1] = (time.perf_counter() - took[-1]) * 1000

            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
            wall, cpu = time.perf_counter(), time.process_time()
            status = case.run() if case.run else client.get(case.path, headers=headers).status_code
            cpus.append((time.process_time() - cpu) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
            assert status in case.expect, (case.label, case.role, case.path, status)
            counts.append(len(seen))
            runs.append(list(zip(seen, took, strict=False)))
        walls.sort()
        p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
        # The steady count (a first request may also write something once, e.g. a feed's
        # uid: first_sql shows it).
        steady = sorted(counts)[len(counts) // 2]
        out[(case.label, case.role)] = Figure(
            statistics.median(walls), p95, statistics.median(cpus), steady, status,
            [x for x, _ in runs[counts.index(steady)]], first_sql=counts[0],
            slowest=slowest(runs[counts.index(steady)]),
        )  # fmt: skip
    return out


def _short(statement: str) -> str:
    """One line, the column list elided: what a statement reads from where is what tells."""
    one = " ".join(statement.split())
    one = re.sub(r"%\(\w+\)s(::\w+)?", "?", one)  # PostgreSQL's named parameters
    one = re.sub(r"\(\?(, \?)+\)", "(?, ...)", one)
    return re.sub(r"^SELECT (?!count).*? FROM ", "SELECT ... FROM ", one)


def slowest(run: list[tuple[str, float]], top: int = 3) -> list[tuple[float, int, str]]:
    """Where a page's time in the database went: each statement's total, slowest first."""
    total: dict[str, float] = Counter()
    times: Counter = Counter()
    for statement, ms in run:
        total[_short(statement)] += ms
        times[_short(statement)] += 1
    return sorted(((ms, times[s], s) for s, ms in total.items()), reverse=True)[:top]


def repeated(statements: list[str], top: int = 4) -> list[tuple[int, str]]:
    """The statements a page ran more than once, most repeated first."""
    counts = Counter(_short(s) for s in statements)
    return [(n, s) for s, n in counts.most_common(top) if n > 1]


def counts(label: str) -> str:
    total = {
        "meetings": Meeting,
        "agenda items": AgendaItem,
        "minutes": Minute,
        "resolutions": Resolution,
        "actions": Action,
        "action updates": ActionUpdate,
        "papers": Document,
        "attendance rows": Attendance,
        "people": Person,
    }
    parts = [
        f"{db.session.scalar(select(func.count()).select_from(m)):,} {n}" for n, m in total.items()
    ]
    return f"{label}: " + ", ".join(parts)


def council_meeting() -> str:
    mid = scale_record.council_meeting_id()

    def n(model, column):
        return db.session.scalar(select(func.count()).select_from(model).where(column == mid))

    return (
        f"the Full Council meeting measured ({mid}): {n(AgendaItem, AgendaItem.meeting_id)} "
        f"items, {n(Attendance, Attendance.meeting_id)} attendance rows"
    )


def load() -> str:
    return os.getloadavg() and "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(sizes, results) -> None:
    small, large = results
    print(
        f"\n{'page':30} {'reader':6} | "
        + " | ".join(f"{s:>2} y p50/p95/CPU ms  SQL" for s in sizes)
        + " | ratio  target (at the larger size)"
    )
    for key, big in large.items():
        one = small[key]
        cells = " | ".join(f"{f.p50:7.1f} {f.p95:7.1f} {f.cpu:6.1f} {f.sql:4d}" for f in (one, big))
        case_target = TARGETS.get(key[0])
        notes = []
        notes.append("SQL same" if big.sql == one.sql else f"SQL {one.sql}->{big.sql} MISSED")
        if case_target:
            notes.append(f"<{case_target:.0f} ms {'met' if big.p50 < case_target else 'MISSED'}")
        if big.first_sql != big.sql:
            notes.append(f"first request {big.first_sql} SQL")
        if big.status not in (200, 304):
            notes.append(f"HTTP {big.status}")
        ratio = big.p50 / one.p50 if one.p50 else 0
        print(f"{key[0]:30} {key[1]:6} | {cells} | {ratio:5.2f}  {'; '.join(notes)}")
    grown = [k for k in large if large[k].sql > small[k].sql]
    for key in grown:
        print(
            f"\n{key[0]} ({key[1]}): {small[key].sql} statements, then {large[key].sql}; repeated:"
        )
        for n, statement in repeated(large[key].statements):
            print(f"  {n:4d} x {statement[:400]}")
        before = Counter(_short(x) for x in small[key].statements)
        added = Counter(_short(x) for x in large[key].statements) - before
        for statement, n in list(added.items())[:6]:
            print(f"  +{n:3d} x {statement[:400]}  (not run at the smaller size)")
    # Missing a target, or waiting on the database (wall well above this process's CPU).
    slow = [
        k
        for k in large
        if (TARGETS.get(k[0]) and large[k].p50 >= TARGETS[k[0]])
        or large[k].p50 - large[k].cpu > 100
    ]
    for key in slow:
        if key in grown:
            continue
        print(f"\n{key[0]} ({key[1]}) is slow; its most repeated statements:")
        for n, statement in repeated(large[key].statements) or [(1, "(none repeated)")]:
            print(f"  {n:4d} x {statement[:400]}")
        print("  the slowest (total ms in the database, times run):")
        for ms, n, statement in large[key].slowest:
            print(f"  {ms:7.1f} ms {n:4d} x {statement[:400]}")


TARGETS = {
    "built pack": 20,
    "built pack, 304": 20,
    "action tracker": 150,
    "tracker, filtered": 150,
    "decisions, first page": 150,
    "decisions, last page": 150,
    "meeting page (Full Council)": 150,
    "search 'budget'": 150,
}


def serve(folder: Path, url: str, meeting_id: int, seconds: float, port: int) -> None:
    env = bench_serve.server_env(
        folder, url, 2, port, STORAGE_DIR=str(folder / "storage"), SECRET_KEY=SECRET
    )
    pack = f"/meetings/{meeting_id}/pack.pdf"
    with bench_serve.gunicorn(env, port, started_within=60):
        etag = bench_serve.wait_for_pack(port, pack, seconds=300).get("ETag", "")
        print(
            f"\ngunicorn, 2 workers, 20 clients ({bench_serve.client_name()}), {seconds:.0f} s "
            "each (target: cached pack "
            f">= 500 requests/s); {load()}"
        )
        bench_serve.rates(
            port,
            (
                ("cached pack", pack, {}),
                ("pack, 304", pack, {"If-None-Match": etag}),
                ("meeting page", f"/meetings/{meeting_id}/", {}),
            ),
            20,
            seconds,
        )


PASSWORD = scale_record.PASSWORD


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--council", action="store_true", help="issue 17's record (1 and 10 y)")
    parser.add_argument("--committees", type=int, help="committees (default 4, or 40)")
    parser.add_argument("--years", type=int, help="the first size, in years (2, or 1)")
    parser.add_argument("--factor", type=int, help="how many times larger the second (5, 10)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    parser.add_argument("--no-serve", action="store_true", help="skip the gunicorn figures")
    parser.add_argument("--serve-seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=5093)
    args = parser.parse_args()
    shape = scale_record.COUNCIL if args.council else scale_record.SMALL
    if args.committees:
        shape = scale_record.scaled(shape, committees=args.committees)
    years = args.years or (1 if args.council else 2)
    factor = args.factor or (10 if args.council else 5)
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    url = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = SECRET
        STORAGE_DIR = folder / "storage"
        INSTANCE_PATH = folder
        WTF_CSRF_ENABLED = False
        SKIP_DATABASE_CHECK = True
        # Built in the request here, so the first GET of a pack is its cold build.
        PACK_BUILDS_OFF_REQUEST = False

    app = create_app(BenchConfig)
    timings = scale_record.Timings()
    try:
        with app.app_context(), scale_record.CheckOncePerVariant(timings):
            # The models' schema (create_all, as before): the migration chain may lag a model
            # being changed in the shared tree, and gunicorn's start-up check only connects.
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            record = scale_record.Record(shape, scale_record.START, timings)
            print(f"{shape}\nset up in {time.perf_counter() - started:.0f} s", flush=True)
            sizes, results = [years, years * factor], []
            for size in sizes:
                started = time.perf_counter()
                record.grow(
                    size - record.year,
                    progress=lambda y, s=started: print(
                        f"  year {y} built ({time.perf_counter() - s:.0f} s; {load()})", flush=True
                    ),
                )
                built = time.perf_counter() - started
                # As a database in service would have: planner statistics for its size.
                db.session.execute(text("ANALYZE"))
                db.session.commit()
                print(f"{counts(f'{size} years')} (built in {built:.0f} s)", flush=True)
                print(council_meeting(), flush=True)
                print(f"measuring ({load()})", flush=True)
                results.append(measure(app, record, args.repeat))
            print(f"\nbuilding, time in each service (total over both sizes):\n{timings.report()}")
            print(f"\n{url.split('://')[0]}; {load()} at the end")
            table(sizes, results)
            meeting_id = scale_record.council_meeting_id()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        if not args.no_serve:
            serve(folder, url, meeting_id, args.serve_seconds, args.port)
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
