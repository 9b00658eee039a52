"""Uploaded papers as readers get them: odd page values normalised, active content removed,
files built to overload readers refused within limits, a full disk answered with 507, and one
bad paper never stopping a pack. Each through the real app, with real files."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pikepdf
import pytest
from flask import g
from sqlalchemy import func, select

from app.agenda import pdfsafety, publication
from app.agenda import services as agenda
from app.auth.services import issue_token
from app.core import storage
from app.models import Document, Role
from tests.pdfs import make_pdf

REASON = "The public interest in maintaining the exemption outweighs that in disclosing it."


@pytest.fixture
def board(db, f, client, sign_in):
    c = f.committee("Safety Board")
    clerk = f.user(Role.CLERK)
    m = f.meeting(c)
    public = agenda.add_item(m, title="Budget")
    exempt = agenda.add_item(
        m,
        title="Tenders",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    db.session.commit()
    sign_in(clerk)
    good = post(client, public, make_pdf(2, "Good paper"), "Good paper")
    assert good.status_code == 302, good.get_data(as_text=True)
    return {"meeting": m, "public": public, "exempt": exempt, "clerk": clerk}


def post(client, item, data: bytes, title: str, **form):
    return client.post(
        f"/agenda-items/{item.id}/documents/new",
        data={"title": title, "visibility": "public", "file": (io.BytesIO(data), "p.pdf"), **form},
        content_type="multipart/form-data",
    )


def documents(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def paper(db, title: str) -> Document:
    return db.session.scalars(select(Document).where(Document.title == title)).one()


def download(client, doc: Document):
    return client.get(f"/documents/{doc.id}/{doc.filename}")


def publish_and_get_packs(db, client, meeting) -> dict[str, bytes]:
    if meeting.agenda_published_at is None:
        publication.publish_agenda(meeting)
        db.session.commit()
    packs = {}
    for variant in ("public", "members"):
        r = client.get(f"/meetings/{meeting.id}/pack.pdf?variant={variant}")
        assert r.status_code == 200, (variant, r.get_data(as_text=True)[:500])
        packs[variant] = r.data
    return packs


def others_still_work(db, client, meeting) -> None:
    """What other readers get is unharmed: the good paper, the meeting page, both packs."""
    r = download(client, paper(db, "Good paper"))
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert client.get(f"/meetings/{meeting.id}/").status_code == 200
    publish_and_get_packs(db, client, meeting)


def texts(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return out.split("\f")


def expanded(pdf: bytes) -> bytes:
    """The whole file with every stream decompressed, to search for what must not be there."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(
            out,
            qdf=True,
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
    return out.getvalue()


# -- odd page values ---------------------------------------------------------------------


def odd(kind: str) -> bytes:
    pdf = pikepdf.open(io.BytesIO(make_pdf(2, "Odd paper")))
    page = pdf.pages[0].obj
    if kind == "rotate as a string":
        page.Rotate = pikepdf.String("90")
    elif kind == "rotate as a name":
        page.Rotate = pikepdf.Name("/Ninety")
    elif kind == "rotate 45":
        page.Rotate = 45
    elif kind == "rotate -90":
        page.Rotate = -90
    elif kind == "rotate inherited as a string":
        pdf.Root.Pages.Rotate = pikepdf.String("quarter")
    elif kind == "mediabox reversed":
        page.MediaBox = pikepdf.Array([595, 842, 0, 0])
    elif kind == "mediabox empty":
        page.MediaBox = pikepdf.Array([0, 0, 0, 0])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "rotation"),
    [
        ("rotate as a string", 0),
        ("rotate as a name", 0),
        ("rotate 45", 0),
        ("rotate -90", 270),
        ("rotate inherited as a string", 0),
        ("mediabox reversed", 0),
        ("mediabox empty", 0),
    ],
)
def test_odd_page_values_are_normalised_and_both_packs_still_build(
    db, client, board, kind, rotation
):
    data = odd(kind)
    r = post(client, board["exempt"], data, "Odd paper")
    assert r.status_code == 302, r.get_data(as_text=True)
    doc = paper(db, "Odd paper")
    # The original is kept as it came; packs and downloads use the normalised copy.
    assert storage.blob_path(doc.sha256).read_bytes() == data
    with pikepdf.open(pdfsafety.safe_copy_path(doc.sha256)) as safe:
        first = safe.pages[0].obj
        assert first.Rotate == rotation and isinstance(first.Rotate, int)
        box = [float(v) for v in first.MediaBox]
        assert box[2] - box[0] >= 1 and box[3] - box[1] >= 1 and box[0] < box[2]
        assert "/Rotate" not in safe.Root.Pages
    packs = publish_and_get_packs(db, client, board["meeting"])
    with pikepdf.open(io.BytesIO(packs["members"])) as pack:
        assert all(isinstance(p.obj.get("/Rotate", 0), int) for p in pack.pages)
    assert "Odd paper page 1" in "".join(texts(packs["members"]))
    others_still_work(db, client, board["meeting"])


# -- one bad paper never stops a pack ----------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "exempt"])
def test_an_unusable_stored_paper_gets_a_placeholder_and_staff_are_told(
    app, db, client, board, visibility
):
    item = board["public"] if visibility == "public" else board["exempt"]
    original = make_pdf(3, "Broken paper")
    r = post(client, item, original, "Broken paper title")
    assert r.status_code == 302
    doc = paper(db, "Broken paper title")
    # Stored before safe copies existed, and its original damaged since (a disk fault).
    pdfsafety.safe_copy_path(doc.sha256).unlink()
    storage.blob_path(doc.sha256).write_bytes(b"%PDF-1.7 damaged on disk")
    packs = publish_and_get_packs(db, client, board["meeting"])
    pages = texts(packs["members"])
    placeholders = [n for n, t in enumerate(pages) if "This paper could not be included" in t]
    assert len(placeholders) == 3  # the pages the agenda already numbers for it
    if visibility == "exempt":  # not even the members' pack prints a restricted title there
        assert not any("Broken paper title" in pages[n] for n in placeholders)
    else:
        assert all("Broken paper title" in pages[n] for n in placeholders)
        assert "This paper could not be included" in "".join(texts(packs["public"]))
    assert "Good paper page 2" in "".join(pages)
    problems = pdfsafety.paper_problems(board["meeting"])
    assert [p["document"].id for p in problems] == [doc.id]
    assert "changed since it was uploaded" in problems[0]["reason"]
    r = download(client, doc)
    assert r.status_code == 503 and "cannot be shown just now" in r.get_data(as_text=True)
    others_still_work(db, client, board["meeting"])
    # Staff see it on the meeting page; the public never does.
    meeting_page = f"/meetings/{board['meeting'].id}/"
    g.pop("_login_user", None)  # the suite's one app context would keep the clerk in g
    assert "data-paper-problem" not in app.test_client().get(meeting_page).get_data(as_text=True)
    g.pop("_login_user", None)
    page = client.get(meeting_page).get_data(as_text=True)  # the clerk's
    assert "data-paper-problem" in page and "upload it again" in page
    # Put right by uploading the same file again: the packs show it, not the placeholders
    # built meanwhile.
    assert post(client, item, original, "Broken paper again").status_code == 302
    fixed = publish_and_get_packs(db, client, board["meeting"])
    fixed_text = "".join(texts(fixed["members"]))
    assert "This paper could not be included" not in fixed_text
    assert "Broken paper page 3" in fixed_text
    assert "data-paper-problem" not in client.get(meeting_page).get_data(as_text=True)


# -- active content ----------------------------------------------------------------------


def active() -> bytes:
    """A paper carrying every kind of active content the packs used to keep."""
    pdf = pikepdf.open(io.BytesIO(make_pdf(2, "Active paper")))

    def js(code: str):
        return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(code))

    def link(action, y):
        return pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Link,
                Rect=[72, y, 300, y + 20],
                A=action,
            )
        )

    embedded = pdf.make_stream(b"MZ pretend program", Type=pikepdf.Name.EmbeddedFile)
    filespec = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Filespec, F=pikepdf.String("run.exe"), EF={"/F": embedded}
        )
    )
    page = pdf.pages[0].obj
    page.AA = pikepdf.Dictionary(O=js("app.alert('page open')"))
    page.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                link(js("app.alert('link')"), 700),
                link(pikepdf.Dictionary(S=pikepdf.Name.Launch, F=filespec), 660),
                link(pikepdf.Dictionary(S=pikepdf.Name.URI, URI="javascript:alert(1)"), 620),
                link(pikepdf.Dictionary(S=pikepdf.Name.URI, URI="https://example.org/ok"), 580),
                pdf.make_indirect(
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.FileAttachment,
                        Rect=[72, 540, 90, 560],
                        FS=filespec,
                    )
                ),
            ]
        )
    )
    pdf.Root.OpenAction = js("app.alert('document open')")
    pdf.Root.AA = pikepdf.Dictionary(WC=js("app.alert('close')"))
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("a"), pdf.make_indirect(js("x()"))]),
        EmbeddedFiles=pikepdf.Dictionary(Names=[pikepdf.String("run.exe"), filespec]),
    )
    field = pdf.make_indirect(
        pikepdf.Dictionary(FT=pikepdf.Name.Tx, T="name", AA={"/K": js("keystroke()")})
    )
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=[field], XFA=pdf.make_stream(b"<xdp><script>evil()</script></xdp>")
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


ACTIVE_MARKS = (
    b"/JavaScript",
    b"/JS",
    b"/Launch",
    b"/EmbeddedFile",
    b"/FileAttachment",
    b"javascript:",
    b"/XFA",
    b"/AA",
    b"/OpenAction",
    b"MZ pretend program",
    b"alert",
)


def test_active_content_is_removed_from_packs_and_downloads_but_kept_in_the_original(
    db, client, board
):
    data = active()
    assert all(mark in expanded(data) for mark in ACTIVE_MARKS)
    r = post(client, board["public"], data, "Active paper")
    assert r.status_code == 302, r.get_data(as_text=True)
    doc = paper(db, "Active paper")
    assert storage.blob_path(doc.sha256).read_bytes() == data
    r = download(client, doc)
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("inline; filename=")
    served = expanded(r.data)
    packs = publish_and_get_packs(db, client, board["meeting"])
    for name, pdf in [("download", served)] + [(v, expanded(p)) for v, p in packs.items()]:
        assert [m for m in ACTIVE_MARKS if m in pdf] == [], name
    # Ordinary links and the text stay.
    assert b"https://example.org/ok" in served
    assert "Active paper page 2" in "".join(texts(packs["public"]))
    others_still_work(db, client, board["meeting"])


def test_a_paper_stored_before_safe_copies_gets_one_on_first_use(db, client, board):
    r = post(client, board["public"], active(), "Old paper")
    assert r.status_code == 302
    doc = paper(db, "Old paper")
    safe = pdfsafety.safe_copy_path(doc.sha256)
    safe.unlink()
    r = download(client, doc)
    assert r.status_code == 200 and b"/JavaScript" not in expanded(r.data)
    assert safe.exists()
    root = Path(client.application.config["STORAGE_DIR"])
    assert not [p for p in files_under(root) if p.suffix == ".part" or ".check-" in str(p)]
    safe.unlink()  # and the same for a pack build
    packs = publish_and_get_packs(db, client, board["meeting"])
    assert safe.exists() and b"/JavaScript" not in expanded(packs["public"])


# -- files built to overload readers -----------------------------------------------------


def flate_bomb(gigabytes: int = 2) -> bytes:
    """A page whose content is a Flate stream of a few megabytes that inflates to gigabytes
    of zeros. Each megabyte compresses to the same bytes after a full flush, so the stream
    is put together from copies; its checksum is worked out (Adler-32 of n zeros)."""
    chunk = b"\0" * (1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()[:-4]
    n = gigabytes * 1024
    data = first + again * (n - 1) + end + struct.pack(">I", (((n << 20) % 65521) << 16) | 1)
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].obj.Contents = pdf.make_indirect(stream)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def xobject_bomb(depth: int = 40) -> bytes:
    """A few kilobytes: each form draws the next one twice, so reading the page means 2**40
    drawings."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    inner = None
    for _ in range(depth):
        form = pdf.make_stream(b"q 0.5 0 0 0.5 0 0 cm /X Do Q /X Do" if inner else b"BT ET")
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox = [0, 0, 595, 842]
        form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X=inner)) if inner else {}
        inner = form
    page = pdf.pages[0].obj
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X=inner))
    page.Contents = pdf.make_stream(b"/X Do /X Do")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def low_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_CHECK_CPU_SECONDS", 1)
    monkeypatch.setitem(app.config, "PDF_CHECK_MEMORY_MB", 768)
    monkeypatch.setitem(app.config, "PDF_CHECK_SECONDS", 8)


@pytest.mark.parametrize("bomb", [flate_bomb, xobject_bomb])
def test_pdf_bombs_are_refused_within_limits_and_leave_nothing(
    app, db, client, board, low_limits, bomb
):
    data = bomb()
    assert len(data) < 3_000_000
    root = Path(app.config["STORAGE_DIR"])
    before, rows = files_under(root), documents(db)
    started = time.monotonic()
    r = post(client, board["public"], data, "Bomb")
    # Bounded by the wall-clock limit (8 s) whatever the machine's load; unlimited, these
    # took minutes.
    assert time.monotonic() - started < 20
    assert r.status_code == 400
    assert "This PDF takes too long to read" in r.get_data(as_text=True)
    api = client.post(
        f"/api/v1/agenda-items/{board['public'].id}/documents",
        data={"title": "Bomb", "file": (io.BytesIO(data), "bomb.pdf")},
        headers={"Authorization": f"Bearer {issue_token(board['clerk'])}"},
        content_type="multipart/form-data",
    )
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    assert "This PDF takes too long to read" in api.get_json()["detail"]
    assert documents(db) == rows and files_under(root) == before
    others_still_work(db, client, board["meeting"])


# -- a full disk -------------------------------------------------------------------------


@pytest.fixture
def tiny_storage(app, storage, tmp_path):
    """STORAGE_DIR on a 64 KB tmpfs, so writes really fail with ENOSPC."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr.decode()}")
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    app.config["STORAGE_DIR"] = str(mount)
    try:
        yield mount
    finally:
        app.config["STORAGE_DIR"] = str(storage)
        subprocess.run(["umount", "-l", str(mount)], check=False)


def incompressible_pdf(size: int) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    side = int(size**0.5)
    image = pdf.make_stream(
        os.urandom(side * side),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=side,
        Height=side,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
    )
    page = pdf.pages[0].obj
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im=image))
    page.Contents = pdf.make_stream(b"q 200 0 0 200 72 500 cm /Im Do Q")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


@pytest.mark.parametrize("size", [100_000, 24_000], ids=["upload-too-big", "store-too-big"])
def test_a_full_disk_answers_507_and_leaves_nothing(db, client, f, sign_in, tiny_storage, size):
    c = f.committee("Full Board")
    clerk = f.user(Role.CLERK)
    m = f.meeting(c)
    item = agenda.add_item(m, title="Budget")
    db.session.commit()
    sign_in(clerk)
    assert post(client, item, make_pdf(2, "Good paper"), "Good paper").status_code == 302
    before, rows = files_under(tiny_storage), documents(db)
    r = post(client, item, incompressible_pdf(size), "Big paper")
    assert r.status_code == 507
    assert "no room left to store this file" in r.get_data(as_text=True)
    api = client.post(
        f"/api/v1/agenda-items/{item.id}/documents",
        data={"title": "Big paper", "file": (io.BytesIO(incompressible_pdf(size)), "big.pdf")},
        headers={"Authorization": f"Bearer {issue_token(clerk)}"},
        content_type="multipart/form-data",
    )
    assert api.status_code == 507 and api.mimetype == "application/problem+json"
    assert "no room left to store this file" in api.get_json()["detail"]
    # No row, no partial or temporary file.
    assert documents(db) == rows
    assert files_under(tiny_storage) == before
    r = download(client, paper(db, "Good paper"))
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert client.get(f"/meetings/{m.id}/").status_code == 200
