"""Papers attached to agenda items: checked before they are kept, then stored by sha256."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from flask import current_app

from app.agenda import pdfsafety, signals
from app.agenda.exemption import exemption_grounds
from app.agenda.models import AgendaItem, Document, Visibility
from app.audit.services import record
from app.core import storage
from app.core.errors import Conflict, ValidationError
from app.core.text import clean_filename, strip_controls
from app.extensions import db


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, {"file": [message]})


def _keep_safe_copy(safe: Path, sha256: str) -> None:
    target = pdfsafety.safe_copy_path(sha256)
    if target.exists():
        return
    storage.place(safe, target)
    pdfsafety.forget_problem(sha256)  # a paper noted as unusable, now uploaded again
    storage.remove_on_rollback(db.session, target)


def _clean_filename(filename: str | None) -> str:
    name = clean_filename(filename, "paper.pdf")
    if not name.lower().endswith(".pdf"):
        name = f"{name}.pdf"
    return name[-255:]


def add_document(
    item: AgendaItem,
    stream: BinaryIO,
    filename: str | None,
    title: str | None,
    visibility: Visibility | str = Visibility.PUBLIC,
    exempt_paragraphs=(),
    public_interest_reason: str | None = None,
    user=None,
) -> Document:
    """Check an uploaded PDF and attach it; nothing is kept unless every check passes."""
    from app.agenda.services import check_agenda_open

    check_agenda_open(item.meeting)
    errors: dict[str, list[str]] = {}
    title = " ".join(strip_controls(title or "").split())
    if not title:
        errors["title"] = ["Enter a title for the paper."]
    elif len(title) > 500:
        errors["title"] = ["At most 500 characters."]
    try:
        visibility = Visibility(visibility)
    except ValueError:
        errors["visibility"] = ["Choose public, exempt or confidential."]
        visibility = Visibility.PUBLIC
    paragraphs, reason, grounds_errors = exemption_grounds(
        visibility, exempt_paragraphs, public_interest_reason
    )
    errors.update(grounds_errors)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)

    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    # Checked, normalised and made inert in a child with limits (pdfsafety); the original is
    # kept as uploaded, the safe copy beside it is what packs and downloads serve.
    try:
        with (
            storage.disk_space(),
            storage.spooled_upload(stream, limit_mb * 1024 * 1024) as (tmp, sha256, size),
        ):
            if size == 0:
                raise _refuse("The file is empty.")
            with pdfsafety.checked(tmp) as found:
                pages, text = found.pages, found.text
                storage.keep(db.session, tmp, sha256)
                _keep_safe_copy(found.safe, sha256)
            signals.paper_stored.send(item, path=tmp, pages=pages, sha256=sha256)
    except storage.TooLarge:
        raise _refuse(
            f"The file is larger than {limit_mb} MB. Reduce its size and upload it again."
        ) from None
    document = Document(
        item=item,
        title=title,
        filename=_clean_filename(filename),
        sha256=sha256,
        size_bytes=size,
        text_content=text,
        page_count=pages,
        visibility=visibility,
        public_interest_reason=reason,
        position=max((d.position for d in item.documents), default=-1) + 1,
        uploaded_by_id=getattr(user, "id", None),
    )
    document.exempt_paragraphs = paragraphs
    db.session.add(document)
    db.session.flush()
    record(
        "document_added",
        document,
        summary=f"{title} (item: {item.title})",
        user=user,
        sha256=sha256,
        pages=pages,
    )
    return document


def removal_refusal(document: Document) -> str | None:
    from app.agenda.services import locked_reason

    return locked_reason(document.item.meeting, "its papers cannot be removed")


def remove_document(document: Document, user=None) -> None:
    """Take a paper off the agenda (a wrong upload, say). The stored file is left alone: it is
    kept by its sha256 and other papers or built packs may share it."""
    item = document.item
    refusal = removal_refusal(document)
    if refusal:
        raise Conflict(refusal)
    record(
        "document_removed",
        document,
        summary=f"{document.title} (item: {item.title})",
        user=user,
        item=item.id,
        title=document.title,
        # Whether the public could see it, so a supplement may name it.
        public=not document.restricted,
    )
    item.documents.remove(document)
    db.session.flush()


def document_path(document: Document) -> Path:
    return storage.blob_path(document.sha256)
