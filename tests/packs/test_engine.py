"""The pack engine, parsed back: one structure tree for the whole pack, stamps as artifacts
at the visual bottom of each page, padding only where needed, rendered parts reused, the
cache under concurrency, and failed builds."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
import weasyprint

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document, document_path
from app.minutes import services as minutes
from app.models import AuditEvent, Role
from app.packs import builder, cache, merge
from tests.pdfs import make_pdf

REASON = "Commercial negotiations with the preferred bidder are continuing."


def tagged_pdf(pages: int = 2, heading: str = "Tagged report") -> bytes:
    body = "".join(
        f"<section style='page-break-after: always'><h1>{heading} {n + 1}</h1>"
        f"<p>Paragraph of the tagged report, page {n + 1}. "
        f"<a href='https://example.org/{n}'>A link</a></p></section>"
        for n in range(pages)
    )
    return weasyprint.HTML(string=f"<html lang='en-GB'><body>{body}</body></html>").write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True
    )


def text_page(pdf: pikepdf.Pdf, lines: list[tuple[float, float, str]], rotate: int = 0):
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[-1]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(
        "".join(f"BT /F1 10 Tf {x} {y} Td ({t}) Tj ET " for x, y, t in lines).encode()
    )
    if rotate:
        page.Rotate = rotate


def awkward_pdf() -> bytes:
    """Page 1 plain; page 2 has a footer line in the bottom 28 pt; page 3 is landscape by
    /Rotate 90; page 4 is /Rotate 270 with text along its visual bottom edge."""
    pdf = pikepdf.new()
    text_page(pdf, [(72, 770, "Plain page top")])
    text_page(pdf, [(72, 770, "Crowded page top"), (250, 10, "FOOTERLINE crowded")])
    text_page(pdf, [(72, 770, "Rotated ninety")], rotate=90)
    # /Rotate 270: the visual bottom is user-space x = 0; text near it, in the strip.
    text_page(pdf, [(8, 400, "EDGELINE")], rotate=270)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def meeting(db, f):
    c = f.committee("Engine Board", clerk_name="Jo Clerk", clerk_email="jo@example.org")
    f.membership(c, f.person("Lakin", honorific="Councillor"), "chair")
    member = f.member_user(c)
    # One moment for both: a meeting made only to read a default date off would be a meeting
    # of its own, the previous one (with no minutes) whenever the clock ticks past a second
    # before the next is made, as it does on a loaded machine.
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    earlier = f.meeting(c, starts_at=soon.replace(year=2020))
    agenda.add_item(earlier, title="Budget")
    (minute,) = minutes.draft_minutes(earlier)
    minutes.save_minute(minute, "The budget was presented.", minute.version)
    minutes.add_resolution(minute, "That the budget be approved.")
    minutes.publish_minutes(earlier)
    m = f.meeting(c, starts_at=soon)
    agenda.apply_template(m)
    report = agenda.add_item(m, title="Pharmacy services", section="For Decision")
    add_document(report, io.BytesIO(tagged_pdf(2)), "tagged.pdf", "Tagged report")
    add_document(report, io.BytesIO(make_pdf(2, "Plain appendix")), "plain.pdf", "Appendix A")
    odd = agenda.add_item(m, title="Odd pages", section="For Decision")
    add_document(odd, io.BytesIO(awkward_pdf()), "awkward.pdf", "Awkward paper")
    exempt = agenda.add_item(
        m,
        title="Residential placements",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    add_document(exempt, io.BytesIO(make_pdf(1, "Tender")), "tender.pdf", "Tender prices")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    return {"meeting": m, "member": member, "report": report, "odd": odd}


# -- structure tree ------------------------------------------------------------------------


def _root_of(elem, root) -> bool:
    for _ in range(100):
        parent = elem.get("/P")
        if parent is None:
            return False
        if parent.objgen == root.objgen:
            return True
        elem = parent
    return False


def _marked_elements(root):
    """(element, page objgen) for every element owning marked content, walking from root."""
    found = []

    def walk(elem, page):
        page = elem.get("/Pg", page)
        kids = elem.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        for kid in kids:
            if isinstance(kid, int) or (
                isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR"
            ):
                found.append((elem, (kid.get("/Pg", page) if not isinstance(kid, int) else page)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
                walk(kid, page)

    for kid in root.K if isinstance(root.K, pikepdf.Array) else [root.K]:
        walk(kid, None)
    return found


def _has(elem, role: str) -> bool:
    kids = elem.get("/K")
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    return elem.get("/S") == role or any(
        _has(k, role) for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k
    )


@pytest.mark.parametrize("variant", ["public", "members"])
def test_the_pack_is_one_tagged_document(meeting, variant):
    pack = builder.build_pack(meeting["meeting"], variant)
    pdf = pikepdf.open(io.BytesIO(pack.pdf))
    assert bool(pdf.Root.MarkInfo.Marked)
    root = pdf.Root.StructTreeRoot
    (document,) = list(root.K)
    assert document.S == "/Document"
    nums = list(root.ParentTree.Nums)
    tree = dict(zip(nums[::2], nums[1::2], strict=True))
    assert int(root.ParentTreeNextKey) > max(tree)
    keys = []
    for page in pdf.pages:
        if "/StructParents" in page.obj:
            key = int(page.obj.StructParents)
            keys.append(key)
            for elem in tree[key]:
                assert _root_of(elem, root)
                assert elem.Pg.objgen == page.obj.objgen
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                key = int(annot.StructParent)
                keys.append(key)
                assert _root_of(tree[key], root)
    assert len(keys) == len(set(keys)), "two pages share ParentTree entries"
    # Every generated paper, and the tagged upload, is a Part whose text is in the tree.
    parts = {str(p.get("/T")): p for p in document.K if p.get("/S") == "/Part"}
    page_index = {p.obj.objgen: n for n, p in enumerate(pdf.pages)}
    owned = {page_index[pg.objgen] for _, pg in _marked_elements(root) if pg is not None}
    for paper in pack.papers:
        first = pack.agenda_pages + paper.first_page - 1
        pages = set(range(first, first + paper.pages))
        if paper.kind == "document" and paper.title != "Tagged report":
            assert not owned & pages
            assert all("/StructParents" not in pdf.pages[n].obj for n in pages)
            continue
        assert paper.title in parts, (paper.title, list(parts))
        assert pages <= owned, paper.title
    tagged = parts["Tagged report"]
    assert any(_root_of(e, tagged) for e, _ in _marked_elements(root)) and _has(tagged, "/H1")
    # The agenda's own tags are still there.
    assert set(range(pack.agenda_pages)) <= owned


def test_stamps_are_pagination_artifacts(meeting):
    pack = builder.build_pack(meeting["meeting"], "members")
    pdf = pikepdf.open(io.BytesIO(pack.pdf))
    for page in pdf.pages[pack.agenda_pages :]:
        ops = pikepdf.parse_content_stream(page)
        depth, artifact, stamped, pagination = 0, None, False, False
        for operands, op in ops:
            op = str(op)
            if op in ("BDC", "BMC"):
                depth += 1
                if op == "BDC" and str(operands[0]) == "/Artifact" and artifact is None:
                    artifact = depth
                    pagination = operands[1].get("/Type") == "/Pagination"
            elif op == "EMC":
                if artifact == depth:
                    artifact = None
                depth -= 1
            elif op == "Do" and str(operands[0]).startswith("/Stamp"):
                assert artifact is not None and pagination, "stamp drawn outside an artifact"
                stamped = True
        assert stamped and depth == 0
        # The stamp form itself carries no marked content that would claim a tag.
        for name, xobj in page.Resources.XObject.items():
            if name.startswith("/Stamp"):
                assert b"MCID" not in xobj.read_bytes()


def test_each_page_carries_its_own_stamp_only_and_the_paged_fallback_agrees(meeting, monkeypatch):
    def stamped(pdf: bytes, agenda_pages: int) -> list[list[str]]:
        pages = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        return [re.findall(r"\bPage (\d+)\b", t) for t in pages.split("\f")[agenda_pages:-1]]

    made = []
    real = merge.stamp_forms
    monkeypatch.setattr(merge, "stamp_forms", lambda *a, **k: made.append(1) or real(*a, **k))
    pack = builder.build_pack(meeting["meeting"], "members")
    assert made  # the quick way, from the specimen, did the work
    numbers = stamped(pack.pdf, pack.agenda_pages)
    assert numbers == [[str(n)] for n in range(1, len(numbers) + 1)]
    texts = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pack.pdf, capture_output=True, check=True
    ).stdout.decode()
    marked = [
        n
        for n, t in enumerate(texts.split("\f")[pack.agenda_pages : -1], 1)
        if "NOT FOR PUBLICATION" in t
    ]
    tender = next(p for p in pack.papers if p.title == "Tender prices")
    assert tender.first_page in marked

    def refuse(*args, **kwargs):
        raise ValueError("not as expected")

    monkeypatch.setattr(merge, "stamp_forms", refuse)
    again = builder.build_pack(meeting["meeting"], "members")
    assert stamped(again.pdf, again.agenda_pages) == numbers


# -- stamp placement and padding -----------------------------------------------------------


class _Words(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pages: list[dict] = []
        self._word = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.pages.append({"w": float(a["width"]), "h": float(a["height"]), "words": []})
        elif tag == "word":
            self._word = [float(a[k]) for k in ("xmin", "ymin", "xmax", "ymax")]

    def handle_data(self, data):
        if self._word is not None:
            self.pages[-1]["words"].append((data, self._word))
            self._word = None


def words(pdf: bytes) -> list[dict]:
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    parser = _Words()
    parser.feed(out)
    return parser.pages


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_stamp_at_the_visual_bottom_upright_and_padding_only_where_needed(meeting):
    pack = builder.build_pack(meeting["meeting"], "public")
    paper = next(p for p in pack.papers if p.title == "Awkward paper")
    first = pack.agenda_pages + paper.first_page - 1
    pages = words(pack.pdf)[first : first + 4]
    # pdftotext gives word boxes as displayed but the page size unrotated.
    doc = pikepdf.open(io.BytesIO(pack.pdf))
    for n, page in enumerate(pages):
        if int(doc.pages[first + n].obj.get("/Rotate", 0)) % 180:
            page["w"], page["h"] = page["h"], page["w"]
    for n, page in enumerate(pages):
        number = paper.first_page + n
        stamp = [b for w, b in page["words"] if w == str(number)]
        label = [b for w, b in page["words"] if w == "Page"]
        assert stamp and label, page["words"]
        s, word = stamp[-1], label[-1]
        assert word[2] - word[0] > 1.5 * (word[3] - word[1]), "stamp is not upright"
        assert word[2] < s[0]  # "Page" reads left to right before its number
        assert s[1] > page["h"] - merge.STAMP_PAD, (n, s, page["h"])  # in the bottom strip
        for word, box in page["words"]:
            if word not in ("Page", str(number)):
                assert not _overlap(box, s), (word, box, s)
    plain, crowded, rot90, rot270 = pages
    assert (plain["w"], plain["h"]) == (595, 842)  # nothing in the strip: left alone
    assert (crowded["w"], crowded["h"]) == (595, 842 + merge.STAMP_PAD)
    footer = next(b for w, b in crowded["words"] if w == "FOOTERLINE")
    assert footer[3] < crowded["h"] - merge.STAMP_PAD + 1  # pushed above the stamp's strip
    assert (rot90["w"], rot90["h"]) == (842, 595)  # landscape, not padded
    assert (rot270["w"], rot270["h"]) == (842, 595 + merge.STAMP_PAD)  # padded at its bottom
    assert any(w == "EDGELINE" for w, _ in rot270["words"])


# -- reusing rendered parts ----------------------------------------------------------------


def test_a_rebuild_renders_again_only_what_changed(db, meeting):
    m = meeting["meeting"]
    start = dict(cache.part_stats)
    builder.build_pack(m, "public")
    used = {k[1] for k in cache.part_stats if cache.part_stats[k] != start.get(k, 0)}
    assert {f"packs/pdf/{t}.html" for t in ("agenda", "actions", "withheld")} <= used
    add_document(meeting["odd"], io.BytesIO(make_pdf(2, "Late appendix")), "late.pdf", "Late")
    db.session.commit()
    assert not any(p.title == "Late" for p in builder.build_pack(m, "public").papers)
    agenda_publication.publish_agenda(m)  # the late paper is published by a supplement
    db.session.commit()
    # Built as the cache builds it: numbered after revision 1's pack (built first here).
    inputs, _, previous, _ = cache._pack_key(m, "public", cache.agenda_of(m))
    before = dict(cache.part_stats)
    pack = builder.build_pack(m, "public", inputs, previous)
    assert any(p.title == "Late" for p in pack.papers)

    def delta(kind, template):
        key = (kind, f"packs/pdf/{template}.html")
        return cache.part_stats[key] - before.get(key, 0)

    # The revision and ranges moved, so the agenda is new; the rest is reused as it was, the
    # stamps too (their specimen changes only with the number of digits in the last page
    # number).
    assert delta("rendered", "agenda") == 1 and delta("rendered", "stamps") == 0
    for template in used - {"packs/pdf/agenda.html", "packs/pdf/stamps.html"}:
        template = template.removeprefix("packs/pdf/").removesuffix(".html")
        assert delta("rendered", template) == 0, template
        assert delta("reused", template) >= 1, template
    # Built again with nothing changed: nothing is rendered at all.
    before = dict(cache.part_stats)
    builder.build_pack(m, "public", inputs, previous)
    assert all(
        cache.part_stats[k] == before.get(k, 0) for k in cache.part_stats if k[0] == "rendered"
    )


# -- the cache under concurrency and failure -----------------------------------------------


def test_concurrent_requests_for_a_stale_pack_build_it_once(app, meeting):
    data = builder.build_pack(meeting["meeting"], "public").pdf
    builds = []
    name = f"pack-concurrent-{time.time_ns()}"

    def build():
        builds.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other thread to arrive meanwhile
        return data

    results, errors = [], []

    def request():
        try:
            with app.app_context():
                results.append(cache._cached(name, build).read_bytes())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(builds) == 1
    assert len(results) == 8 and all(r == data for r in results)
    assert not list(cache._dir().glob(f"{name}.lock"))


HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from app.packs import cache
with cache.build_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)  # a build that never ends on its own
"""


def _hold_build_lock(lock: Path) -> subprocess.Popen:
    """Another process that takes the pack's build lock (the same code a build runs) and
    keeps it, as a build in progress does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("build", ["killed", "stuck"])
def test_a_build_that_dies_or_hangs_holding_the_lock_does_not_hold_up_the_next_request(
    client, db, meeting, monkeypatch, build
):
    """A worker SIGKILLed mid-build: the kernel drops its lock, so the next request builds the
    pack at once. One still running but stuck: the wait is bounded, then the last good pack
    is served."""
    m = meeting["meeting"]
    url = f"/meetings/{m.id}/pack.pdf"
    good = client.get(url)
    assert good.status_code == 200
    agenda.update_item(meeting["report"], title="Pharmacy services (revised)")
    db.session.commit()
    assert client.get(url).data == good.data  # not published yet
    agenda_publication.publish_agenda(m)  # now stale
    db.session.commit()
    key = cache._pack_key(m, builder.PUBLIC, cache.agenda_of(m))[3]
    lock = cache._dir() / f"pack-{key}.lock"
    holder = _hold_build_lock(lock)
    try:
        if build == "killed":
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)
        else:
            monkeypatch.setattr(cache, "LOCK_WAIT", 1)
        started = time.monotonic()
        response = client.get(url)
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert response.status_code == 200 and took < 4, took
    if build == "killed":
        assert response.data != good.data
        assert "Pharmacy services (revised)" in _pdf_text(response.data)
        assert not lock.exists()
    else:
        assert response.data == good.data  # the previous pack, not a five-minute wait


def test_concurrent_writes_of_one_file_never_collide(app, tmp_path):
    target = tmp_path / "latest.txt"
    errors = []

    def write(n):
        try:
            for i in range(50):
                cache.write_atomic(target, f"{n}-{i}".encode())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert re.fullmatch(r"\d-\d+", target.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["latest.txt"]  # no temporary files left


def test_a_failed_build_leaves_nothing_behind(app):
    name = f"pack-failing-{time.time_ns()}"

    def build():
        raise RuntimeError("WeasyPrint fell over")

    with pytest.raises(RuntimeError):
        cache._cached(name, build)
    leftovers = [p.name for p in cache._dir().iterdir() if name in p.name]
    assert leftovers == []


def test_the_pointer_to_the_last_good_pack_is_not_rewritten_when_unchanged(meeting):
    m = meeting["meeting"]
    path = cache.pack_file(m, "public")
    pointer = cache._latest(m, "public")
    first = pointer.stat()
    assert pointer.read_text() == path.name
    cache.pack_file(m, "public")
    again = pointer.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


def test_a_lost_stored_paper_keeps_the_last_good_pack_and_tells_staff(
    client, db, f, meeting, sign_in
):
    m = meeting["meeting"]
    url = f"/meetings/{m.id}/pack.pdf"
    good = client.get(url)
    assert good.status_code == 200
    doc = next(d for d in meeting["report"].documents if d.title == "Appendix A")
    # A damaged file gets placeholder pages (pdfsafety); a lost one still stops the build.
    document_path(doc).unlink()
    agenda.update_item(meeting["report"], title="Pharmacy services (revised)")
    agenda_publication.publish_agenda(m)  # now stale
    db.session.commit()
    audits = db.session.query(AuditEvent).filter_by(verb="pack_build_failed").count()
    for _ in range(2):
        again = client.get(url)
        assert again.status_code == 200 and again.data == good.data
    failures = db.session.query(AuditEvent).filter_by(verb="pack_build_failed").all()
    assert len(failures) == audits + 1
    assert "Appendix A" in failures[-1].summary and "is missing" in failures[-1].summary
    # Staff see why on the meeting page; the public does not.
    assert "could not be rebuilt" not in client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "could not be rebuilt" in page and "Appendix A" in page and "is missing" in page
    # The members' pack was never built: 503, and the clerk is told why.
    members = client.get(url + "?variant=members")
    assert members.status_code == 503 and "is missing" in members.get_data(as_text=True)
    assert db.session.query(AuditEvent).filter_by(verb="pack_build_failed").count() == audits + 2


def test_staff_are_told_when_the_revision_a_supplement_keeps_the_numbers_of_cannot_be_built(
    app, client, db, f, meeting, sign_in
):
    """A supplement's pack is numbered after the previous revision's, which it builds first
    if it must. That one failing (or still being prepared) is told on the clerk's meeting
    page, which must not fail itself."""
    from app.packs import background

    m = meeting["meeting"]
    url = f"/meetings/{m.id}/pack.pdf"
    assert client.get(url).status_code == 200
    (odd,) = meeting["odd"].documents
    document_path(odd).unlink()
    agenda.update_item(meeting["odd"], title="Odd pages (revised)")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    # Made exempt at once: revision 1's kept pack no longer fits, and cannot be rebuilt.
    agenda.update_item(
        meeting["report"], visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    clerk = f.user(Role.CLERK)
    db.session.commit()
    assert client.get(url).status_code == 503
    sign_in(clerk)
    page = client.get(f"/meetings/{m.id}/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "could not be rebuilt" in text and "is missing" in text
    # Built off the request, a previous revision's pack not built yet is no failure.
    agenda.update_item(meeting["odd"], title="Odd pages (revised again)")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    app.config["PACK_BUILDS_OFF_REQUEST"] = True
    try:
        page = client.get(f"/meetings/{m.id}/")
    finally:
        background.wait_for_builds()
        app.config["PACK_BUILDS_OFF_REQUEST"] = False
    assert page.status_code == 200


def test_a_stale_pack_is_not_served_once_what_it_shows_is_withdrawn(
    client, db, meeting, sign_in, caplog
):
    """A paper made exempt (or removed) while another paper breaks the rebuild: the public
    must not keep getting the old pack with the now-exempt paper in it, nor members one with a
    paper a supplement has removed."""
    from app.agenda.documents import remove_document

    m = meeting["meeting"]
    url = f"/meetings/{m.id}/pack.pdf"
    sign_in(meeting["member"])
    good = client.get(url)
    assert good.status_code == 200 and b"%PDF" in good.data[:8]
    members_good = client.get(url + "?variant=members")
    assert members_good.status_code == 200
    report = meeting["report"]
    tagged = next(d for d in report.documents if d.title != "Appendix A")
    (odd,) = meeting["odd"].documents
    document_path(odd).unlink()  # the rebuild fails: its stored file is lost
    agenda.update_item(report, title="Pharmacy services (revised)")
    agenda_publication.publish_agenda(m)  # the old pack is stale
    db.session.commit()
    assert client.get(url).data == good.data  # nothing it shows was withdrawn: still served
    agenda.update_item(
        report, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    db.session.commit()
    withdrawn = client.get(url)
    assert withdrawn.status_code == 503 and withdrawn.data != good.data
    # Likewise for the members when a paper they saw has been removed: once a supplement
    # publishes the removal (until then, the revision they are served still carries it).
    remove_document(tagged)
    db.session.commit()
    assert client.get(url + "?variant=members").data == members_good.data
    agenda_publication.publish_agenda(m)
    db.session.commit()
    members = client.get(url + "?variant=members")
    assert members.status_code == 503 and b"Tagged report" not in members.data
    # Papers may be exempt: the logs say which meeting, never which paper.
    assert caplog.records and not any(odd.title in r.getMessage() for r in caplog.records)


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.parametrize("withdrawal", ["minute made exempt", "drafts unpublished", "action"])
def test_a_stale_pack_is_not_served_once_the_previous_minutes_it_shows_are_withdrawn(
    client, db, f, meeting, withdrawal
):
    """The fallback covers the previous meeting's minutes and the action log, not only this
    meeting's papers: a minute made exempt since must not live on in the old public pack."""
    from app.actions.services import create_action
    from app.minutes.models import Minute

    m = meeting["meeting"]
    committee = m.committee
    committee.publish_draft_minutes = True
    minute = db.session.scalars(
        db.select(Minute).where(Minute.text == "The budget was presented.")
    ).one()
    (resolution,) = minute.resolutions
    action = create_action(
        committee,
        "Publish the budget book",
        owner_id=f.person("Officer").id,
        resolution=resolution,
    )
    db.session.commit()
    url = f"/meetings/{m.id}/pack.pdf"
    good = client.get(url)
    assert good.status_code == 200
    text = _pdf_text(good.data)
    assert "The budget was presented." in text and "Publish the budget book" in text
    (odd,) = meeting["odd"].documents
    document_path(odd).unlink()  # the rebuild fails: its stored file is lost
    agenda.update_item(meeting["report"], title="Pharmacy services (revised)")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    assert client.get(url).data == good.data  # stale, but nothing it shows was withdrawn
    if withdrawal == "minute made exempt":
        agenda.update_item(
            minute.item, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
        )
    elif withdrawal == "drafts unpublished":
        committee.publish_draft_minutes = False
    else:
        # The action alone leaves the public view: its minute is made confidential.
        agenda.update_item(minute.item, visibility="confidential")
        assert not action.can_view(None)
    db.session.commit()
    withdrawn = client.get(url)
    assert withdrawn.status_code == 503
    assert b"The budget was presented." not in withdrawn.data
    assert b"Publish the budget book" not in withdrawn.data


def test_a_pack_manifest_lists_what_the_pack_shows(db, meeting):
    m = meeting["meeting"]
    public, members = builder.shown(m, builder.PUBLIC), builder.shown(m, builder.MEMBERS)
    assert set(public) == set(builder.SHOWN_KINDS)
    titles = {d.id: d.title for i in m.items for d in i.documents}
    assert "Tender prices" not in {titles[i] for i in public["documents"]}
    assert "Tender prices" in {titles[i] for i in members["documents"]}
    assert set(public["items"]) < set(members["items"])
    # An unchanged meeting shows the same; the manifest of a built pack says so.
    assert builder.shown(m, builder.PUBLIC) == public


def test_the_members_pack_unavailable_to_the_public_says_nothing_specific(
    client, db, meeting, sign_in
):
    m = meeting["meeting"]
    doc = next(d for d in meeting["report"].documents if d.title == "Appendix A")
    Path(document_path(doc)).unlink()
    db.session.commit()
    sign_in(meeting["member"])
    response = client.get(f"/meetings/{m.id}/pack.pdf?variant=members")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "not available just now" in text and "Appendix A" not in text


def test_minutes_pdf_that_cannot_be_built_is_a_clear_503(client, db, f, monkeypatch, sign_in):
    c = f.committee()
    m = f.meeting(c)
    agenda.add_item(m, title="Budget")
    minutes.draft_minutes(m)
    minutes.publish_minutes(m)
    clerk = f.user(Role.CLERK)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("WeasyPrint fell over")

    monkeypatch.setattr(builder, "minutes_pdf", broken)
    sign_in(clerk)
    response = client.get(f"/meetings/{m.id}/minutes.pdf")
    assert response.status_code == 503
    assert "could not be produced" in response.get_data(as_text=True)


def test_a_tagged_upload_from_another_producer_keeps_its_tree(app):
    """A tree as other producers write it: ParentTree split into /Kids, a custom role in a
    RoleMap, the root's kids without a Document element."""
    src = pikepdf.open(io.BytesIO(tagged_pdf(2, heading="Producer")))
    root = src.Root.StructTreeRoot
    nums = list(root.ParentTree.Nums)
    half = len(nums) // 2 // 2 * 2
    root.ParentTree = src.make_indirect(
        pikepdf.Dictionary(
            Kids=pikepdf.Array(
                [
                    src.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(part)))
                    for part in (nums[:half], nums[half:])
                ]
            )
        )
    )
    (document,) = list(root.K)
    root.K = pikepdf.Array(list(document.K))
    for kid in root.K:
        kid.P = root

    def rename(elem):
        if elem.get("/S") == "/H1":
            elem.S = pikepdf.Name("/Heading1")
        kids = elem.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                rename(kid)

    for kid in root.K:
        rename(kid)
    root.RoleMap = pikepdf.Dictionary({"/Heading1": pikepdf.Name.H1})
    upload = io.BytesIO()
    src.save(upload)

    out = pikepdf.open(io.BytesIO(tagged_pdf(1, heading="Front")))
    tree = merge.StructureTree(out)
    theirs = pikepdf.open(io.BytesIO(upload.getvalue()))
    start = len(out.pages)
    out.pages.extend(theirs.pages)
    assert tree.add(theirs, list(out.pages[start:]), "Producer report")
    tree.finish()
    saved = io.BytesIO()
    out.save(saved)
    pdf = pikepdf.open(io.BytesIO(saved.getvalue()))
    root = pdf.Root.StructTreeRoot
    assert root.RoleMap["/Heading1"] == pikepdf.Name.H1
    numbers = list(root.ParentTree.Nums)
    tree_map = dict(zip(numbers[::2], numbers[1::2], strict=True))
    keys = [int(p.obj.StructParents) for p in pdf.pages]
    assert len(set(keys)) == 3
    for page, key in zip(pdf.pages, keys, strict=True):
        assert all(_root_of(e, root) and e.Pg.objgen == page.obj.objgen for e in tree_map[key])
    part = next(p for p in root.K[0].K if p.get("/T") == "Producer report")
    assert part.S == "/Part" and _has(part, "/Heading1")
    for page in pdf.pages[1:]:
        for annot in page.obj.get("/Annots", []):
            assert _root_of(tree_map[int(annot.StructParent)], root)
        assert page.obj.get("/Tabs") == "/S"


def test_a_worker_build_that_fails_is_recorded_once(db, meeting):
    from app.packs.tasks import build_pack_task

    m = meeting["meeting"]
    meeting_id = m.id
    doc = next(d for d in meeting["report"].documents if d.title == "Appendix A")
    document_path(doc).unlink()
    db.session.commit()
    # Run as a worker runs it (no earlier pack: nothing to serve, nothing to return).
    assert build_pack_task.run(meeting_id, "members") is None
    assert build_pack_task.run(meeting_id, "members") is None
    failures = db.session.query(AuditEvent).filter_by(verb="pack_build_failed").all()
    assert len(failures) == 1 and "Appendix A" in failures[0].summary


def test_the_strip_check_remembers_files_and_doubts_what_it_cannot_read(tmp_path):
    awkward = tmp_path / "awkward.pdf"
    awkward.write_bytes(awkward_pdf())
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(make_pdf(2, "Plain"))
    store = tmp_path / "store"
    check = merge.StripCheck([(awkward, 4), (plain, 2)], store)
    assert check.results(awkward, 4) == [False, True, False, True]
    assert check.results(plain, 2) == [False, False]
    check.close()
    again = merge.StripCheck([(plain, 2), (awkward, 4)], store)
    assert again.proc is None  # both known by their hash: poppler is not started
    assert again.results(awkward, 4) == [False, True, False, True]
    again.close()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 garbage")
    doubt = merge.StripCheck([(broken, 1), (plain, 2)], None)
    assert doubt.results(plain, 2) == [True, True]  # no answer: pad rather than cover
    assert doubt.results(tmp_path / "elsewhere.pdf", 3) == [True, True, True]
    doubt.close()


def test_uploads_are_looked_at_once_when_uploaded(meeting):
    (doc,) = meeting["odd"].documents
    # The build finds the answer kept, on upload, by the file's hash: no poppler of its own.
    check = merge.StripCheck([(document_path(doc), doc.page_count)], cache.strips_dir())
    assert check.proc is None
    assert check.results(document_path(doc), 4) == [False, True, False, True]
    check.close()
