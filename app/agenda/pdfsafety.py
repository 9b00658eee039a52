"""Papers as readers get them. The original upload is kept as it came; packs and downloads use
a copy made from it once, by its hash: checked, with odd page values normalised and active
content (scripts, launch actions, attached files) taken out. The work is done by pdfclean in a
child process with CPU, memory and time limits, so a file built to overload readers costs one
bounded child, never a worker."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pikepdf
from flask import current_app

from app.agenda import pdfclean
from app.core import storage
from app.core.errors import ServiceError, ValidationError

log = logging.getLogger(__name__)

TOO_HEAVY = pdfclean.TOO_HEAVY
PLACEHOLDER = "This paper could not be included; please ask the clerk for a copy."
# (config key, default): generous for real papers, which take well under a second.
LIMITS = {
    "cpu": ("PDF_CHECK_CPU_SECONDS", 30),
    "memory": ("PDF_CHECK_MEMORY_MB", 2048),
    "wall": ("PDF_CHECK_SECONDS", 90),
}


class Unusable(Exception):
    """A stored paper that cannot be served or joined to a pack; the reason is for staff."""


class PaperUnavailable(ServiceError):
    status = 503
    title = "Paper unavailable"


@dataclass
class Checked:
    pages: int
    text: str | None
    safe: Path


def _limit(name: str) -> int:
    key, default = LIMITS[name]
    return int(current_app.config.get(key) or default)


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, {"file": [message]})


@contextmanager
def checked(source: Path, with_text: bool = True) -> Iterator[Checked]:
    """Check source and make its safe copy in the child; yields what it found and removes the
    temporary files afterwards. Refusals are ValidationErrors a clerk can act on."""
    work = Path(tempfile.mkdtemp(dir=source.parent, prefix=".check-"))
    safe, text_file = work / "safe.pdf", work / "text.txt"
    try:
        answer = _run(source, safe, text_file if with_text else None)
        if "refused" in answer:
            raise _refuse(answer["refused"])
        if "pages" not in answer:
            log.warning("a PDF exceeded the limits of its check (%s)", answer)
            raise _refuse(TOO_HEAVY)
        text = text_file.read_text() if with_text and text_file.exists() else None
        yield Checked(answer["pages"], text or None, safe)
    finally:
        for path in work.iterdir():
            path.unlink(missing_ok=True)
        work.rmdir()


def _run(source: Path, safe: Path, text_file: Path | None) -> dict:
    wall = _limit("wall")
    # -I: the child imports only pdfclean and the libraries, not this app or its settings.
    command = [sys.executable, "-I", pdfclean.__file__, str(_limit("cpu")), str(_limit("memory"))]
    command += [str(wall), str(source), str(safe), str(text_file or "-")]
    # A session of its own, so a child past its time is killed with poppler under it.
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = child.communicate(timeout=wall)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"limit": "time"}
    if stderr.strip():
        log.info("PDF check: %s", stderr.strip()[-500:])
    try:
        answer = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"limit": f"exit status {child.returncode}"}  # killed: CPU or memory
    if "os_error" in answer:
        # The child could not write the copy; the same error here gets the same answer.
        raise OSError(answer["os_error"], "while writing the checked copy")
    return answer


def safe_copy_path(sha256: str) -> Path:
    return storage.blob_path(sha256, kind="safe")


def safe_path(sha256: str, pages: int) -> Path:
    """The safe copy of a stored paper (`pages`: its page count recorded on upload), made now
    (atomically) if it was uploaded before safe copies were made. Raises Unusable when there
    is no usable copy to be had, and notes why for staff (paper_problems)."""
    try:
        return _safe_path(sha256, pages)
    except Unusable as exc:
        _note(_problem_path(sha256), str(exc))
        raise


def _safe_path(sha256: str, pages: int) -> Path:
    target = safe_copy_path(sha256)
    if target.exists():
        return target
    original = storage.blob_path(sha256)
    if not original.exists():
        raise Unusable("its stored file is missing; upload it again")
    if storage.file_sha256(original) != sha256:
        raise Unusable("its stored file has changed since it was uploaded; upload it again")
    try:
        with storage.disk_space(), checked(original, with_text=False) as found:
            if found.pages != pages:
                raise Unusable("its stored file has a different number of pages; upload it again")
            storage.place(found.safe, target)
        forget_problem(sha256)  # put right since (uploaded again)
    except ValidationError as exc:
        raise Unusable(f"it can no longer be read safely ({exc.detail})") from None
    except storage.StorageFull:
        raise Unusable("there is no room in the file store to prepare it") from None
    return target


def _problem_path(sha256: str) -> Path:
    return storage.blob_path(sha256, ".problem.txt", kind="safe")


def forget_problem(sha256: str) -> None:
    _problem_path(sha256).unlink(missing_ok=True)


def open_for_pack(
    sha256: str, pages: int, document_id: int, title: str, restricted: bool
) -> pikepdf.Pdf:
    """A stored paper's pages for a pack: its safe copy, or as many placeholder pages when it
    has none, so one bad paper never stops a pack (its page numbers are those already printed
    on the agenda). Staff learn of it from paper_problems."""
    try:
        src = pikepdf.open(safe_path(sha256, pages))
    except Unusable as exc:
        reason = str(exc)
    except (pikepdf.PdfError, OSError):
        reason = "its checked copy cannot be read; upload it again"
        _note(_problem_path(sha256), reason)
    else:
        if len(src.pages) == pages:
            return src
        src.close()
        reason = "its checked copy has a different number of pages; upload it again"
        _note(_problem_path(sha256), reason)
    # The log names the paper by number only: its title may be exempt.
    log.warning("paper %s replaced by a placeholder in a pack: %s", document_id, reason)
    return placeholder(pages, None if restricted else title)


def _note(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(name, path)
    except OSError:  # the note is a courtesy; the placeholder is what matters
        log.warning("could not note a paper's problem", exc_info=True)


def paper_problems(meeting) -> list[dict]:
    """For staff: the meeting's papers that packs show as placeholders, and why."""
    problems = []
    for item in meeting.items:
        for document in item.documents:
            try:
                reason = _problem_path(document.sha256).read_text()
            except OSError:
                continue
            problems.append({"document": document, "reason": reason})
    return problems


def placeholder(pages: int, title: str | None = None) -> pikepdf.Pdf:
    """`pages` pages saying the paper could not be included; its title only when given (never
    for a restricted paper in a public pack)."""
    import weasyprint

    named = f"<p>{escape(title)}</p>" if title else ""
    page = f"<section><h1>{PLACEHOLDER}</h1>{named}</section>"
    html = (
        "<html lang='en-GB'><head><title>Paper not included</title><style>"
        "@page { size: A4; margin: 30mm 25mm } section { break-after: page }"
        "h1 { font-size: 16pt } p { font-size: 12pt }</style></head>"
        f"<body>{page * max(1, pages)}</body></html>"
    )
    data = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
    return pikepdf.open(io.BytesIO(data))
