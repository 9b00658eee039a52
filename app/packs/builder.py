"""Agenda packs and minutes as PDF. Pure builders: they take a meeting and a variant, never
the request, so a view, the CLI or a worker can call them alike.

A pack is: front sheet and agenda (pages i, ii, ...), then every paper in agenda order, pages
numbered from 1 and stamped "Page N" by a light overlay. The agenda's "(Pages 11 - 16)" come
from the same page counts the stamps use, so they always agree. The public variant replaces
each exempt paper with one NOT FOR PUBLICATION page and carries nothing else of it.

Everything is rendered from the pack's inputs (packs.inputs), which are also what its content
key hashes: what is not in them cannot be in the PDF.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pikepdf
import weasyprint
from flask import render_template
from jinja2 import meta
from weasyprint import HTML

from app.agenda import pdfsafety
from app.agenda.models import SCHEDULE_12A
from app.core import storage
from app.meetings.models import AttendanceStatus, Meeting
from app.minutes.markdown import render as render_markdown
from app.packs import inputs as gather
from app.packs import merge, store, tagging
from app.packs.inputs import MEMBERS, PUBLIC, SHOWN_KINDS, VARIANTS, PackInputs, reader_for

__all__ = ["MEMBERS", "PUBLIC", "SHOWN_KINDS", "VARIANTS", "reader_for"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _templates_digest(root: Path = TEMPLATES) -> str:
    """A hash of the templates packs and minutes are made from: the PDF ones and every
    template they extend, include or import (the record's macros shared with the pages), so
    a changed template changes every content key without anyone remembering to, and an
    e-mail or page template changes none. A name worked out only when rendering cannot be
    followed: then every template counts."""
    parse = jinja2.Environment().parse
    names = [p.relative_to(root).as_posix() for p in (root / "packs").rglob("*.html")]
    used: set[str] = set()
    while names:
        name = names.pop()
        path = root / name
        if name in used or not path.is_file():
            continue  # a template of an installed package (govuk_frontend_jinja/...)
        used.add(name)
        referenced = list(meta.find_referenced_templates(parse(path.read_text())))
        if None in referenced:
            used = {p.relative_to(root).as_posix() for p in root.rglob("*.html")}
            break
        names.extend(referenced)
    digest = hashlib.sha256()
    for name in sorted(used):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


TEMPLATE_VERSION = _templates_digest()


class PackError(Exception):
    """The pack cannot be built (e.g. a stored paper is missing)."""


@dataclass
class Paper:
    """One run of pages in the pack, attached to an agenda row."""

    item: gather.Row
    source: gather.Paper
    pdf: bytes = b""
    pages: int = 0
    first_page: int = 0

    @property
    def title(self) -> str:
        return self.source.title

    @property
    def number(self) -> str:
        return self.source.number

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def restricted(self) -> bool:
        return self.source.restricted

    @property
    def last_page(self) -> int:
        return self.first_page + self.pages - 1

    @property
    def identity(self) -> str:
        """What keeps its page numbers from one revision's pack to the next: the same upload
        (by paper and file), or the same generated part of the same item."""
        source = self.source
        if source.kind == "document":
            return f"document:{source.document_id}:{source.sha256}"
        return f"{source.kind}:{source.item_id}"


@dataclass
class Pack:
    pdf: bytes
    pages: int
    agenda_pages: int
    papers: list[Paper] = field(default_factory=list)
    inputs: PackInputs | None = None
    # The page numbers this pack gave (see number_pages), for the next revision to keep.
    layout: dict | None = None


def number_pages(papers: list[Paper], previous: dict | None) -> dict:
    """Give each part its page numbers. The first revision numbers its parts from 1 in agenda
    order. A later one keeps the numbers of every part the previous revision's pack had
    (`previous`, its layout) with the same pages, and numbers the rest after the highest
    number ever published, so a member who printed an earlier revision keeps every page
    reference. Returns this pack's layout: {"parts": {identity: [first, pages]}, "last": n,
    "new": [identities numbered here]}."""
    kept = (previous or {}).get("parts", {})
    following = (previous or {}).get("last", 0) + 1
    new = []
    for paper in papers:
        was = kept.get(paper.identity)
        if previous is not None and was is not None and was[1] == paper.pages:
            paper.first_page = was[0]
            continue
        paper.first_page = following
        following += paper.pages
        new.append(paper.identity)
    return {
        "parts": {p.identity: [p.first_page, p.pages] for p in papers},
        "last": following - 1,
        "new": new if previous is not None else [],
    }


def _render(template: str, tagged: bool = True, **context) -> bytes:
    """A generated part as PDF. The HTML is everything WeasyPrint is given (styles are
    inline), so parts are cached by its hash and an unchanged part is never rendered twice."""
    html = render_template(template, **context)
    options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True} if tagged else {}

    def render() -> bytes:
        pdf = HTML(string=html, base_url=".").write_pdf(custom_metadata=True, **options)
        return tagging.finish(pdf) if tagged else pdf

    return store.rendered_part(
        template,
        [weasyprint.__version__, tagging.VERSION if tagged else 0, sorted(options.items()), html],
        render,
    )


def _count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _blob(paper: gather.Paper) -> Path:
    return storage.blob_path(paper.sha256)


def _render_minutes(record: gather.MinutesInputs, standalone: bool) -> bytes:
    return _render(
        "packs/pdf/minutes.html",
        record=record,
        attendance={
            s.value: [a for a in record.attendance if a.status == s.value] for s in AttendanceStatus
        },
        declarations=_grouped(record.declarations),
        item_numbers=dict(record.item_numbers),
        schedule_12a=SCHEDULE_12A,
        render_markdown=render_markdown,
        standalone=standalone,
    )


def _grouped(declarations) -> dict[int, list]:
    out: dict[int, list] = {}
    for d in declarations:
        out.setdefault(d.item_id, []).append(d)
    return out


def minutes_pdf(
    meeting: Meeting,
    include_restricted: bool,
    standalone: bool = True,
    record: gather.MinutesInputs | None = None,
) -> bytes:
    """The minutes (from their inputs, gathered now unless given); standalone ones number their
    own pages, those in a pack are stamped."""
    if record is None:
        record = gather.minutes_inputs(meeting, include_restricted)
    return _render_minutes(record, standalone)


def _part(inputs: PackInputs, source: gather.Paper) -> bytes:
    """The generated pages of one paper that is not an upload."""
    if source.kind == "minutes":
        return _render_minutes(inputs.previous.minutes, standalone=False)
    if source.kind == "to_follow":
        previous = inputs.previous
        return _render(
            "packs/pdf/to_follow.html",
            committee_name=previous.committee_name,
            long_date=previous.long_date,
            public=inputs.variant == PUBLIC,
        )
    if source.kind == "actions":
        return _render(
            "packs/pdf/actions.html",
            committee_name=inputs.front.committee_name,
            log=inputs.action_log,
        )
    row = next(r for r in inputs.rows if r.id == source.item_id)
    return _render("packs/pdf/withheld.html", row=row, notice=source.withheld)


def _papers(inputs: PackInputs) -> list[Paper]:
    rows = {r.id: r for r in inputs.rows}
    papers: list[Paper] = []
    for source in inputs.papers:
        if source.kind == "document":
            if not _blob(source).exists():
                raise PackError(
                    f"The stored file of paper {source.document_id} ({source.title}) is missing."
                )
            papers.append(Paper(rows[source.item_id], source, pages=source.pages))
            continue
        pdf = _part(inputs, source)
        papers.append(Paper(rows[source.item_id], source, pdf, _count(pdf)))
    page = 1
    for paper in papers:
        paper.first_page = page
        page += paper.pages
    return papers


def shown(meeting: Meeting, variant: str) -> dict[str, list[int]]:
    """Everything the pack shows this audience in full, by identity (see inputs.identities)."""
    data = json.loads(gather.canonical(gather.pack_inputs(meeting, variant)))
    return {kind: sorted(ids) for kind, ids in gather.identities(data).items()}


def _page_range(papers: list[Paper]) -> dict[int, str]:
    """Item id -> "(Pages 11 - 16)" or "(Page 17)" over all its papers; a supplement's pages,
    numbered after the earlier revisions', make a second span: "(Pages 11 - 16, 41 - 43)"."""
    spans: dict[int, list[list[int]]] = {}
    for p in papers:
        runs = spans.setdefault(p.item.id, [])
        if runs and runs[-1][1] + 1 == p.first_page:
            runs[-1][1] = p.last_page
        else:
            runs.append([p.first_page, p.last_page])
    out = {}
    for item_id, runs in spans.items():
        words = [f"{a}" if a == b else f"{a} - {b}" for a, b in runs]
        single = len(runs) == 1 and runs[0][0] == runs[0][1]
        out[item_id] = f"(Page {words[0]})" if single else f"(Pages {', '.join(words)})"
    return out


def build_pack(
    meeting: Meeting,
    variant: str = PUBLIC,
    inputs: PackInputs | None = None,
    previous: dict | None = None,
    supplement_only: bool = False,
) -> Pack:
    """The pack, from its inputs (gathered now unless given), numbered to keep the page
    numbers of the previous revision's pack (`previous`, its layout). `supplement_only`: just
    the agenda and the parts this revision numbers anew, for members who printed the earlier
    revision."""
    if inputs is None:
        inputs = gather.pack_inputs(meeting, variant)
    with _collector_paused():
        return _build(inputs, previous, supplement_only)


@contextmanager
def _collector_paused():
    """A pack build makes hundreds of thousands of short-lived objects (WeasyPrint's boxes,
    pikepdf's handles), and Python's cycle collector would stop to scan them all, and
    everything else the process holds, again and again: about a tenth of a 1,000-page
    build. Its garbage is collected after, as usual. (The switch is the process's: a request
    served meanwhile by another thread only runs without it for those seconds.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _build(inputs: PackInputs, previous: dict | None, supplement_only: bool) -> Pack:
    # Each upload's bottom strips were looked at when it was uploaded; a file from before
    # that (or whose answer was lost) is looked at by poppler while the generated parts render.
    check = merge.StripCheck(
        [(_blob(p), p.pages) for p in inputs.papers if p.kind == "document"], store.strips_dir()
    )
    try:
        papers = _papers(inputs)
    except BaseException:
        check.close()
        raise
    layout = number_pages(papers, previous)
    ranges = _page_range(papers)
    fresh = [p for p in papers if p.identity in layout["new"]]
    front = _render(
        "packs/pdf/agenda.html",
        front=inputs.front,
        rows=[(row, ranges.get(row.id, "")) for row in inputs.rows],
        variant=inputs.variant,
        new_parts=[(p, _page_range([p])[p.item.id]) for p in fresh],
        supplement_only=supplement_only,
    )
    pack = _assemble(inputs, front, fresh if supplement_only else papers, check)
    pack.layout = layout
    return pack


def _assemble(
    inputs: PackInputs, front: bytes, papers: list[Paper], check: merge.StripCheck
) -> Pack:
    variant = inputs.variant
    out = pikepdf.open(io.BytesIO(front))
    agenda_pages = len(out.pages)
    title = f"{inputs.front.committee_name}: agenda pack, {inputs.front.long_date}"
    if variant == MEMBERS:
        title += " (members' version)"
    opened = []
    paper_pages = sum(p.pages for p in papers)
    highest = max((p.last_page for p in papers), default=0)
    outline_entries = []
    # PDF/UA is claimed only if every page is generated (tagged by WeasyPrint) or comes from
    # an upload that is tagged and whose tree joined the pack's.
    conforms = True
    try:
        stamps = _stamps(variant, papers, highest, opened)
        tree = merge.StructureTree(out)
        for paper in papers:
            src = _open_paper(paper)
            opened.append(src)
            start_index = len(out.pages)
            out.pages.extend(src.pages)
            pages = list(out.pages[start_index:])
            merged = tree.add(src, pages, _paper_label(paper, variant))
            conforms = conforms and merged and _marked(src)
            crowded = (
                check.results(_blob(paper.source), paper.pages)
                if paper.kind == "document"
                else [False] * paper.pages
            )
            for offset, target in enumerate(pages):
                if crowded[offset]:
                    merge.pad_visual_bottom(target)
                merge.add_stamp(out, target, stamps[paper.first_page - 1 + offset])
            outline_entries.append((paper, start_index))
        tree.finish()
        _outline(out, inputs, variant, outline_entries)
        _labels(out, agenda_pages, papers)
        _metadata(out, title, conforms)
        buffer = io.BytesIO()
        out.save(
            buffer,
            deterministic_id=True,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
    finally:
        check.close()
        for doc in opened:
            doc.close()
        out.close()
    pdf = buffer.getvalue()
    return Pack(pdf, agenda_pages + paper_pages, agenda_pages, papers, inputs)


def _stamps(variant: str, papers: list[Paper], count: int, opened: list) -> list:
    """The "Page N" stamps, one Form XObject (or page) per numbered page. Rendered untagged:
    they are drawn as artifacts, outside the structure tree."""
    if not count:
        return []
    restricted = {n for p in papers if p.restricted for n in range(p.first_page, p.last_page + 1)}
    exempt = restricted if variant == MEMBERS else set()
    lines = merge.specimen_lines(count, bool(exempt))
    # The specimen depends only on the number of digits, so it is nearly always cached.
    stamps = pikepdf.open(
        io.BytesIO(_render("packs/pdf/stamps.html", tagged=False, lines=lines, paged=False))
    )
    opened.append(stamps)
    try:
        return merge.stamp_forms(stamps, lines, count, exempt)
    except ValueError:
        # Should WeasyPrint ever write the specimen differently: one page each (slower).
        paged = _render(
            "packs/pdf/stamps.html",
            tagged=False,
            paged=True,
            count=count,
            members=variant == MEMBERS,
            restricted=restricted,
        )
        stamps = pikepdf.open(io.BytesIO(paged))
        opened.append(stamps)
        return list(stamps.pages)


def _open_paper(paper: Paper) -> pikepdf.Pdf:
    if paper.kind != "document":
        return pikepdf.open(io.BytesIO(paper.pdf))
    doc = paper.source
    try:
        src = pdfsafety.open_for_pack(
            doc.sha256, paper.pages, doc.document_id, doc.title, paper.restricted
        )
    except (pikepdf.PdfError, OSError) as exc:
        raise PackError(
            f"The stored file of paper {doc.document_id} ({doc.title}) cannot be read as a PDF; "
            "upload it again."
        ) from exc
    if len(src.pages) != paper.pages:
        src.close()
        # The agenda's page ranges were worked out from the page count recorded on upload.
        raise PackError(
            f"The stored file of paper {doc.document_id} ({doc.title}) has changed: it has a "
            f"different number of pages from the one uploaded; upload it again."
        )
    return src


def _marked(src: pikepdf.Pdf) -> bool:
    mark_info = src.Root.get("/MarkInfo")
    return isinstance(mark_info, pikepdf.Dictionary) and bool(mark_info.get("/Marked", False))


def _paper_label(paper: Paper, variant: str) -> str:
    """A paper's name in the bookmarks and the structure tree. In the members' version an
    exempt paper says so there too: its pages' NOT FOR PUBLICATION mark is part of the page
    stamp, an artifact that screen readers skip."""
    if variant == MEMBERS and paper.restricted:
        return f"NOT FOR PUBLICATION: {paper.title}"
    return paper.title


def _agenda_rows(out) -> dict[str, pikepdf.Array]:
    """Where each agenda row is printed: the front sheet's named destinations (WeasyPrint
    writes one for every id), read before _metadata drops them."""
    names = out.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    found = {}
    for name, dest in pikepdf.NameTree(names.Dests).items():
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.get("/D")
        if isinstance(dest, pikepdf.Array) and name.startswith("item-"):
            found[name] = dest
    return found


def _outline(out, inputs: PackInputs, variant: str, entries) -> None:
    """One "Agenda" entry, then each item: at its first paper, or, with none, at its row of
    the agenda. WeasyPrint's bookmarks of the front sheet's headings are replaced."""
    first_paper = {}
    for paper, index in entries:
        first_paper.setdefault(paper.item.id, index)
    printed = _agenda_rows(out)
    with out.open_outline() as outline:
        outline.root.clear()
        outline.root.append(pikepdf.OutlineItem("Agenda", 0))
        for row in inputs.rows:
            target = first_paper.get(row.id)
            if target is None:
                target = printed.get(f"item-{row.id}", 0)
            node = pikepdf.OutlineItem(f"{row.number}. {row.title}", target)
            for paper, index in entries:
                if paper.item.id == row.id:
                    node.children.append(pikepdf.OutlineItem(_paper_label(paper, variant), index))
            outline.root.append(node)


def _labels(out, agenda_pages: int, papers: list[Paper]) -> None:
    """Page labels: the agenda in roman numerals, then each run of parts by the numbers
    stamped on them (which skip, after a supplement, where earlier revisions' numbers are)."""
    nums = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
    index, expected = agenda_pages, None
    for paper in papers:
        if paper.first_page != expected:
            nums += [index, pikepdf.Dictionary(S=pikepdf.Name.D, St=paper.first_page)]
        index += paper.pages
        expected = paper.last_page + 1
    out.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))


def _metadata(out, title: str, conforms: bool) -> None:
    # Uploaded papers bring their own metadata; the pack keeps only its own. A fresh packet,
    # so not even the namespace of the front sheet's PDF/UA claim is left behind.
    if "/Metadata" in out.Root:
        del out.Root.Metadata
    with out.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        meta["dc:language"] = ["en-GB"]
        meta["pdf:Producer"] = "Minutebook"
        meta["dc:creator"] = ["Minutebook"]
        if conforms:
            meta["pdfuaid:part"] = "1"
    out.docinfo = out.make_indirect(
        pikepdf.Dictionary(Title=title, Creator="Minutebook", Producer="Minutebook")
    )
    out.Root.Lang = "en-GB"
    out.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    if "/Names" in out.Root:
        # The pack's own name tree (from the agenda) is not needed; dropping it also makes
        # sure no embedded files are carried.
        del out.Root.Names


# --- content keys ----------------------------------------------------------------------


def _salt() -> tuple[str, str]:
    return (TEMPLATE_VERSION, weasyprint.__version__)


def content_key(meeting: Meeting, variant: str, serialised: bytes | None = None) -> str:
    """The hash of the pack's inputs (their canonical form, gathered now unless given): it
    changes exactly when the pack would, and never with the clock alone (the action log is
    dated by its data)."""
    if serialised is None:
        serialised = gather.canonical(gather.pack_inputs(meeting, variant))
    return gather.key_of(serialised, *_salt(), "pack")


def minutes_key(
    meeting: Meeting, include_restricted: bool, record: gather.MinutesInputs | None = None
) -> str:
    """The hash of the standalone minutes PDF's inputs."""
    if record is None:
        record = gather.minutes_inputs(meeting, include_restricted)
    return gather.key_of(gather.canonical(record), *_salt(), "minutes")
