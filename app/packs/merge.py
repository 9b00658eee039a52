"""The low-level parts of putting a pack together with pikepdf: one structure tree for the
whole pack, page stamps marked as artifacts and placed at the visual bottom of each page, and
extra margin only where an uploaded page has something in the way of the stamp.

Kept apart from builder.py, which decides what goes into a pack; this decides how pages are
joined without losing their tags."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import pikepdf
from PIL import Image

Name = pikepdf.Name

STAMP_PAD = 28  # points: the height of the strip the stamp is drawn in
STRIP_DPI = 36  # enough to see 6 pt text as grey pixels; cheap to render
INK = 250  # a grey level below this (0 black, 255 white) counts as something on the page
STRIP_VERSION = 1  # bump when the check changes, so saved results are not reused


# -- structure tree ------------------------------------------------------------------------


def _number_tree(node, out: dict[int, pikepdf.Object], depth: int = 0) -> None:
    """Flatten a number tree (a ParentTree may be split into /Kids)."""
    if depth > 32:
        raise ValueError("number tree too deep")
    nums = node.get("/Nums")
    if nums is not None:
        for i in range(0, len(nums) - 1, 2):
            out[int(nums[i])] = nums[i + 1]
    for kid in node.get("/Kids", []):
        _number_tree(kid, out, depth + 1)


def _name_tree(node, out: dict[bytes, pikepdf.Object], depth: int = 0) -> None:
    if depth > 32:
        raise ValueError("name tree too deep")
    names = node.get("/Names")
    if names is not None:
        for i in range(0, len(names) - 1, 2):
            out.setdefault(bytes(names[i]), names[i + 1])
    for kid in node.get("/Kids", []):
        _name_tree(kid, out, depth + 1)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return list(value)
    return [value]


class StructureTree:
    """The pack's structure tree: the front sheet's, with every merged part's tree added as a
    /Part under its Document element, and their StructParents keys renumbered so that every
    page, annotation and form XObject points at its own entries in one ParentTree."""

    def __init__(self, out: pikepdf.Pdf):
        self.out = out
        root = out.Root.get("/StructTreeRoot")
        if root is None:
            root = out.make_indirect(
                pikepdf.Dictionary(Type=Name.StructTreeRoot, K=pikepdf.Array())
            )
            out.Root.StructTreeRoot = root
        self.root = root
        self.nums: dict[int, pikepdf.Object] = {}
        if "/ParentTree" in root:
            _number_tree(root.ParentTree, self.nums)
        self.next_key = max([int(root.get("/ParentTreeNextKey", 0))] + [k + 1 for k in self.nums])
        kids = _as_list(root.get("/K"))
        if len(kids) == 1 and kids[0].get("/S") == Name.Document:
            self.document = kids[0]
        else:
            self.document = out.make_indirect(
                pikepdf.Dictionary(Type=Name.StructElem, S=Name.Document, P=root)
            )
            for kid in kids:
                if isinstance(kid, pikepdf.Dictionary):
                    kid.P = self.document
            self.document.K = pikepdf.Array(kids)
            root.K = pikepdf.Array([self.document])
        if not isinstance(self.document.get("/K"), pikepdf.Array):
            self.document.K = pikepdf.Array(_as_list(self.document.get("/K")))
        self.ids: dict[bytes, pikepdf.Object] = {}
        if "/IDTree" in root:
            _name_tree(root.IDTree, self.ids)

    def _copy(self, obj):
        """Copy an object from another file; direct containers are copied member by member."""
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            return self.out.copy_foreign(obj)
        if isinstance(obj, pikepdf.Array):
            return pikepdf.Array([self._copy(x) for x in obj])
        if isinstance(obj, pikepdf.Dictionary):
            return pikepdf.Dictionary({k: self._copy(v) for k, v in obj.items()})
        return obj

    def add(self, src: pikepdf.Pdf, pages: list[pikepdf.Page], title: str) -> bool:
        """Add src's tree for its pages, already appended to the pack as `pages`. Returns
        False (and leaves those pages with no structure references) when src is untagged or
        its tree cannot be merged; the pack is then tagged except for those pages."""
        try:
            merged = self._add(src, pages, title)
        except (pikepdf.PdfError, KeyError, TypeError, ValueError, AttributeError):
            merged = False
        if not merged:
            _unlink_structure(pages)
        return merged

    def _add(self, src: pikepdf.Pdf, pages: list[pikepdf.Page], title: str) -> bool:
        src_root = src.Root.get("/StructTreeRoot")
        if src_root is None or "/ParentTree" not in src_root or "/K" not in src_root:
            return False
        src_nums: dict[int, pikepdf.Object] = {}
        _number_tree(src_root.ParentTree, src_nums)
        # Custom structure types and attribute classes must mean the same in both files.
        maps = {}
        for key in ("/RoleMap", "/ClassMap"):
            ours = self.root.get(key, pikepdf.Dictionary())
            theirs = src_root.get(key, pikepdf.Dictionary())
            for name, value in theirs.items():
                if name in ours and repr(ours[name]) != repr(value):
                    return False
            maps[key] = theirs
        kids = _as_list(src_root.K)
        # A single Document element becomes this paper's /Part, keeping its /Lang etc.
        single = len(kids) == 1 and kids[0].get("/S") == Name.Document
        part_src = kids[0] if single else None
        # Cut the links up to src's root before copying, so copying does not drag the
        # whole of src's tree root (and its ParentTree) along.
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                del kid["/P"]
        if part_src is not None:
            if not part_src.is_indirect:
                part_src = src.make_indirect(part_src)
            part = self.out.copy_foreign(part_src)
            part.S = Name.Part
        else:
            copied = [
                self.out.copy_foreign(k if k.is_indirect else src.make_indirect(k))
                for k in kids
                if isinstance(k, pikepdf.Dictionary)
            ]
            part = self.out.make_indirect(
                pikepdf.Dictionary(Type=Name.StructElem, S=Name.Part, K=pikepdf.Array(copied))
            )
            for kid in copied:
                kid.P = part
        if "/T" not in part:
            part.T = pikepdf.String(title)
        # Keys held by pages, annotations and forms, even those src's ParentTree lacks: each
        # must land on a key no other part uses.
        holders = [
            (obj, key, int(obj[key])) for obj, key in _structure_holders(pages) if key in obj
        ]
        used = list(src_nums) + [k for _, _, k in holders]
        offset = self.next_key - min(used, default=0)
        new_nums = {key + offset: self._copy(value) for key, value in src_nums.items()}
        ids: dict[bytes, pikepdf.Object] = {}
        if "/IDTree" in src_root:
            _name_tree(src_root.IDTree, ids)
        # Nothing above changed the pack; from here on the part is joined in.
        part.P = self.document
        self.document.K.append(part)
        self.nums.update(new_nums)
        self.next_key = max([self.next_key] + [k + offset + 1 for k in used])
        for key, theirs in maps.items():
            if len(theirs):
                ours = self.root.get(key)
                if ours is None:
                    ours = self.root[key] = pikepdf.Dictionary()
                for name, value in theirs.items():
                    if name not in ours:
                        ours[name] = self._copy(value)
        for ident, elem in ids.items():
            if ident not in self.ids:  # a clash keeps the first; the element keeps its /ID
                self.ids[ident] = self._copy(elem)
        for obj, key, value in holders:
            obj[key] = value + offset
        for page in pages:
            if "/Annots" in page.obj:
                page.obj.Tabs = Name.S  # tab through links in structure order (PDF/UA)
        return True

    def finish(self) -> None:
        self.root.ParentTree = self.out.make_indirect(
            pikepdf.Dictionary(
                Nums=pikepdf.Array([x for key in sorted(self.nums) for x in (key, self.nums[key])])
            )
        )
        self.root.ParentTreeNextKey = self.next_key
        if self.ids:
            self.root.IDTree = pikepdf.Dictionary(
                Names=pikepdf.Array(
                    [x for key in sorted(self.ids) for x in (pikepdf.String(key), self.ids[key])]
                )
            )
        self.out.Root.MarkInfo = pikepdf.Dictionary(Marked=True)


def _forms(resources, seen: set):
    """Form XObjects reachable from a resource dictionary, each once."""
    if not isinstance(resources, pikepdf.Dictionary):
        return
    for xobj in resources.get("/XObject", pikepdf.Dictionary()).values():
        if not isinstance(xobj, pikepdf.Stream) or xobj.get("/Subtype") != Name.Form:
            continue
        if xobj.is_indirect:
            if xobj.objgen in seen:
                continue
            seen.add(xobj.objgen)
        yield xobj
        yield from _forms(xobj.get("/Resources"), seen)


def _structure_holders(pages: list[pikepdf.Page]):
    seen: set = set()
    for page in pages:
        yield page.obj, "/StructParents"
        for annot in page.obj.get("/Annots", []):
            yield annot, "/StructParent"
        yield from ((form, "/StructParents") for form in _forms(page.obj.get("/Resources"), seen))


def _unlink_structure(pages: list[pikepdf.Page]) -> None:
    # Their keys would otherwise point into the pack's ParentTree at someone else's entries.
    for obj, key in _structure_holders(pages):
        if key in obj:
            del obj[key]


# -- page geometry and stamps -------------------------------------------------------------


def _rotation(page: pikepdf.Page) -> int:
    return int(page.obj.get("/Rotate", 0)) % 360


def _normal(box) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def _visible_box(page: pikepdf.Page) -> list[float]:
    media = _normal(page.mediabox)
    if "/CropBox" not in page.obj:
        return media
    crop = _normal(page.obj.CropBox)
    box = [max(media[0], crop[0]), max(media[1], crop[1])]
    box += [min(media[2], crop[2]), min(media[3], crop[3])]
    return box if box[0] < box[2] and box[1] < box[3] else media


def pad_visual_bottom(page: pikepdf.Page, pad: float = STAMP_PAD) -> None:
    """Extend the page by `pad` at the edge the reader sees at the bottom (which /Rotate
    moves), so the stamp sits in new blank space below the content."""
    rotate = _rotation(page)
    # (index into [x0, y0, x1, y1], direction) of the visual bottom edge in user space
    index, sign = {0: (1, -1), 90: (2, 1), 180: (3, 1), 270: (0, -1)}.get(rotate, (1, -1))
    for key in ("/MediaBox", "/CropBox"):
        if key not in page.obj:
            continue
        box = [Decimal(str(v)) for v in page.obj[key]]
        box = [min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])]
        box[index] += sign * Decimal(str(pad))
        page.obj[key] = pikepdf.Array(box)


def stamp_matrix(page: pikepdf.Page, width: float, height: float) -> pikepdf.Matrix:
    """Where a width x height stamp goes: centred in the strip along the visual bottom of
    the visible page, upright as the page is displayed, shrunk only if the page is narrower."""
    x0, y0, x1, y1 = _visible_box(page)
    rotate = _rotation(page)
    visual_width = (x1 - x0) if rotate in (0, 180) else (y1 - y0)
    s = min(1.0, visual_width / width, STAMP_PAD / height)
    du = (visual_width - s * width) / 2
    dv = (STAMP_PAD - s * height) / 2
    # Stamp (a, b) -> visual (u, v) = (du + s a, dv + s b) -> user space for each rotation.
    if rotate == 90:
        return pikepdf.Matrix(0, s, -s, 0, x1 - dv, y0 + du)
    if rotate == 180:
        return pikepdf.Matrix(-s, 0, 0, -s, x1 - du, y1 - dv)
    if rotate == 270:
        return pikepdf.Matrix(0, -s, s, 0, x0 + dv, y1 - du)
    return pikepdf.Matrix(s, 0, 0, s, x0 + du, y0 + dv)


_TEXT_STATE = {"Tc", "Tw", "Tz", "TL", "Ts", "Tr", "Tf"}
_FILL = {"g", "rg", "k", "cs", "sc", "scn"}
_SHOW = {"Tj", "TJ", "'", '"'}


DIGITS = "0123456789"


def specimen_lines(count: int, exempt: bool) -> list[tuple[str, bool]]:
    """The lines WeasyPrint renders for the stamps: every digit once (to learn their glyphs),
    then one "Page 1", "Page 10", ... per number of digits, with the NOT FOR PUBLICATION mark
    too if some stamped pages are exempt. Every stamp is one of these with its digits
    swapped: the digits share one width, so the line stays centred."""
    lines = [(f"Page {DIGITS}", False)]
    for digits in range(1, len(str(max(count, 1))) + 1):
        lines.append((f"Page 1{'0' * (digits - 1)}", False))
        if exempt:
            lines.append((f"Page 1{'0' * (digits - 1)}", True))
    return lines


def _cut_lines(page: pikepdf.Page, count: int, height: float) -> list[list[tuple]]:
    """The text drawn in each `height` band of the page, from the top, as self-contained
    pieces: (graphics and text state to set, show operands, show operator)."""
    _, y0, _, y1 = _normal(page.mediabox)
    if abs((y1 - y0) - height * count) > 0.5:
        raise ValueError("stamp page has the wrong height")
    lines: list[list[tuple]] = [[] for _ in range(count)]
    ctm, stack = pikepdf.Matrix(), []
    state: dict[str, bytes] = {}  # last text-state, fill colour and ExtGState operators
    tm = tlm = pikepdf.Matrix()
    placed = False
    space = b""
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop()
        elif op == "cm":
            ctm = pikepdf.Matrix(*[float(v) for v in operands]) @ ctm
        elif op == "BT":
            tm = tlm = pikepdf.Matrix()
            placed = False
        elif op == "Tm":
            tm = tlm = pikepdf.Matrix(*[float(v) for v in operands])
            placed = True
        elif op in ("Td", "TD"):
            tm = tlm = pikepdf.Matrix(1, 0, 0, 1, float(operands[0]), float(operands[1])) @ tlm
            placed = True
        elif op in _TEXT_STATE or op == "gs":
            state[op] = _unparse(operands, op)
        elif op == "cs":
            space = _unparse(operands, op)
            state["fill"] = space
        elif op in _FILL:
            # A colour set by sc/scn is read in the last colour space set by cs.
            state["fill"] = (space if op in ("sc", "scn") else b"") + _unparse(operands, op)
        elif op in _SHOW:
            if op in ("'", '"') or not placed:
                # Where such text lands depends on the width of what came before it.
                raise ValueError("text not placed by Tm or Td")
            placed = False
            n = int((y1 - (tm @ ctm).f) // height)
            if not 0 <= n < count:
                raise ValueError("text outside the stamps")
            prefix = (
                b"q\n"
                + _unparse([ctm.a, ctm.b, ctm.c, ctm.d, ctm.e, ctm.f], "cm")
                + b"".join(state.values())
                + b"BT\n"
                + _unparse([tm.a, tm.b, tm.c, tm.d, tm.e, tm.f], "Tm")
            )
            lines[n].append((prefix, operands, op))
        elif op in ("Do", "sh", "BI", "re", "m"):
            raise ValueError(f"unexpected operator {op} on the stamp page")
    if any(not line for line in lines):
        raise ValueError("a stamp line has no text")
    return lines


def _unparse(operands, op) -> bytes:
    return pikepdf.unparse_content_stream([(operands, pikepdf.Operator(op))]) + b"\n"


def _codes(operands, op) -> list[bytes]:
    """The two-byte glyph codes a show operator draws (WeasyPrint's fonts are Identity-H)."""
    strings = [operands[0]] if op == "Tj" else [x for x in operands[0] if _is_string(x)]
    data = b"".join(bytes(x) for x in strings)
    return [data[i : i + 2] for i in range(0, len(data), 2)]


def _is_string(x) -> bool:
    return isinstance(x, (bytes, pikepdf.String))


def _swap_tail(operands, op, new: list[bytes]):
    """The show operands with their last len(new) glyph codes replaced by `new`."""
    items = [bytes(operands[0])] if op == "Tj" else list(operands[0])
    todo = list(new)
    for i in range(len(items) - 1, -1, -1):
        if not todo:
            break
        if _is_string(items[i]):
            data = bytes(items[i])
            take = min(len(todo), len(data) // 2)
            head = data[: len(data) - 2 * take]
            items[i] = pikepdf.String(head + b"".join(todo[len(todo) - take :]))
            todo = todo[: len(todo) - take]
    if todo:
        raise ValueError("too few glyphs to swap")
    return [items[0]] if op == "Tj" else [pikepdf.Array(items)]


def stamp_forms(
    stamps: pikepdf.Pdf,
    lines: list[tuple[str, bool]],
    count: int,
    exempt: set[int],
    height: float = STAMP_PAD,
) -> list:
    """A Form XObject per stamp, 1 to count, made from the specimen `lines` (one page, the
    lines stacked `height` apart from the top) by swapping in each page number's digit
    glyphs. Raises ValueError when the specimen is not as expected."""
    if len(stamps.pages) != 1:
        raise ValueError("stamps must be one page")
    page = stamps.pages[0]
    for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
        if font.get("/Encoding") != Name("/Identity-H"):
            raise ValueError("stamp font is not two-byte")
    cut = _cut_lines(page, len(lines), height)
    codes = [c for _, operands, op in cut[0] for c in _codes(operands, op)]
    digit_codes = dict(zip(DIGITS, codes[-10:], strict=True))
    if len(set(digit_codes.values())) != 10:
        raise ValueError("digit glyphs not found")
    _check_tabular(page, list(digit_codes.values()))
    x0, _, x1, y1 = _normal(page.mediabox)
    index = {line: n for n, line in enumerate(lines) if n}
    forms = []
    for number in range(1, count + 1):
        text = str(number)
        n = index[(f"Page 1{'0' * (len(text) - 1)}", number in exempt)]
        pieces = cut[n]
        prefix, operands, op = pieces[-1]
        model = [digit_codes[d] for d in "1" + "0" * (len(text) - 1)]
        if _codes(operands, op)[-len(text) :] != model:
            raise ValueError("the page number is not at the end of the stamp")
        swapped = _swap_tail(operands, op, [digit_codes[d] for d in text])
        body = [p + _unparse(o, s) + b"ET\nQ\n" for p, o, s in pieces[:-1]]
        body.append(prefix + _unparse(swapped, op) + b"ET\nQ\n")
        forms.append(
            stamps.make_stream(
                b"".join(body),
                Type=Name.XObject,
                Subtype=Name.Form,
                BBox=[x0, y1 - height * (n + 1), x1, y1 - height * n],
                Resources=page.obj.Resources,
            )
        )
    return forms


def _check_tabular(page: pikepdf.Page, codes: list[bytes]) -> None:
    """Swapping digits keeps a stamp centred only if every digit is equally wide."""
    for font in page.obj.Resources.Font.values():
        widths: dict[int, float] = {}
        w = list(font.DescendantFonts[0].get("/W", []))
        i = 0
        while i < len(w):
            if isinstance(w[i + 1], pikepdf.Array):
                for k, v in enumerate(w[i + 1]):
                    widths[int(w[i]) + k] = float(v)
                i += 2
            else:
                for cid in range(int(w[i]), int(w[i + 1]) + 1):
                    widths[cid] = float(w[i + 2])
                i += 3
        found = {widths.get(int.from_bytes(c, "big")) for c in codes}
        if len(found - {None}) > 1:
            raise ValueError("digits of unequal width")


def add_stamp(out: pikepdf.Pdf, page: pikepdf.Page, stamp) -> None:
    """Draw the stamp (a Form XObject, or a page) over `page` as a Pagination artifact (a
    footer that assistive technology skips), leaving the page's own content untouched."""
    if isinstance(stamp, pikepdf.Page):
        stamp = stamp.as_form_xobject()
    form = out.copy_foreign(stamp)
    x0, y0, x1, y1 = (float(v) for v in form.BBox)
    name = page.add_resource(form, Name.XObject, prefix="Stamp")
    # Move the form's box to the origin, then place it.
    m = pikepdf.Matrix(1, 0, 0, 1, -x0, -y0) @ stamp_matrix(page, x1 - x0, y1 - y0)
    cm = " ".join(f"{v:.4f}" for v in (m.a, m.b, m.c, m.d, m.e, m.f))
    page.contents_add(out.make_stream(b"q\n"), prepend=True)
    page.contents_add(
        out.make_stream(
            f"Q\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\nq\n{cm} cm\n"
            f"{name} Do\nQ\nEMC\n".encode()
        )
    )


# -- where the stamp would cover content --------------------------------------------------


class StripCheck:
    """Renders the uploaded files' pages small (poppler, in the background, started early so
    it runs while the rest of the pack is built) and tells which pages have anything in the
    bottom strip where the stamp goes, as the reader sees the page (rotation included).
    Any doubt counts as "in the way": padding a page is harmless, covering content is not."""

    # The files joined into one and rendered by one poppler process: starting a process
    # costs about as much as rendering a paper.
    SCRIPT = (
        'dir=$1; shift; if [ $# -gt 1 ]; then pdfunite "$@" "$dir/all.pdf" || exit 1; '
        'else cp "$1" "$dir/all.pdf" || exit 1; fi; '
        f'pdftoppm -r {STRIP_DPI} -gray -cropbox "$dir/all.pdf" "$dir/all"'
    )

    def __init__(self, files: list[tuple[Path, int]], store: Path | None = None):
        """`files`: each path with the page count recorded for it on upload."""
        # Results are kept by the file's own hash, so each upload is looked at only once.
        self.store = store
        self.files = files
        self.known: dict[int, list[bool]] = {}
        self.hashes: list[str] = []
        self.index = {str(path): n for n, (path, _) in enumerate(files)}
        self.todo = []
        for index, (path, _) in enumerate(files):
            try:
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            except OSError:
                digest = ""
            self.hashes.append(digest)
            saved = self._saved(digest)
            if saved is not None:
                self.known[index] = saved
            else:
                self.todo.append(index)
        self.tmp = tempfile.TemporaryDirectory(prefix="pack-strip-")
        self.proc = None
        if self.todo:
            self.proc = subprocess.Popen(
                ["sh", "-c", self.SCRIPT, "strip-check", self.tmp.name]
                + [str(files[i][0]) for i in self.todo],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.collected = False

    def _saved(self, digest: str) -> list[bool] | None:
        if self.store is None or not digest:
            return None
        try:
            return json.loads((self.store / f"strip-{STRIP_VERSION}-{digest}.json").read_text())
        except (OSError, ValueError):
            return None

    def _collect(self) -> None:
        """Wait for poppler and read its pages back, file by file."""
        self.collected = True
        try:
            ok = self.proc is not None and self.proc.wait(timeout=300) == 0
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            ok = False
        folder = Path(self.tmp.name)
        images = sorted(folder.glob("all-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        expected = [self.files[i][1] for i in self.todo]
        if not ok or len(images) != sum(expected):
            return  # a file poppler cannot read, or not the pages recorded: no answer
        start = 0
        for index, pages in zip(self.todo, expected, strict=True):
            used = [_ink_in_strip(image) for image in images[start : start + pages]]
            start += pages
            self.known[index] = used
            if self.store is not None and self.hashes[index]:
                self.store.mkdir(parents=True, exist_ok=True)
                target = self.store / f"strip-{STRIP_VERSION}-{self.hashes[index]}.json"
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
                tmp.write_text(json.dumps(used))
                os.replace(tmp, target)

    def results(self, path: Path, pages: int) -> list[bool]:
        """For the file: whether each page has something in the stamp's strip."""
        index = self.index.get(str(path))
        if index is not None and index not in self.known and not self.collected:
            self._collect()
        used = self.known.get(index) if index is not None else None
        return used if used is not None and len(used) == pages else [True] * pages

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()

    __del__ = close  # a build that fails before using it still stops the process


def _ink_in_strip(image: Path) -> bool:
    rows = max(1, round(STAMP_PAD * STRIP_DPI / 72))
    with Image.open(image) as img:
        strip = img.crop((0, max(0, img.height - rows), img.width, img.height))
        return strip.getextrema()[0] < INK
