"""Agenda pack build speed (issue 4): 20 items, 15 uploaded PDFs of 10-20 pages, ~10 pages
of previous minutes and action log. With --large (issue 17): 50 items and 40 uploads of 25
pages, half of them tagged (made by WeasyPrint with tags), about 1,000 pages; it also reports a
rebuild after one paper is replaced (published as a supplement) against a plain merge of the
same pages (target <= 1.5x).

Prints the cold build, the cached serve, pages per second, and the floor: the WeasyPrint time
for the generated parts alone plus a plain merge of the uploads. Targets: cold build within
1.3x the floor; cached serve under 20 ms. Run: .venv/bin/python scripts/bench_pack.py

"Cold" means no generated part is cached. Which uploaded pages need padding under the stamp
is worked out when each paper is uploaded (as in the app), so it is not in the cold build;
the app runs with its production settings, start-up objects frozen out of the collector.
"""

from __future__ import annotations

import io
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html
import pikepdf
from weasyprint import HTML

from app import create_app
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document, document_path
from app.extensions import db
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import Action, Person
from app.packs import builder, cache, merge, store
from config import Config

STAMPS = "packs/pdf/stamps.html"
TAGGED = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def plain_document(html: str) -> str:
    """The text of a generated part as the plainest document: a paragraph a line, no styles."""
    body = lxml.html.fromstring(html).find("body")
    lines = [line.strip() for line in body.text_content().splitlines() if line.strip()]
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return f'<!DOCTYPE html><html lang="en-GB"><title>Part</title><body>{paragraphs}</body></html>'


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


def tagged_pdf(pages: int, label: str) -> bytes:
    """A tagged upload, as an accessible report exported from a word processor would be."""
    from weasyprint import HTML

    body = "".join(
        f"<section style='page-break-after: always'><h2>{label}, page {n + 1}</h2>"
        + "".join(
            f"<p>{label} page {n + 1} paragraph {i}: text of the report.</p>" for i in range(12)
        )
        + "</section>"
        for n in range(pages)
    )
    html = f"<html lang='en'><head><title>{label}</title></head><body>{body}</body></html>"
    return HTML(string=html).write_pdf(pdf_tags=True, pdf_variant="pdf/ua-1")


def main() -> None:
    large = "--large" in sys.argv
    random.seed(7)
    folder = Path(tempfile.mkdtemp(prefix="bench-pack-"))

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        SECRET_KEY = "bench"
        STORAGE_DIR = folder / "storage"
        INSTANCE_PATH = folder
        PACK_BUILDS_OFF_REQUEST = False  # the builds are what is timed

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
        earlier_minutes = minutes.draft_minutes(earlier)
        for minute in earlier_minutes:
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
        committee.publish_draft_minutes = True  # the public pack carries them too
        for n in range(40):
            db.session.add(
                Action(
                    committee=committee,
                    title=f"Action {n}: follow up the report with the partners concerned",
                    owner=people[n % 12],
                    minute_id=earlier_minutes[n % len(earlier_minutes)].id,
                )
            )
        meeting = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=30))
        agenda.apply_template(meeting)
        items = [
            agenda.add_item(meeting, title=f"Business item {n}") for n in range(44 if large else 14)
        ]
        uploads = []
        for n in range(40 if large else 15):
            if large:
                maker = tagged_pdf if n % 2 else synthetic_pdf
                data = maker(25, f"Report {n}")
            else:
                data = synthetic_pdf(random.randint(10, 20), f"Report {n}")
            uploads.append(
                add_document(
                    items[n % len(items)], io.BytesIO(data), f"report-{n}.pdf", f"Report {n}"
                )
            )
        agenda_publication.publish_agenda(meeting)
        db.session.commit()

        # Cold: an empty part cache, so every generated part goes through WeasyPrint. Each
        # render is noted, to time the same WeasyPrint work alone for the floor.
        renders = []
        spent: dict[str, float] = {}
        real_part = store.rendered_part

        def noting(template, inputs, render):
            def timed():
                t = time.perf_counter()
                data = render()
                spent[template] = spent.get(template, 0) + time.perf_counter() - t
                return data

            renders.append((template, render, inputs[3]))
            return real_part(template, inputs, timed)

        # Where the rest of the cold build goes: the pack's own steps, timed in place.
        steps: dict[str, float] = {}

        def clock(owner, attr, label):
            real = getattr(owner, attr)

            def timed(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    steps[label] = steps.get(label, 0) + time.perf_counter() - t

            setattr(owner, attr, timed)
            return owner, attr, real

        def cold_build():
            shutil.rmtree(parts, ignore_errors=True)
            renders.clear()
            spent.clear()
            steps.clear()
            originals = [
                clock(builder, "_papers", "papers (queries + parts)"),
                clock(merge.StripCheck, "__init__", "strip check start"),
                clock(merge.StripCheck, "results", "strip check wait"),
                clock(merge, "stamp_forms", "cut stamps"),
                clock(merge.StructureTree, "add", "merge tags"),
                clock(merge, "add_stamp", "place stamps"),
                clock(builder, "_open_paper", "open papers"),
            ]
            store.rendered_part = noting
            try:
                start = time.perf_counter()
                pack = builder.build_pack(meeting, "public")
                return time.perf_counter() - start, pack
            finally:
                store.rendered_part = real_part
                for owner, attr, real in originals:
                    setattr(owner, attr, real)

        def plain_merge_time() -> float:
            start = time.perf_counter()
            merged = pikepdf.new()
            for doc in uploads:
                src = pikepdf.open(document_path(doc))
                merged.pages.extend(src.pages)
            merged.save(io.BytesIO())
            return time.perf_counter() - start

        def floor_time():
            # Issue 17's floor: a plain document of the same text as each generated part
            # (agenda, minutes, action log; not the page stamps, which are the pack's own
            # overhead) through WeasyPrint with the same PDF/UA variant, plus a plain merge of
            # the uploads saved once.
            plain = [plain_document(html) for t, _, html in renders if t != STAMPS]
            start = time.perf_counter()
            for html in plain:
                HTML(string=html).write_pdf(custom_metadata=True, **TAGGED)
            return time.perf_counter() - start + plain_merge_time()

        def own_floor_time():
            # The same with the parts rendered from Minutebook's own templates: what is left
            # is the pack's assembly (tags, stamps, outline, labels).
            start = time.perf_counter()
            for template, render, _html in renders:
                if template != STAMPS:
                    render()
            return time.perf_counter() - start + plain_merge_time()

        # A server process has WeasyPrint and its fonts loaded already: warm up with one
        # whole build first. Then the best of three, to see past a busy machine.
        parts = Path(app.config["STORAGE_DIR"]) / "packs" / "parts"
        builder.build_pack(meeting, "public")
        colds, floors, own_floors, breakdowns = [], [], [], []
        for _ in range(3):
            cold, pack = cold_build()
            colds.append(cold)
            breakdowns.append((dict(spent), dict(steps)))
            floors.append(floor_time())
            own_floors.append(own_floor_time())
        cold, floor, own_floor = min(colds), min(floors), min(own_floors)
        spent, steps = breakdowns[colds.index(cold)]
        generated = sum(p.pages for p in pack.papers if p.kind != "document")

        # A rebuild after one paper is replaced and published as a supplement: unchanged
        # parts come from the part cache, and published pages keep their numbers.
        before = dict(cache.part_stats)
        from app.agenda.documents import remove_document

        cache.pack_file(meeting, "public")  # revision 1 as served, kept once superseded

        replaced = uploads[0]
        item = replaced.item
        remove_document(replaced)
        fresh = add_document(
            item,
            io.BytesIO(synthetic_pdf(replaced.page_count, "Report 0 revised")),
            "report-0.pdf",
            "Report 0 (revised)",
        )
        uploads[0] = fresh
        agenda_publication.publish_agenda(meeting, late_reason="Benchmark")
        db.session.commit()
        start = time.perf_counter()
        cache.pack_file(meeting, "public")
        rebuild = time.perf_counter() - start
        start = time.perf_counter()
        plain = pikepdf.new()
        for doc in uploads:
            plain.pages.extend(pikepdf.open(document_path(doc)).pages)
        plain.save(io.BytesIO())
        plain_merge = time.perf_counter() - start
        rerendered = sorted(
            k[1].removeprefix("packs/pdf/")
            for k in cache.part_stats
            if k[0] == "rendered" and cache.part_stats[k] != before.get(k, 0)
        )

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
        uploaded_pages = sum(d.page_count for d in uploads)

    print(
        f"pack pages:           {pack.pages} ({pack.agenda_pages} agenda, "
        f"{uploaded_pages} uploaded, {generated} generated)"
    )
    print(
        f"cold build:           {cold * 1000:.0f} ms "
        f"(best of {', '.join(f'{c * 1000:.0f}' for c in colds)})"
    )
    print(
        f"floor:                {floor * 1000:.0f} ms (best of "
        f"{', '.join(f'{c * 1000:.0f}' for c in floors)}) "
        f"(plain documents of the same text + plain merge); ratio {cold / floor:.2f} "
        "(target <= 1.3)"
    )
    print(
        f"floor, own templates: {own_floor * 1000:.0f} ms (the parts as rendered + plain merge); "
        f"ratio {cold / own_floor:.2f}"
    )
    print(f"pages per second:     {pack.pages / cold:.0f}")
    print(
        "in the cold build:    "
        + ", ".join(f"{t.split('/')[-1]} {v * 1000:.0f} ms" for t, v in spent.items())
        + " (WeasyPrint)"
    )
    print("                      " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in steps.items()))
    own = cold - sum(spent.values())
    print(f"outside WeasyPrint:   {own * 1000:.0f} ms of the cold build (queries, merge, save)")
    print(
        f"rebuild, one paper:   {rebuild * 1000:.0f} ms (re-rendered: {', '.join(rerendered)}); "
        f"plain merge of the same uploads {plain_merge * 1000:.0f} ms, ratio "
        f"{rebuild / plain_merge:.2f} (target <= 1.5)"
    )
    print(f"cached serve:         {cached * 1000:.1f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
