"""What is done to an uploaded PDF before anyone reads it: checked, normalised and stripped of
active content. Run by pdfsafety in a child process with CPU, memory and time limits, so this
module imports nothing from the app (the child starts with just this file and the libraries).

Run as `python pdfclean.py CPU_SECONDS MEMORY_MB WALL_SECONDS SOURCE SAFE_COPY TEXT_FILE`:
prints one line of JSON, {"pages": n} or {"refused": message}; a child that is killed prints
nothing.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from pathlib import Path

PDF_MAGIC = b"%PDF-"
# Readers look for the end-of-file marker in the last kilobyte; a file cut short has lost it.
TAIL_BYTES = 1024
# qpdf warnings about bookkeeping that many producers get wrong without losing any content.
HARMLESS = ("reported number of objects",)
MAX_TEXT = 2_000_000

NOT_PDF = "This file is not a PDF. Save or export it as PDF and upload it again."
DAMAGED = (
    "This file is damaged or incomplete (perhaps it was cut short while being saved or "
    "downloaded). Open it, save it again as PDF and upload it again."
)
ENCRYPTED = (
    "This PDF is encrypted (it has restrictions on printing or copying). "
    "Save an unrestricted copy and upload that instead."
)
PASSWORD = "This file is password-protected; remove the password and upload it again."
NO_PAGES = "This PDF has no pages."
TOO_HEAVY = (
    "This PDF takes too long to read or needs too much memory to be checked safely (it may be "
    "built to overload PDF readers), so it was not kept. Open it, save or print it again as "
    "PDF, and upload that copy."
)

# Actions that run code, open other files or programs, or send data somewhere. A reader of a
# council's papers needs none of them; links within the paper and to web pages stay.
ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/ResetForm",
    "/GoToR",
    "/GoToE",
    "/Rendition",
    "/RichMediaExecute",
    "/Sound",
    "/Movie",
    "/GoTo3DView",
}
# Keys an action may sit under: a link's or outline's /A, the document's /OpenAction, the
# next action of a chain.
ACTION_KEYS = ("/A", "/OpenAction", "/PA")
# Annotations that carry files, media or scripts rather than marks on the page.
ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
SAFE_SCHEMES = ("http://", "https://", "mailto:")
# Payload of an active action, removed even where the action itself is reached some other way.
ACTION_PAYLOAD = ("/JS", "/F", "/Win", "/Mac", "/Unix", "/Fields", "/URI")
A4 = (0, 0, 595, 842)
BOXES = ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")


class Refused(Exception):
    pass


def check(path: Path):
    """The opened PDF if it is one a clerk may upload, else Refused with what to do."""
    import pikepdf

    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, path.stat().st_size - TAIL_BYTES))
        tail = fh.read()
    # The PDF header may follow a little junk, but must appear in the first kilobyte.
    if PDF_MAGIC not in head:
        raise Refused(NOT_PDF)
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise Refused(DAMAGED)
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise Refused(PASSWORD) from None
    except pikepdf.PdfError:
        raise Refused(DAMAGED) from None
    try:
        if pdf.is_encrypted:
            raise Refused(ENCRYPTED)
        # qpdf quietly rebuilds a broken file and fills in what is missing, so a damaged
        # paper would open here and then print with blank or missing pages in the pack.
        # Reading every stream and page brings its repairs out as warnings.
        problems = [p for p in pdf.check_pdf_syntax() if not any(h in p for h in HARMLESS)]
        if problems:
            print("; ".join(problems[:5]), file=sys.stderr)
            raise Refused(DAMAGED)
        if len(pdf.pages) < 1:
            raise Refused(NO_PAGES)
    except pikepdf.PdfError:
        pdf.close()
        raise Refused(DAMAGED) from None
    except BaseException:
        pdf.close()
        raise
    return pdf


def _number(value) -> float | None:
    """A PDF number as a float; anything else (a string that looks like one included) is
    not a number, as readers treat it."""
    import pikepdf

    if isinstance(value, (bool, str, bytes, pikepdf.String)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rotation(value) -> int:
    """What readers make of /Rotate: a multiple of 90 taken modulo 360; anything else (a
    string, 45, a name) is read as no rotation."""
    number = _number(value)
    if number is None or number != int(number) or int(number) % 90:
        return 0
    return int(number) % 360


def _box(value) -> tuple[float, float, float, float] | None:
    try:
        numbers = [_number(v) for v in value]
    except TypeError:
        return None
    if len(numbers) != 4 or None in numbers:
        return None
    x0, y0, x1, y1 = numbers
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        return None
    return box


def _inherited(page, key: str):
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        node, depth = node.get("/Parent"), depth + 1
    return None


def normalise(pdf) -> None:
    """Give every page its own well-formed /Rotate, /MediaBox and other boxes, as readers would
    have read the odd values, so what joins a pack needs no reader's leniency."""
    import pikepdf

    for page in pdf.pages:
        obj = page.obj
        obj.Rotate = _rotation(_inherited(obj, "/Rotate"))
        media = _box(_inherited(obj, "/MediaBox")) or A4
        obj.MediaBox = pikepdf.Array(media)
        crop = _inherited(obj, "/CropBox")
        if crop is not None:
            obj.CropBox = pikepdf.Array(_box(crop) or media)
        for key in BOXES[1:]:
            if key in obj and _box(obj[key]) is None:
                del obj[key]
    for node in _page_tree_nodes(pdf):
        for key in ("/Rotate", "/MediaBox", "/CropBox"):
            if key in node:
                del node[key]


def _page_tree_nodes(pdf):
    seen, todo = set(), [pdf.Root.get("/Pages")]
    while todo:
        node = todo.pop()
        if node is None or not hasattr(node, "keys") or node.get("/Type") != "/Pages":
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        yield node
        todo.extend(node.get("/Kids", []))


def _active(action) -> bool:
    if not hasattr(action, "keys"):
        return False
    kind = action.get("/S")
    if kind in ACTIVE_ACTIONS:
        return True
    if kind == "/URI":
        uri = "".join(c for c in str(action.get("/URI", "")) if c > " ").lower()
        return not uri.startswith(SAFE_SCHEMES)
    return False


def _clean(obj, depth: int = 0) -> None:
    """Strip active content from one dictionary and the direct objects inside it (indirect
    ones are reached by the walk over every object)."""
    import pikepdf

    if depth > 32:
        return
    if isinstance(obj, pikepdf.Array):
        for value in obj:
            if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect:
                _clean(value, depth + 1)
        return
    if "/AA" in obj:  # additional actions: on open, close, page view, key press...
        del obj["/AA"]
    for key in ACTION_KEYS:
        if key in obj and _active(obj[key]):
            del obj[key]
    if "/Next" in obj:
        chain = obj["/Next"]
        if _active(chain) or (isinstance(chain, pikepdf.Array) and any(map(_active, chain))):
            del obj["/Next"]
    if _active(obj):  # reached some other way (a name tree): leave nothing to run
        for key in ACTION_PAYLOAD:
            if key in obj:
                del obj[key]
    if "/EF" in obj:  # a file specification with the file itself embedded
        del obj["/EF"]
    if "/RF" in obj:
        del obj["/RF"]
    if "/Annots" in obj and isinstance(obj["/Annots"], pikepdf.Array):
        kept = [a for a in obj["/Annots"] if _annotation_kept(a)]
        if len(kept) != len(obj["/Annots"]):
            obj.Annots = pikepdf.Array(kept)
    for key in list(obj.keys()):
        value = obj.get(key)
        if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect:
            _clean(value, depth + 1)


def _annotation_kept(annotation) -> bool:
    return not hasattr(annotation, "keys") or annotation.get("/Subtype") not in ACTIVE_ANNOTATIONS


def strip_active_content(pdf) -> None:
    import pikepdf

    root = pdf.Root
    names = root.get("/Names")
    if names is not None:
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    form = root.get("/AcroForm")
    if form is not None and "/XFA" in form:  # XFA forms carry their own scripts
        del form["/XFA"]
    if "/Collection" in root:  # a portfolio: a wrapper around attachments
        del root["/Collection"]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            _clean(obj)
    _clean(root)


def extract_text(path: Path) -> str | None:
    """The paper's text for search; a paper whose text cannot be read is still accepted."""
    import pypdf

    try:
        reader = pypdf.PdfReader(path)
        parts, size = [], 0
        for page in reader.pages:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_TEXT:
                break
        return "\n".join(parts)[:MAX_TEXT] or None
    except MemoryError:
        raise
    except Exception:
        return None


def make_safe(source: Path, target: Path) -> int:
    """Check the upload and write its normalised, inert copy; returns the page count."""
    with check(source) as pdf:
        pages = len(pdf.pages)
        normalise(pdf)
        strip_active_content(pdf)
        pdf.save(target)
    import pikepdf

    with pikepdf.open(target) as again:
        if len(again.pages) != pages:
            raise Refused(DAMAGED)
    return pages


def render(path: Path, seconds: int) -> None:
    """Draw every page once, tiny, as poppler will for the pack's stamp check: a file whose
    drawing never ends (forms that draw each other many times over) is refused here, within
    limits, rather than found out by a pack build."""
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        return
    out = path.parent / "render"
    try:
        done = subprocess.run(
            ["pdftoppm", "-r", "2", "-gray", str(path), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=seconds,
        )
    except subprocess.TimeoutExpired:
        raise Refused(TOO_HEAVY) from None
    finally:
        for page in path.parent.glob("render*"):
            page.unlink(missing_ok=True)
    if done.returncode < 0:  # killed by its CPU or memory limit
        raise Refused(TOO_HEAVY)


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def main(argv: list[str]) -> int:
    cpu, memory_mb, wall, source, target, text_file = argv
    # Inherited by poppler too, which gets a CPU budget of its own.
    _limit(resource.RLIMIT_CPU, int(cpu))
    _limit(resource.RLIMIT_AS, int(memory_mb) * 1024 * 1024)
    try:
        pages = make_safe(Path(source), Path(target))
        render(Path(target), int(wall))
        if text_file != "-":
            Path(text_file).write_text(extract_text(Path(target)) or "")
    except Refused as exc:
        print(json.dumps({"refused": str(exc)}))
        return 0
    except MemoryError:
        print(json.dumps({"limit": "memory"}))
        return 3
    except OSError as exc:
        print(json.dumps({"os_error": exc.errno}))
        return 4
    print(json.dumps({"pages": pages}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
