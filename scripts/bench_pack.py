"""Agenda pack build speed (issue 4): 20 items, 15 uploaded PDFs of 10-20 pages, ~10 pages
of previous minutes and action log.

Prints the cold build, the cached serve, pages per second, and the floor: the WeasyPrint time
for the generated parts alone plus a plain merge of the uploads. Targets: cold build within
1.3x the floor; cached serve under 20 ms. Run: .venv/bin/python scripts/bench_pack.py
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pikepdf

from app import create_app
from app.agenda import services as agenda
from app.agenda.documents import add_document, document_path
from app.extensions import db
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import Action, Person
from app.packs import builder
from config import Config


def synthetic_pdf(pages: int, label: str) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for n in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[n]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        lines = "".join(
            f"BT /F1 10 Tf 72 {780 - 14 * i} Td ({label} page {n + 1} line {i}) Tj ET "
            for i in range(50)
        )
        page.Contents = pdf.make_stream(lines.encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def main() -> None:
    random.seed(7)
    folder = Path(tempfile.mkdtemp(prefix="bench-pack-"))

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        SECRET_KEY = "bench"
        STORAGE_DIR = folder / "storage"
        INSTANCE_PATH = folder

    app = create_app(BenchConfig)
    with app.app_context(), app.test_request_context():
        db.create_all()
        from app.committees.services import create_committee

        committee = create_committee(name="Bench Committee")
        people = [Person(name=f"Member {n}") for n in range(12)]
        db.session.add_all(people)
        earlier = meetings.schedule_meeting(committee, datetime.now(UTC) - timedelta(days=60))
        for n in range(8):
            agenda.add_item(earlier, title=f"Earlier business {n}")
        for minute in minutes.draft_minutes(earlier):
            minutes.save_minute(
                minute,
                "\n\n".join(
                    f"Paragraph {p} of the minute, recording the discussion at some length so "
                    "that the minutes run to several pages as real ones do." * 3
                    for p in range(6)
                ),
                minute.version,
            )
            minutes.add_resolution(minute, "That the report be noted.", "noted")
        minutes.publish_minutes(earlier)
        for n in range(40):
            db.session.add(
                Action(committee=committee, title=f"Action {n}: follow up", owner=people[n % 12])
            )
        meeting = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=30))
        agenda.apply_template(meeting)
        items = [agenda.add_item(meeting, title=f"Business item {n}") for n in range(14)]
        uploads = []
        for n in range(15):
            data = synthetic_pdf(random.randint(10, 20), f"Report {n}")
            uploads.append(
                add_document(
                    items[n % len(items)], io.BytesIO(data), f"report-{n}.pdf", f"Report {n}"
                )
            )
        meetings.publish_agenda(meeting)
        db.session.commit()

        start = time.perf_counter()
        pack = builder.build_pack(meeting, "public")
        cold = time.perf_counter() - start

        # The floor: generated parts through WeasyPrint, plus a plain merge of the uploads.
        start = time.perf_counter()
        papers = builder._papers(meeting, "public")
        generated = sum(p.pages for p in papers if p.kind != "document")
        front_rows = [
            {
                "item": i,
                "number": n,
                "heading": None,
                "pages": "",
                "show_purpose": True,
                "paragraphs": [],
            }
            for i, n in meeting.numbered_items()
        ]
        builder._render(
            "packs/pdf/agenda.html",
            meeting=meeting,
            committee=committee,
            rows=front_rows,
            members=[],
            variant="public",
            long_date="x",
        )
        builder._render(
            "packs/pdf/stamps.html",
            count=pack.pages - pack.agenda_pages,
            members=False,
            restricted=set(),
        )
        merged = pikepdf.new()
        for doc in uploads:
            with pikepdf.open(document_path(doc)) as src:
                merged.pages.extend(src.pages)
                merged.save(io.BytesIO())
        floor = time.perf_counter() - start

        client = app.test_client()
        url = f"/meetings/{meeting.id}/pack.pdf"
        client.get(url)  # builds and caches
        samples = []
        for _ in range(20):
            t = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t)
        assert response.status_code == 200
        cached = sorted(samples)[len(samples) // 2]

    print(
        f"pack pages:           {pack.pages} ({pack.agenda_pages} agenda, "
        f"{sum(d.page_count for d in uploads)} uploaded, {generated} generated)"
    )
    print(f"cold build:           {cold * 1000:.0f} ms")
    print(
        f"floor:                {floor * 1000:.0f} ms "
        f"(generated parts + plain merge); ratio {cold / floor:.2f} (target <= 1.3)"
    )
    print(f"pages per second:     {pack.pages / cold:.0f}")
    print(f"cached serve:         {cached * 1000:.1f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
