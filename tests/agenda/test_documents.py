import functools
import io
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from app.agenda.documents import add_document, document_path
from app.core.errors import ValidationError
from app.models import Document
from tests.pdfs import make_pdf, resaved, weasyprint_pdf, with_incremental_update


@pytest.fixture
def item(db, f):
    return f.item(f.meeting(f.committee()), "Action plan")


def stored_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(item, data: bytes, **kw):
    kw.setdefault("title", "Report")
    return add_document(item, io.BytesIO(data), kw.pop("filename", "report.pdf"), **kw)


def test_good_pdf_is_kept_by_hash_with_its_page_count(app, db, item):
    doc = upload(item, make_pdf(3, "Action plan"))
    db.session.commit()
    assert doc.page_count == 3 and len(doc.sha256) == 64
    path = document_path(doc)
    assert path.exists() and path.name == f"{doc.sha256}.pdf"
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 3
    # The same file again is stored once.
    again = upload(item, path.read_bytes(), title="Appendix")
    db.session.commit()
    assert again.sha256 == doc.sha256 and again.position == 1
    assert sum(1 for p in stored_files(app) if p.suffix == ".pdf") >= 1


def test_a_stored_copy_damaged_since_is_replaced_by_the_next_upload_of_those_bytes(app, db, item):
    data = make_pdf(2, "Budget")
    doc = upload(item, data)
    db.session.commit()
    path = document_path(doc)
    path.write_bytes(b"%PDF-1.7 damaged on disk")
    again = upload(item, data, title="Budget again")
    db.session.rollback()  # even an upload that is then rolled back leaves the repair in place
    assert again.sha256 == doc.sha256
    assert path.read_bytes() == data
    assert not [p for p in stored_files(app) if p.name.endswith(".part")]


def test_each_test_has_storage_of_its_own(app, storage):
    # Stored files and built packs are kept by hash: shared storage let one test's damaged
    # file or failed build reach a later test that made the same data.
    assert Path(app.config["STORAGE_DIR"]) == storage
    assert not storage.exists() or not any(storage.rglob("*.pdf"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a PDF"),
        (b"%PDF-1.7\n garbage that is not a PDF at all", "damaged"),
        (
            make_pdf(1, encryption=pikepdf.Encryption(user="secret", owner="owner")),
            "password-protected; remove the password",
        ),
        (make_pdf(1, encryption=pikepdf.Encryption(user="", owner="owner")), "encrypted"),
    ],
)
def test_refused_files_leave_nothing_behind(app, db, item, data, message):
    before = stored_files(app)
    with pytest.raises(ValidationError) as info:
        upload(item, data)
    assert message in info.value.detail and "file" in info.value.errors
    db.session.rollback()
    assert stored_files(app) == before
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_too_large_is_refused_before_reading_it_all(app, db, item):
    app.config["MAX_UPLOAD_MB"] = 1
    try:
        with pytest.raises(ValidationError) as info:
            upload(item, make_pdf(1) + b"%" + b"x" * (2 * 1024 * 1024))
    finally:
        app.config["MAX_UPLOAD_MB"] = 50
    assert "larger than 1 MB" in info.value.detail


def test_exempt_paper_needs_paragraphs_and_reason(app, db, item):
    with pytest.raises(ValidationError) as info:
        upload(item, make_pdf(1), visibility="exempt")
    assert {"exempt_paragraphs", "public_interest_reason"} <= set(info.value.errors)
    doc = upload(
        item,
        make_pdf(1),
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Commercially sensitive tender prices.",
    )
    assert doc.exempt_paragraphs == [3] and doc.restricted


def test_rollback_after_storing_removes_the_new_file(app, db, item):
    before = stored_files(app)
    upload(item, make_pdf(2, "rolled back"))
    assert stored_files(app) != before
    db.session.rollback()
    assert stored_files(app) == before


PRODUCERS = ["weasyprint", "pikepdf", "linearised", "object streams"]


@functools.cache
def produced(producer: str) -> bytes:
    """A good five-page paper as each kind of producer writes it (made once per run)."""
    plain = make_pdf(5, "Action plan")
    return {
        "weasyprint": lambda: weasyprint_pdf(5),
        "pikepdf": lambda: plain,
        "linearised": lambda: resaved(plain, linearize=True),
        "object streams": lambda: resaved(
            plain, object_stream_mode=pikepdf.ObjectStreamMode.generate
        ),
    }[producer]()


@pytest.mark.parametrize("producer", PRODUCERS)
def test_good_pdfs_from_several_producers_are_accepted(app, db, item, producer):
    data = produced(producer)
    doc = upload(item, data)
    assert doc.page_count == 5
    # A later edit saved as an incremental update, and a little padding after the end marker
    # (as some mail systems add), are still good files.
    assert upload(item, with_incremental_update(data)).page_count == 5
    assert upload(item, data + b"\r\n\x00\x00").page_count == 5


@pytest.mark.parametrize("producer", PRODUCERS)
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9, 0.99])
def test_truncated_pdf_is_refused_and_nothing_kept(app, db, item, producer, fraction):
    data = produced(producer)
    assert upload(item, data).page_count == 5  # the whole file is good
    db.session.rollback()
    before = stored_files(app)
    with pytest.raises(ValidationError) as info:
        upload(item, data[: int(len(data) * fraction)])
    assert "damaged or incomplete" in info.value.detail and "file" in info.value.errors
    db.session.rollback()
    assert stored_files(app) == before
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_pdf_damaged_in_the_middle_is_refused(app, db, item):
    data = bytearray(weasyprint_pdf(5))
    middle = len(data) // 2
    data[middle : middle + 400] = b" " * 400
    with pytest.raises(ValidationError) as info:
        upload(item, bytes(data))
    assert "damaged or incomplete" in info.value.detail


def test_pdf_with_a_wrong_object_count_is_still_accepted(app, db, item):
    # A common producer slip: /Size in the trailer does not match the objects. Nothing is
    # lost, so the paper is kept.
    data = make_pdf(3, "Action plan")
    size = data[data.rindex(b"/Size ") :].split(b"/Size ")[1].split()[0]
    wrong = data.replace(b"/Size " + size, b"/Size " + str(int(size) + 5).encode())
    with pikepdf.open(io.BytesIO(wrong)) as pdf:
        assert any("reported number of objects" in w for w in pdf.check_pdf_syntax())
    assert upload(item, wrong).page_count == 3
