"""A paper's text is stored and indexed once per file (sha256), however many papers in however
many meetings and copies of their agendas are that file; who finds it is still decided paper by
paper, and a search costs the same statements however many meetings match (issue 17)."""

from __future__ import annotations

import io
import json

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import create_engine, func, select, table, text

from app.agenda import publication
from app.agenda import services as agenda
from app.agenda.documents import add_document, remove_document
from app.auth.models import User
from app.auth.services import issue_token
from app.committees.models import Committee
from app.extensions import db as ext
from app.minutes import services as minutes
from app.models import Regime, Role, Visibility
from app.search.models import TEXT_FTS, SearchEntry, SearchText
from app.search.services import reindex_all, search
from config import normalise_database_url
from tests.factories import PASSWORD
from tests.pdfs import make_pdf
from tests.statements import counted_get

ANON = AnonymousUserMixin()
REASON = "Commercial negotiations are continuing."
PAPER = make_pdf(2, "Quagga habitat survey across the borough")
EXEMPT = {"visibility": "exempt", "exempt_paragraphs": [3], "public_interest_reason": REASON}


def _upload(meeting, title, *, item_kw=None, paper_kw=None):
    item = agenda.add_item(meeting, title="Public health", **(item_kw or {}))
    return add_document(item, io.BytesIO(PAPER), "survey.pdf", title, **(paper_kw or {}))


def _texts() -> int:
    return ext.session.scalar(select(func.count()).select_from(SearchText))


def _found(query, user) -> set[int]:
    hits = search(query, user)
    assert all(h.kind == "document" for h in hits), [(h.kind, h.title) for h in hits]
    ids = [h.obj.id for h in hits]
    assert len(ids) == len(set(ids)), ids  # each paper once, whatever its copies
    return set(ids)


@pytest.fixture
def council(db, f):
    """The same file as a public paper in two published meetings, an exempt paper of the same
    committee, a paper on an agenda not yet published, and an exempt paper of another
    committee."""
    ours = f.committee(regime=Regime.NONE)
    theirs = f.committee(regime=Regime.NONE)
    meetings = [f.meeting(c) for c in (ours, ours, ours, ours, theirs)]
    papers = {
        "first": _upload(meetings[0], "Survey"),
        "second": _upload(meetings[1], "Survey addendum"),
        "exempt": _upload(meetings[2], "Survey (exempt)", paper_kw=EXEMPT),
        "draft": _upload(meetings[3], "Survey (draft)"),
        "theirs": _upload(meetings[4], "Their survey", item_kw=EXEMPT, paper_kw=EXEMPT),
    }
    for m in (meetings[0], meetings[1], meetings[2], meetings[4]):
        publication.publish_agenda(m)
    db.session.commit()
    return ours, theirs, {name: p.id for name, p in papers.items()}


def test_the_file_s_text_is_stored_once_for_every_paper_and_copy(council, db):
    _ours, _theirs, papers = council
    assert _texts() == 1
    sha256 = db.session.scalar(select(SearchText.sha256))
    entries = db.session.scalars(select(SearchEntry).where(SearchEntry.kind == "document")).all()
    # Four published meetings' papers twice (working and published copies), the draft's once.
    assert len(entries) == 9
    assert {(e.sha256, e.body) for e in entries} == {(sha256, "")}
    assert {e.ref_id for e in entries} == set(papers.values())
    # Indexed once: one row in the text index, whichever database.
    assert db.session.scalar(select(func.count()).select_from(_text_index(db))) == 1
    # Making the index again from the records stores it once again.
    reindex_all()
    db.session.commit()
    assert _texts() == 1
    named = select(func.count()).where(SearchEntry.sha256 == sha256)
    assert db.session.scalar(named) == 9


def _text_index(db):
    return table(TEXT_FTS)


def test_each_reader_finds_the_papers_they_may_see_by_its_text(council, db, f):
    ours, theirs, papers = council
    public = {papers["first"], papers["second"]}
    assert _found("quagga habitat", ANON) == public
    assert _found("quagga", f.member_user(ours)) == public | {papers["exempt"]}
    assert _found("quagga", f.member_user(theirs)) == public | {papers["theirs"]}
    assert _found("quagga", f.member_user(f.committee())) == public
    # Staff read the working copies: every paper, the unpublished agenda's too.
    assert _found("quagga", f.user(Role.CLERK)) == set(papers.values())
    # The excerpt still comes from the paper's text; the title from the paper.
    (hit, *_) = [h for h in search("habitat", ANON) if h.obj.id == papers["first"]]
    assert "Quagga habitat survey" in hit.excerpt and hit.title == "Survey"
    # A paper is still found by its own title, which is not in the text.
    assert _found("addendum", ANON) == {papers["second"]}


def test_a_paper_made_exempt_on_the_working_copy_is_withdrawn_at_once(council, db, f):
    """A visibility made stricter applies to the published copy at once: the text the paper
    shares with other papers no longer finds it for the public."""
    from app.models import Document

    _ours, _theirs, papers = council
    second = db.session.get(Document, papers["second"])
    with db.session.no_autoflush:
        second.public_interest_reason = REASON
        second.exempt_paragraphs = [3]
        second.visibility = Visibility.EXEMPT
    db.session.commit()
    assert _found("quagga", ANON) == {papers["first"]}


def test_removing_the_last_paper_of_a_file_frees_its_text(db, f):
    c = f.committee(regime=Regime.NONE)
    published, draft = f.meeting(c), f.meeting(c)
    kept = _upload(published, "Survey")
    agenda.add_item(published, title="Other business")
    publication.publish_agenda(published)
    other = _upload(draft, "Survey (draft)")
    db.session.commit()
    assert _texts() == 1

    remove_document(other)
    db.session.commit()
    assert _texts() == 1  # still the published meeting's paper's
    assert _found("quagga", ANON) == {kept.id}

    kept_id = kept.id
    remove_document(kept)
    db.session.commit()
    # Still on the published revision until a supplement takes it off.
    assert _texts() == 1
    assert _found("quagga", ANON) == {kept_id}
    assert _found("quagga", f.user(Role.CLERK)) == set()
    publication.publish_agenda(published)
    db.session.commit()
    assert _texts() == 0
    assert db.session.scalar(select(func.count()).select_from(_text_index(db))) == 0
    assert _found("quagga", ANON) == set()
    assert _found("quagga", f.user(Role.CLERK)) == set()


def test_a_meeting_deleted_takes_its_text_with_it(db, f):
    from app.models import Meeting

    c = f.committee(regime=Regime.NONE)
    m = f.meeting(c)
    _upload(m, "Survey")
    db.session.commit()
    assert _texts() == 1
    db.session.delete(db.session.get(Meeting, m.id))
    db.session.commit()
    assert _texts() == 0
    assert _found("quagga", f.user(Role.CLERK)) == set()


def test_papers_found_by_their_text_are_read_in_stable_batches(db, f, monkeypatch):
    """Matches are read in batches; a text stands for all its papers at its rank, and only the
    texts that can reach a batch are followed to their papers: none is missed or read twice."""
    from app.search import services as search_services

    monkeypatch.setattr(search_services, "MAX_CANDIDATES", 3)
    c = f.committee()
    meetings = [f.published_meeting(c), f.published_meeting(c)]
    papers = set()
    for n in range(5):
        text_content = "quokka " * (n + 1) + "among the other words of a long report " * 5
        for m in meetings:
            item = f.item(m, f"Report {n}")
            papers.add(
                f.document(item, f"Paper {n}", sha256=f"{n:064x}", text_content=text_content).id
            )
    db.session.commit()
    assert _texts() == 5
    for reader in (ANON, f.user(Role.CLERK)):
        hits = search("quokka", reader)
        assert [h.obj.id for h in hits if h.obj.id in papers] == [h.obj.id for h in hits]
        assert len(hits) == 10 and {h.obj.id for h in hits} == papers
        # The file with the word most often ranks best, for both its papers.
        assert [h.title for h in hits[:2]] == ["Paper 4", "Paper 4"]
        assert [h.obj.id for h in search("quokka", reader, limit=4)] == [h.obj.id for h in hits[:4]]


# --- what a search costs ---------------------------------------------------------------------

PATHS = ["/search?q=quagga", "/api/v1/search?q=quagga", "/search?q=survey+habitat"]


class Record:
    """Committees whose meetings each carry the same file twice (a public paper and an exempt
    one, on a public item and an exempt one) and an item named after it, published; grown a
    few meetings at a time."""

    def __init__(self, db, f):
        self.db, self.f = db, f
        committees = [f.committee(regime=Regime.NONE, publish_draft_minutes=True) for _ in range(2)]
        # Ids, not rows: each count starts with nothing loaded.
        self.committee_ids = [c.id for c in committees]
        member, clerk = f.member_user(committees[0]), f.user(Role.CLERK)
        self.readers = {"member": (member.email, member.id), "clerk": (clerk.email, clerk.id)}
        self.sha256 = "a" * 64

    def grow(self, meetings: int) -> None:
        f = self.f
        committees = [self.db.session.get(Committee, cid) for cid in self.committee_ids]
        for n in range(meetings):
            c = committees[n % 2]
            m = f.meeting(c)
            public = f.item(m, "Quagga survey")
            exempt = f.exempt_item(m, "Quagga land", paragraphs=(3,))
            text = "Quagga habitat survey across the borough."
            f.document(public, "Survey", sha256=self.sha256, text_content=text)
            paper = f.document(
                exempt,
                "Survey",
                sha256=self.sha256,
                text_content=text,
                visibility=Visibility.EXEMPT,
                public_interest_reason=REASON,
            )
            paper.exempt_paragraphs = [3]
            # A sub-item (whose visibility asks its parent's) and minutes of both items.
            agenda.add_item(m, parent=public, title="Quagga count")
            publication.publish_agenda(m)
            for minute in minutes.draft_minutes(m):
                minutes.save_minute(minute, "The quagga survey was discussed.", minute.version)
                minutes.add_resolution(minute, "That the quagga survey be noted.", "noted")
            minutes.publish_minutes(m)
        self.db.session.commit()


def _count(client, path: str, headers: dict) -> tuple[int, int]:
    statements, response = counted_get(client, path, headers)
    hits = response.get_json()["total"] if path.startswith("/api/") else None
    return statements, hits


def _reader(app, record, role):
    client, headers = app.test_client(), {}
    if role in record.readers:
        email, user_id = record.readers[role]
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302
        headers = {"Authorization": f"Bearer {issue_token(ext.session.get(User, user_id))}"}
        ext.session.commit()
    return client, headers


@pytest.mark.parametrize("role", ["anonymous", "member", "clerk"])
def test_a_search_costs_the_same_statements_however_many_meetings_match(app, db, f, role):
    record = Record(db, f)
    record.grow(2)
    client, token = _reader(app, record, role)

    def counts():
        return {
            path: _count(client, path, token if path.startswith("/api/") else {}) for path in PATHS
        }

    few = counts()
    record.grow(6)
    many = counts()
    # More meetings match (so a count that grows with them would show)...
    api = "/api/v1/search?q=quagga"
    assert many[api][1] > few[api][1] > 0, (few[api], many[api])
    # ...for the same statements.
    grew = {path: (few[path][0], many[path][0]) for path in PATHS if many[path][0] > few[path][0]}
    assert not grew, f"more statements with more matching meetings, as {role}: {grew}"


# --- the migration ---------------------------------------------------------------------------

SHA_KEPT, SHA_GONE = "a" * 64, "b" * 64


def _before_texts(conn) -> None:
    """At b15a0c0revs01: one file as papers in two meetings (working and published copies),
    and a paper no longer on the working copy that the published revision still carries (its
    file known only from the snapshot)."""
    now = "CURRENT_TIMESTAMP"
    conn.execute(
        text(
            "INSERT INTO committees (id, name, slug, timezone, regime, first_minute_number, "
            "publish_draft_minutes, sections, agenda_template, archived, created_at, updated_at) "
            f"VALUES (1, 'C', 'c', 'Europe/London', 'none', 1, false, '[]', '[]', false, {now}, "
            f"{now})"
        )
    )
    for mid in (1, 2):
        conn.execute(
            text(
                "INSERT INTO meetings (id, committee_id, starts_at, timezone, status, ical_uid, "
                "ical_sequence, agenda_state, agenda_revision, minutes_state, created_at, "
                f"updated_at, version) VALUES (:id, 1, {now}, 'Europe/London', 'scheduled', "
                f":uid, 0, 'published', 1, 'none', {now}, {now}, 1)"
            ),
            {"id": mid, "uid": f"u{mid}"},
        )
        conn.execute(
            text(
                "INSERT INTO agenda_items (id, meeting_id, position, kind, title, visibility, "
                f"urgent, created_at, updated_at, version) VALUES (:id, :id, 0, 'business', "
                f"'Budget', 'public', false, {now}, {now}, 1)"
            ),
            {"id": mid},
        )
        conn.execute(
            text(
                "INSERT INTO documents (id, agenda_item_id, position, title, filename, "
                "content_type, sha256, size_bytes, page_count, visibility, text_content, "
                f"uploaded_at) VALUES (:id, :id, 0, 'Survey', 's.pdf', 'application/pdf', :sha, "
                f"10, 1, 'public', 'Quagga habitat survey', {now})"
            ),
            {"id": mid, "sha": SHA_KEPT},
        )
    paper = {"id": 9, "sha256": SHA_GONE, "title": "Withdrawn"}
    conn.execute(
        text(
            "INSERT INTO agenda_publications (id, meeting_id, revision, published_at, late, "
            f"snapshot) VALUES (1, 2, 1, {now}, false, :snapshot)"
        ),
        {"snapshot": json.dumps({"items": [{"id": 2, "documents": [paper]}]})},
    )
    entries = [
        ("document", 1, 1, "working", "Survey", "Quagga habitat survey"),
        ("document", 1, 1, "published", "Survey", "Quagga habitat survey"),
        ("document", 2, 2, "working", "Survey", "Quagga habitat survey"),
        ("document", 9, 2, "published", "Withdrawn", "Numbat census"),
        ("item", 1, 1, "working", "Budget", ""),
    ]
    for kind, ref_id, meeting_id, copy, title, body in entries:
        conn.execute(
            text(
                "INSERT INTO search_entries (kind, ref_id, meeting_id, committee_id, title, "
                f"body, copy, updated_at) VALUES (:kind, :ref, :m, 1, :title, :body, :copy, {now})"
            ),
            {"kind": kind, "ref": ref_id, "m": meeting_id, "title": title, "body": body}
            | {"copy": copy},
        )


def _matches(conn, table_name: str, word: str) -> int:
    if conn.dialect.name == "sqlite":
        query = f"SELECT count(*) FROM {table_name} WHERE {table_name} MATCH :w"
    else:
        query = (
            f"SELECT count(*) FROM {table_name} "
            "WHERE fulltext @@ websearch_to_tsquery('english', :w)"
        )
    return conn.execute(text(query), {"w": word}).scalar()


def test_the_migration_moves_papers_texts_into_one_per_file_and_back(tmp_path):
    from tests.core.test_migrations import _flask, empty_database

    with empty_database(tmp_path) as url:
        result = _flask(["db", "upgrade", "b15a0c0revs01"], url, tmp_path)
        assert result.returncode == 0, result.stderr
        engine = create_engine(normalise_database_url(url))
        entries_index = "search_fts" if engine.dialect.name == "sqlite" else "search_entries"
        try:
            with engine.begin() as conn:
                _before_texts(conn)
            result = _flask(["db", "upgrade"], url, tmp_path)
            assert result.returncode == 0, result.stderr
            with engine.connect() as conn:
                texts = conn.execute(text("SELECT sha256, body FROM search_texts")).all()
                entries = conn.execute(
                    text("SELECT kind, ref_id, copy, sha256, body FROM search_entries ORDER BY id")
                ).all()
                found = {w: _matches(conn, TEXT_FTS, w) for w in ("quagga", "numbat")}
                in_entries = _matches(conn, entries_index, "quagga")
                by_title = _matches(conn, entries_index, "withdrawn")
            result = _flask(["db", "downgrade", "b15a0c0revs01"], url, tmp_path)
            assert result.returncode == 0, result.stderr
            with engine.connect() as conn:
                bodies = conn.execute(text("SELECT body FROM search_entries ORDER BY id")).all()
                back = _matches(conn, entries_index, "quagga")
        finally:
            engine.dispose()
    assert sorted(map(tuple, texts)) == [
        (SHA_KEPT, "Quagga habitat survey"),
        (SHA_GONE, "Numbat census"),
    ]
    assert [tuple(e) for e in entries] == [
        ("document", 1, "working", SHA_KEPT, ""),
        ("document", 1, "published", SHA_KEPT, ""),
        ("document", 2, "working", SHA_KEPT, ""),
        ("document", 9, "published", SHA_GONE, ""),
        ("item", 1, "working", None, ""),
    ]
    # Each text indexed once; the entries no longer carry it, but keep their titles.
    assert found == {"quagga": 1, "numbat": 1}
    assert (in_entries, by_title) == (0, 1)
    assert [b for (b,) in bodies] == ["Quagga habitat survey"] * 3 + ["Numbat census", ""]
    assert back == 3
