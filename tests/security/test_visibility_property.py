"""The one visibility rule, as a property of any agenda an anonymous reader may look at.

    An item inherits the strictest of its own visibility and its parent's; a paper inherits
    its item's; minutes, resolutions, declarations and actions inherit from the business
    they record (and are public at all only once the minutes are: approved, or published by
    a committee that publishes its draft minutes).

Hypothesis draws one published meeting: top-level items and sub-items (one level, as
add_item allows), each public, exempt or confidential, some urgent, with papers (tagged
WeasyPrint PDFs or plain ones, each public, exempt or confidential), declarations of interest,
and minutes (none, draft, circulated or approved) with resolutions and actions on some items;
sometimes a "matters arising" item (its paper is the action log), and sometimes papers and
stricter parents come in a supplement after revision 1 was read, whose pack may then fail to
build (so the last good one may be served). A sub-item more public than its parent is made as
a clerk can make it: added under a parent as public as it, the parent made stricter after.

Everything the rule withholds carries a canary of its own ("Hush..."), everything it leaves
public a marker ("Open..."). An item's title is public by design (agendas print it, exempt or
not), and so are an exempt item's paragraphs and public-interest statement: those are never
canaries.

As an anonymous reader the test then looks everywhere the meeting shows: its page; the API
(meeting, agenda items, OCD event, actions, Popolo); the public pack (text by pypdf and
poppler, metadata, bookmarks, and every string and decompressed stream of the file); the
minutes PDF, and the next meeting's pack that carries those minutes; each paper's own URL;
the decisions and action lists, the committee page and the home page; and search for every
canary and marker. No canary may appear anywhere; each marker must appear where it belongs,
so the test also fails if a fix withholds too much.

VISIBILITY_EXAMPLES=100 runs more examples (each builds a pack and minutes, ~2 s)."""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pikepdf
import pypdf
import weasyprint
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from app.actions import services as actions
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.extensions import db as _db
from app.meetings import attendance
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.packs import builder
from tests import factories
from tests.pdfs import make_pdf

VISIBILITIES = ("public", "exempt", "confidential")  # from the least strict to the most
PARAGRAPHS = [3]
REASON = "The public interest in withholding the information outweighs that in disclosing it."
SLUG = "visibility-board"
EXAMPLES = int(os.environ.get("VISIBILITY_EXAMPLES", "15"))

# Where a public marker must show, by what it marks.
AGENDA = frozenset({"page", "api_agenda", "ocd", "pack_text", "pack_outline", "search"})
PURPOSE = frozenset({"page", "api_agenda", "ocd", "pack_text", "search"})
URGENT = frozenset({"page", "api_agenda", "pack_text"})
PAPER_TITLE = frozenset({"page", "api_agenda", "ocd", "pack_outline", "search"})
PAPER_TEXT = frozenset({"pack_text", "search", "paper"})
MINUTE = frozenset({"page", "minutes_pdf_text", "next_pack_text", "search"})
RESOLUTION = frozenset(
    {"page", "minutes_pdf_text", "next_pack_text", "search", "decisions", "popolo"}
)
ACTION = frozenset({"page", "minutes_pdf_text", "next_pack_text", "actions", "api_actions"})
INTEREST = frozenset({"page", "minutes_pdf_text", "next_pack_text"})


# --- what Hypothesis draws -----------------------------------------------------------------


@dataclass(frozen=True)
class PaperSpec:
    visibility: str
    tagged: bool


@dataclass(frozen=True)
class ItemSpec:
    visibility: str
    urgent: bool = False
    papers: tuple[PaperSpec, ...] = ()
    declaration: bool = False
    children: tuple[ItemSpec, ...] = ()  # top-level items only
    minute: bool = False  # top-level items only: sub-items are minuted with their parent
    resolutions: int = 0
    action: bool = False  # on the first resolution


@dataclass(frozen=True)
class MeetingSpec:
    items: tuple[ItemSpec, ...]
    minutes: str = "approved"  # approved, published, draft or none
    publish_drafts: bool = False
    action_log: bool = False  # a public "matters arising" item, whose paper is the action log
    supplement: bool = False  # papers and stricter parents come in a supplement (revision 2)
    # With a supplement: its pack cannot be built, and revision 1's may be served instead,
    # but only if it shows nothing the public may no longer see.
    rebuild_fails: bool = False

    @property
    def minutes_public(self) -> bool:
        return self.minutes == "approved" or (self.minutes == "published" and self.publish_drafts)


visibilities = st.sampled_from(VISIBILITIES)
papers = st.lists(st.builds(PaperSpec, visibilities, st.booleans()), max_size=2).map(tuple)
sub_items = st.builds(
    ItemSpec,
    visibility=visibilities,
    urgent=st.booleans(),
    papers=papers,
    declaration=st.booleans(),
)
top_items = st.builds(
    ItemSpec,
    visibility=visibilities,
    urgent=st.booleans(),
    papers=papers,
    declaration=st.booleans(),
    children=st.lists(sub_items, max_size=2).map(tuple),
    minute=st.booleans(),
    resolutions=st.integers(0, 2),
    action=st.booleans(),
)
meeting_specs = st.builds(
    MeetingSpec,
    items=st.lists(top_items, min_size=1, max_size=3).map(tuple),
    minutes=st.sampled_from(("approved", "published", "draft", "none")),
    publish_drafts=st.booleans(),
    action_log=st.booleans(),
    supplement=st.booleans(),
    rebuild_fails=st.booleans(),
)


def strictest(*visibilities: str) -> str:
    return max(visibilities, key=VISIBILITIES.index)


# --- canaries and markers ------------------------------------------------------------------


@dataclass
class Tokens:
    """Canaries (withheld) and markers (public, with where each must show), each described.
    A token is "Hush" or "Open", the slot (I2S1 = item 2's first sub-item, P1 its first
    paper, R1 a resolution), what it is, and "Z": none is a substring of another."""

    withheld: dict[str, str] = field(default_factory=dict)
    public: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def make(self, slot: str, what: str, hidden: bool, where: frozenset[str], about: str) -> str:
        token = f"{'Hush' if hidden else 'Open'}{slot}{what}Z"
        assert token not in self.withheld and token not in self.public
        if hidden:
            self.withheld[token] = f"{what.lower()} of {about}"
        else:
            self.public[token] = (f"{what.lower()} of {about}", where)
        return token


@dataclass
class Built:
    meeting_id: int
    next_meeting_id: int | None  # the meeting that confirms the minutes, if there are any
    tokens: Tokens
    papers: list[tuple[str, bool, str]]  # url, withheld, what
    searches: dict[str, str] = field(default_factory=dict)  # marker -> its results page
    fresh_pack: bool = True  # whether the pack served is of the current content


@functools.cache
def tagged_pdf(title: str, text: str) -> bytes:
    """A tagged paper (PDF/UA, structure tree) whose title and text are the given tokens."""
    html = (
        f"<html lang='en-GB'><head><title>{title}</title></head>"
        f"<body><h1>{text}</h1><p>The report of the officer.</p></body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


@functools.cache
def plain_pdf(title: str, text: str) -> bytes:
    return make_pdf(1, text, title=title)


def _exemption(visibility: str) -> dict:
    if visibility == "exempt":
        return {"exempt_paragraphs": PARAGRAPHS, "public_interest_reason": REASON}
    return {}


def build(spec: MeetingSpec, client) -> Built:
    """The meeting of one example, made through the services as a clerk makes it."""
    tokens = Tokens()
    paper_urls: list[tuple[str, bool, str]] = []
    committee = factories.committee("Visibility Board", publish_draft_minutes=spec.publish_drafts)
    person = factories.person("Councillor Jones")
    now = datetime.now(UTC).replace(microsecond=0)
    held = meetings.schedule_meeting(committee, now - timedelta(days=20))
    record_withheld = not spec.minutes_public  # the record is withheld until minutes are
    if spec.action_log:
        agenda.add_item(
            held,
            title=tokens.make("Log", "Title", False, AGENDA, "the matters arising item"),
            kind="matters_arising",
        )

    added = []  # (item, its spec, slot, withheld, description)

    def add(item_spec: ItemSpec, slot: str, effective: str, parent=None, parent_spec=None):
        about = f"{slot} ({item_spec.visibility}"
        about += f"; its parent {parent_spec.visibility})" if parent_spec is not None else ")"
        hidden = effective != "public"
        # A sub-item more public than its parent cannot be added under it (add_item refuses);
        # a clerk gets there by making the parent stricter afterwards (see below), so the
        # parent starts as public as its most public sub-item.
        visibility = item_spec.visibility
        if parent is None and item_spec.children:
            visibility = min(
                (visibility, *(c.visibility for c in item_spec.children)), key=VISIBILITIES.index
            )
        fields = {
            "title": tokens.make(slot, "Title", False, AGENDA, about),
            "purpose": tokens.make(slot, "Purpose", hidden, PURPOSE, about),
            "visibility": visibility,
            **_exemption(visibility),
        }
        if item_spec.urgent:
            fields["urgent_reason"] = tokens.make(slot, "Urgent", hidden, URGENT, about)
        item = agenda.add_item(held, parent=parent, urgent=item_spec.urgent, **fields)
        added.append((item, item_spec, slot, hidden, about))
        return item

    tops = []
    for i, top in enumerate(spec.items, 1):
        item = add(top, f"I{i}", top.visibility)
        tops.append((item, top, f"I{i}"))
        for j, child in enumerate(top.children, 1):
            effective = strictest(top.visibility, child.visibility)
            add(child, f"I{i}S{j}", effective, parent=item, parent_spec=top)
    if spec.supplement:
        # Revision 1 has the items only, and is read (so its pack is built and kept) before
        # the papers come and parents are made stricter; revision 2 publishes those changes.
        agenda_publication.publish_agenda(held, now=held.starts_at - timedelta(days=12))
        _db.session.commit()
        for url in (f"/meetings/{held.id}/", f"/meetings/{held.id}/pack.pdf"):
            assert client.get(url).status_code == 200, url

    for item, item_spec, slot, hidden, about in added:
        for k, paper in enumerate(item_spec.papers, 1):
            paper_slot = f"{slot}P{k}"
            paper_about = f"{paper.visibility} paper {paper_slot} of {about}"
            withheld = hidden or paper.visibility != "public"
            title = tokens.make(paper_slot, "Paper", withheld, PAPER_TITLE, paper_about)
            text = tokens.make(paper_slot, "Text", withheld, PAPER_TEXT, paper_about)
            data = tagged_pdf(title, text) if paper.tagged else plain_pdf(title, text)
            doc = add_document(
                item,
                io.BytesIO(data),
                f"paper-{paper_slot.lower()}.pdf",
                title,
                visibility=paper.visibility,
                **_exemption(paper.visibility),
            )
            paper_urls.append((f"/documents/{doc.id}/{doc.filename}", withheld, paper_about))
    for item, top, _slot in tops:
        if item.visibility != top.visibility:
            # Made stricter once its sub-items and their papers are on the agenda.
            agenda.update_item(item, visibility=top.visibility, **_exemption(top.visibility))
    if not spec.supplement or agenda_publication.unpublished_changes(held):
        agenda_publication.publish_agenda(held, now=held.starts_at - timedelta(days=10))

    for item, item_spec, slot, hidden, about in added:
        if item_spec.declaration:
            nature = tokens.make(slot, "Interest", hidden or record_withheld, INTEREST, about)
            attendance.add_declaration(held, item.id, person, "non_registrable", nature)

    following = None
    if spec.minutes != "none":
        # The next meeting confirms these minutes: its pack carries them as a paper.
        following = meetings.schedule_meeting(committee, now + timedelta(days=20))
        agenda.add_item(following, title="Minutes of the last meeting", kind="previous_minutes")
        agenda_publication.publish_agenda(following)
        by_item = {m.agenda_item_id: m for m in minutes.draft_minutes(held)}
        for item, top, slot in tops:
            minute = by_item[item.id]
            about = f"{slot} ({top.visibility})"
            hidden = top.visibility != "public" or record_withheld
            if top.minute:
                title = tokens.make(slot, "Minute", hidden, MINUTE, about)
                notes = tokens.make(slot, "Notes", hidden, MINUTE, about)
                # After the urgent item's preamble, if any (it quotes the urgent reason).
                text = f"{minute.text}\n\n{notes}".strip()
                minutes.save_minute(minute, text, minute.version, title=title)
            for r in range(1, top.resolutions + 1):
                where = f"{slot}R{r}"
                text = tokens.make(where, "Resolution", hidden, RESOLUTION, about)
                resolution = minutes.add_resolution(minute, text, "resolved")
                if top.action and r == 1:
                    shown = ACTION | ({"pack_text"} if spec.action_log else set())
                    actions.create_from_resolution(
                        resolution,
                        tokens.make(where, "Action", hidden, shown, about),
                        owner_id=person.id,
                        due_date=date.today() + timedelta(days=30),
                    )
        if spec.minutes == "published":
            minutes.publish_minutes(held)
        elif spec.minutes == "approved":
            minutes.approve_minutes(held, following)
    _db.session.commit()
    return Built(held.id, following.id if following else None, tokens, paper_urls)


# --- what an anonymous reader gets ----------------------------------------------------------


def _strings(obj, out: list[str], depth: int = 0) -> None:
    """Every string and name in a PDF object, decoded (UTF-16 too), not following references
    (each indirect object is visited on its own)."""
    if depth > 50:
        return
    if isinstance(obj, pikepdf.String):
        out.append(str(obj))
        with contextlib.suppress(Exception):
            out.append(bytes(obj).decode("latin-1"))
    elif isinstance(obj, pikepdf.Name):
        out.append(str(obj))
    elif isinstance(obj, pikepdf.Array):
        for child in obj:
            if not getattr(child, "is_indirect", False):
                _strings(child, out, depth + 1)
    elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        for key, child in obj.items():
            out.append(key)
            if not getattr(child, "is_indirect", False):
                _strings(child, out, depth + 1)


def pdf_views(data: bytes, name: str) -> dict[str, str]:
    """A PDF as a reader (or a curious one) may read it: extracted text, metadata,
    bookmarks, and raw: the file, every object's strings and every stream decompressed."""
    text = []
    if name in ("pack", "minutes_pdf"):  # pypdf is slow; poppler reads every PDF anyway
        text = [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    poppler = subprocess.run(
        ["pdftotext", "-q", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode(errors="replace")
    meta: list[str] = []
    outline: list[str] = []
    raw: list[str] = [data.decode("latin-1")]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/Info" in pdf.trailer:
            _strings(pdf.trailer.Info, meta)
        if "/Metadata" in pdf.Root:
            meta.append(pdf.Root.Metadata.read_bytes().decode("utf-8", errors="replace"))
        with pdf.open_outline() as tree:
            stack = list(tree.root)
            while stack:
                entry = stack.pop()
                outline.append(entry.title or "")
                stack.extend(entry.children)
        for obj in pdf.objects:
            _strings(obj, raw)
            if isinstance(obj, pikepdf.Stream):
                with contextlib.suppress(pikepdf.PdfError):
                    raw.append(obj.read_bytes().decode("latin-1"))
    return {
        f"{name}_text": "\n".join(text) + "\n" + poppler,
        f"{name}_metadata": "\n".join(meta),
        f"{name}_outline": "\n".join(outline),
        f"{name}_raw": "\n".join(raw),
    }


def read_pages(client, built: Built, spec: MeetingSpec, wrong: list[str]) -> dict[str, str]:
    """The meeting's page and API, the lists its record feeds, and each paper's own URL
    (noting in `wrong` a paper answered against the rule)."""
    m = built.meeting_id
    views: dict[str, str] = {}
    for name, url in (
        ("page", f"/meetings/{m}/"),
        ("api_meeting", f"/api/v1/meetings/{m}"),
        ("api_agenda", f"/api/v1/meetings/{m}/agenda-items"),
        ("ocd", f"/api/v1/meetings/{m}/ocd-event"),
        ("decisions", f"/decisions/?committee={SLUG}"),
        ("actions", f"/actions/?committee={SLUG}"),
        ("api_actions", f"/api/v1/actions?committee={SLUG}"),
        ("popolo", f"/api/v1/popolo?committee={SLUG}"),
        ("committee", f"/committees/{SLUG}/"),
        ("home", "/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        views[name] = response.get_data(as_text=True)
    papers = []
    for url, withheld, about in built.papers:
        response = client.get(url)
        if response.status_code == 200:
            papers.append("\n".join(pdf_views(response.get_data(), "paper").values()))
        if response.status_code != (404 if withheld else 200):
            wrong.append(f"{url} ({about}) answered {response.status_code}")
    views["paper"] = "\n".join(papers)
    return views


def read_searches(client, built: Built, spec: MeetingSpec, wrong: list[str]) -> dict[str, str]:
    """Search for every canary and marker: "search" is every results page (without the query
    repeated back), "search_hits" the canaries that found anything at all."""
    pages, hits = [], []
    for token in sorted(built.tokens.withheld):
        page = searched(client, token)
        pages.append(page)
        if ">0 results<" not in page:
            hits.append(token)
    for token in sorted(built.tokens.public):
        built.searches[token] = searched(client, token)
        pages.append(built.searches[token])
    return {"search": "\n".join(pages), "search_hits": " ".join(hits)}


def read_pdfs(client, built: Built, spec: MeetingSpec, wrong: list[str]) -> dict[str, str]:
    """The public pack, the next meeting's (which carries these minutes), and the minutes."""
    m = built.meeting_id
    views: dict[str, str] = {}
    if spec.supplement and spec.rebuild_fails:
        built.fresh_pack = False
        real = builder.build_pack

        def failing(meeting, *args, **kwargs):
            if meeting.id == m:
                raise builder.PackError("A stored paper cannot be read (injected by the test).")
            return real(meeting, *args, **kwargs)

        with mock.patch.object(builder, "build_pack", failing):
            pack = client.get(f"/meetings/{m}/pack.pdf")
        # The pack of revision 1, or none at all (503) if that shows what is now withheld.
        assert pack.status_code in (200, 503), pack.status_code
    else:
        pack = client.get(f"/meetings/{m}/pack.pdf")
        assert pack.status_code == 200, pack.get_data(as_text=True)
    if pack.status_code == 200:
        views.update(pdf_views(pack.get_data(), "pack"))
    if built.next_meeting_id is not None:
        following = client.get(f"/meetings/{built.next_meeting_id}/pack.pdf")
        assert following.status_code == 200, following.get_data(as_text=True)
        views.update(pdf_views(following.get_data(), "next_pack"))
    record = client.get(f"/meetings/{m}/minutes.pdf")
    if record.status_code == 200:
        views.update(pdf_views(record.get_data(), "minutes_pdf"))
    if (record.status_code == 200) != spec.minutes_public:
        wrong.append(f"minutes.pdf answered {record.status_code} (minutes {spec.minutes})")
    return views


def searched(client, query: str) -> str:
    """The search results page for the query, without the two places it repeats the query."""
    body = client.get(f"/search?q={query}").get_data(as_text=True)
    return body.replace(f"\u201c{query}\u201d", "").replace(f'value="{query}"', "")


def _listing(found: dict[str, list[str]], about: dict[str, str]) -> str:
    return "\n".join(
        f"  {where}: " + "; ".join(f"{t} ({about[t]})" for t in tokens)
        for where, tokens in sorted(found.items())
        if tokens
    )


# --- the property --------------------------------------------------------------------------


def check(app, spec: MeetingSpec, storage) -> None:
    """Build the meeting of one example, read it as an anonymous reader and compare with the
    rule; then empty the database and storage, as the db and storage fixtures do after a
    test, so the next example starts from nothing."""
    shared = app.config["STORAGE_DIR"]
    app.config["STORAGE_DIR"] = str(storage)  # papers, packs and parts of this example only
    try:
        built = build(spec, app.test_client())
        client = app.test_client()  # anonymous, and stays so
        tokens = built.tokens
        about = dict(tokens.withheld)
        about.update({t: a for t, (a, _where) in tokens.public.items()})
        views: dict[str, str] = {}
        wrong: list[str] = []
        # The cheap views first: a leak there fails the example before any PDF is built,
        # which keeps Hypothesis's shrinking quick. (The message names the example, since
        # Hypothesis's own report of it comes out blank beside the schemathesis plugin.)
        for read in (read_pages, read_searches, read_pdfs):
            views.update({k: v.lower() for k, v in read(client, built, spec, wrong).items()})
            leaks = {
                name: sorted(t for t in tokens.withheld if t.lower() in body)
                for name, body in views.items()
            }
            assert not any(leaks.values()), (
                f"{spec!r}\nwithheld from the public by the rule, but shown to an anonymous "
                "reader:\n" + _listing(leaks, about)
            )
        assert not wrong, f"{spec!r}\nanswered against the rule:\n  " + "\n  ".join(wrong)

        missing: dict[str, list[str]] = {}
        for token, (_about, where) in sorted(tokens.public.items()):
            for name in sorted(where):
                if name.startswith("pack_") and not built.fresh_pack:
                    continue  # an older pack, if any, need not show what came since
                body = built.searches[token] if name == "search" else views.get(name, "")
                if token.lower() not in body.lower():
                    missing.setdefault(name, []).append(token)
        assert not missing, (
            f"{spec!r}\npublic by the rule, but not shown to an anonymous reader:\n"
            + _listing(missing, about)
        )
    finally:
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
        app.config["STORAGE_DIR"] = shared
        shutil.rmtree(storage, ignore_errors=True)


_examples = itertools.count(1)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # No explain phase: it reruns the shrunk example many times, ~1 s each.
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=meeting_specs)
# The shapes the rule is about, whatever Hypothesis draws: public business under exempt
# business, restricted papers of open business, the record of restricted business in
# approved, circulated and draft minutes, and a stale pack served while a rebuild fails.
@example(
    spec=MeetingSpec(
        items=(
            ItemSpec(
                "exempt",
                declaration=True,
                minute=True,
                resolutions=1,
                action=True,
                children=(
                    ItemSpec(
                        "public", urgent=True, papers=(PaperSpec("public", True),), declaration=True
                    ),
                ),
            ),
        ),
        minutes="approved",
        action_log=True,
        supplement=True,
    )
)
@example(
    spec=MeetingSpec(
        items=(
            ItemSpec(
                "public",
                papers=(PaperSpec("exempt", False), PaperSpec("confidential", True)),
                minute=True,
                resolutions=1,
                action=True,
                children=(
                    ItemSpec(
                        "confidential", papers=(PaperSpec("public", False),), declaration=True
                    ),
                ),
            ),
        ),
        minutes="published",
        publish_drafts=True,
        action_log=True,
    )
)
@example(
    spec=MeetingSpec(
        items=(
            ItemSpec("public", declaration=True, minute=True, resolutions=1, action=True),
            ItemSpec("confidential", urgent=True, minute=True, resolutions=2, action=True),
        ),
        minutes="draft",
    )
)
@example(
    spec=MeetingSpec(
        items=(
            ItemSpec("exempt", urgent=True, children=(ItemSpec("public", urgent=True),)),
            ItemSpec("public", papers=(PaperSpec("public", False),)),
        ),
        supplement=True,
        rebuild_fails=True,
    )
)
def test_anonymous_readers_see_exactly_what_the_rule_leaves_public(app, db, tmp_path, spec):
    check(app, spec, tmp_path / f"example-{next(_examples)}")
