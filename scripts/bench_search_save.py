"""Saving one minute in a meeting with many papers: what the search index costs the save.

Issue 17 measured 451 ms for one save in a meeting with 80 papers, when every save
re-indexed the whole meeting (the papers' full text included). Now a changed record is
re-indexed alone; the figure printed beside it is what re-indexing the whole meeting costs,
which is still what a removal from the meeting pays.

Run: .venv/bin/python scripts/bench_search_save.py [--papers 80] [--kb 40] [--saves 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.extensions import db
from app.minutes import services as minutes
from app.models import AgendaItem, Committee, Document, Meeting
from app.search.services import reindex_meeting
from config import Config


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds (CPU too: on a busy machine wall time mostly
    measures waiting for a core)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=80)
    parser.add_argument("--kb", type=int, default=40, help="text per paper, in kilobytes")
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        SECRET_KEY = "bench"
        STORAGE_DIR = folder / "storage"
        INSTANCE_PATH = folder

    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()
        committee = Committee(name="Full Council", slug="full-council")
        meeting = Meeting(committee=committee, starts_at=datetime.now(UTC) - timedelta(days=1))
        db.session.add_all([committee, meeting])
        words = ("council budget housing transport schools parks libraries " * 200)[
            : args.kb * 1024
        ]
        for n in range(args.papers):
            item = AgendaItem(meeting=meeting, title=f"Report {n}", position=n)
            db.session.add(item)
            db.session.add(
                Document(
                    item=item,
                    title=f"Appendix {n}",
                    filename=f"appendix-{n}.pdf",
                    sha256=f"{n:064x}",
                    size_bytes=1000,
                    page_count=10,
                    text_content=words,
                    position=0,
                )
            )
        db.session.commit()
        minute = minutes.draft_minutes(meeting)[0]
        db.session.commit()
        texts = iter(f"The council noted report {n}." for n in range(10**6))

        def save():
            minutes.save_minute(minute, next(texts), minute.version)
            db.session.commit()

        def whole():
            reindex_meeting(meeting.id, db.session.get(Meeting, meeting.id), db.session)
            db.session.commit()

        save()  # warm
        s_wall, s_cpu = timed(save, args.saves)
        w_wall, w_cpu = timed(whole, max(3, args.saves // 4))
        print(f"meeting with {args.papers} papers of {args.kb} KB text each (SQLite)")
        print(f"save one minute, indexed alone: {s_wall:8.1f} ms wall {s_cpu:8.1f} ms CPU")
        print(f"re-index the whole meeting:      {w_wall:8.1f} ms wall {w_cpu:8.1f} ms CPU")


if __name__ == "__main__":
    main()
