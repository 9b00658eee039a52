import io

import pytest
from flask_login import AnonymousUserMixin

from app.agenda import publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.minutes import services as minutes
from app.models import MinutesState, Role
from app.search.services import reindex_all, search
from tests.pdfs import make_pdf

ANON = AnonymousUserMixin()
REASON = "Commercial negotiations are continuing."


@pytest.fixture
def meeting(db, f):
    c = f.committee(publish_draft_minutes=True)
    m = f.published_meeting(c)
    public = agenda.add_item(
        m, title="Emergency hormonal contraception", purpose="To agree commissioning of services"
    )
    add_document(
        public,
        io.BytesIO(make_pdf(2, "Pharmacy provision across Rotherham")),
        "ehc.pdf",
        "EHC report",
    )
    exempt = agenda.add_item(
        m,
        title="Residential placements",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
        purpose="Placement costs zebracanary",
    )
    add_document(
        exempt,
        io.BytesIO(make_pdf(1, "Secret tender xylophonecanary")),
        "tender.pdf",
        "Tender prices",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    db.session.commit()
    return m


def titles(hits):
    return [(h.kind, h.title) for h in hits]


def test_finds_public_paper_text_but_not_exempt(meeting, db):
    assert [h.kind for h in search("pharmacy provision", ANON)] == ["document"]
    assert search("xylophonecanary", ANON) == []
    assert search("zebracanary", ANON) == []
    # The exempt item's title is public, as on the agenda.
    assert ("item", "Residential placements") in titles(search("residential", ANON))


def test_members_of_the_committee_find_exempt_text(meeting, db, f):
    member = f.member_user(meeting.committee)
    outsider = f.member_user(f.committee())
    assert [h.kind for h in search("xylophonecanary", member)] == ["document"]
    assert [h.kind for h in search("zebracanary", member)] == ["purpose"]
    assert search("xylophonecanary", outsider) == []
    assert search("xylophonecanary", f.user(Role.CLERK))


def test_draft_agenda_and_draft_minutes_are_not_found_by_the_public(db, f):
    c = f.committee(publish_draft_minutes=True)
    m = f.meeting(c)  # agenda not published
    agenda.add_item(m, title="Quokka budget")
    (minute,) = minutes.draft_minutes(m)
    minutes.save_minute(minute, "The quokka discussion was lively.", minute.version)
    minutes.add_resolution(minute, "That quokkas be noted.", "noted")
    db.session.commit()
    assert search("quokka", ANON) == []
    clerk = f.user(Role.CLERK)
    assert {h.kind for h in search("quokka", clerk)} == {"item", "minute", "resolution"}
    minutes.publish_minutes(m)
    db.session.commit()
    assert {h.kind for h in search("quokka", ANON)} == {"minute", "resolution"}


def test_index_follows_edits_and_deletions(meeting, db):
    item = next(i for i in meeting.items if i.title.startswith("Emergency"))
    agenda.update_item(item, title="Sexual health commissioning")
    db.session.commit()
    assert search("contraception", ANON) == []
    assert search("sexual health", ANON)
    agenda.delete_item(item)
    db.session.commit()
    assert search("sexual health", ANON) == []
    assert search("pharmacy", ANON) == []


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "NEAR(", "*", "   ", "col:value", "'"])
def test_odd_queries_do_not_break(meeting, db, query):
    search(query, ANON)


def test_phrases_and_reindex_all(meeting, db, f):
    assert search('"hormonal contraception"', ANON)
    assert search('"contraception hormonal"', ANON) == []
    assert reindex_all() == 1
    db.session.commit()
    assert search("pharmacy", ANON)
    f.with_minutes_state(meeting, MinutesState.APPROVED)


def test_changes_are_indexed_in_their_own_transaction(db, f):
    c = f.committee()
    m = f.published_meeting(c)
    db.session.commit()
    # Added without an explicit flush: the commit itself must index it.
    from app.models import AgendaItem

    db.session.add(AgendaItem(meeting=m, title="Wombat strategy", position=0))
    db.session.commit()
    assert [h.kind for h in search("wombat", ANON)] == ["item"]


def test_hidden_matches_never_crowd_out_visible_ones(db, f, monkeypatch):
    from app.search import services as search_services

    monkeypatch.setattr(search_services, "MAX_CANDIDATES", 2)
    c = f.committee()
    # Exempt papers on a published agenda: in the copy the public reads, but not theirs to
    # see. (A working copy's entries are left out of a public reader's batches altogether.)
    hidden = f.meeting(c)
    contracts = agenda.add_item(hidden, title="Contracts")
    for n in range(7):
        # Short titles that are nothing but the word rank best.
        add_document(
            contracts,
            io.BytesIO(make_pdf(1, "Prices")),
            f"n{n}.pdf",
            f"Numbat numbat {n}",
            visibility="exempt",
            exempt_paragraphs=[3],
            public_interest_reason=REASON,
        )
    publication.publish_agenda(hidden)
    shown = f.published_meeting(c)
    agenda.add_item(
        shown,
        title="A long public item that mentions the numbat once among many other words here",
    )
    db.session.commit()
    hits = search("numbat", ANON)
    assert [h.title for h in hits] == [
        "A long public item that mentions the numbat once among many other words here"
    ]
    # Staff see all eight, read in batches of two, in rank order.
    clerk_hits = search("numbat", f.user(Role.CLERK))
    assert len(clerk_hits) == 8 and clerk_hits[-1].title.startswith("A long public item")
    assert len(search("numbat", f.user(Role.CLERK), limit=3)) == 3
    # A search reads at most MAX_BATCHES batches, however many hidden matches there are.
    monkeypatch.setattr(search_services, "MAX_BATCHES", 2)
    assert search("numbat", ANON) == []  # the visible match ranks past the fourth
    assert len(search("numbat", f.user(Role.CLERK))) == 4


def test_only_the_newest_matches_are_ranked(db, f, monkeypatch):
    """A common word's every match is found, but only the newest RANKED of them are ranked:
    ranking a quarter of a million minutes was what made a council's search slow."""
    from app.search import services as search_services

    c = f.committee()
    m = f.meeting(c)
    # Short titles that are nothing but the word rank best; these are the oldest.
    old = [agenda.add_item(m, title=f"Quokka {n}").title for n in range(3)]
    new = [
        agenda.add_item(m, title=f"A longer item that mentions the quokka in passing {n}").title
        for n in range(3)
    ]
    db.session.commit()
    clerk = f.user(Role.CLERK)
    ranked_all = [h.title for h in search("quokka", clerk)]
    assert set(ranked_all[:3]) == set(old)
    monkeypatch.setattr(search_services, "RANKED", 3)
    bounded = [h.title for h in search("quokka", clerk)]
    assert bounded and set(bounded) <= set(new)
    # A query with fewer matches than the bound ranks them all.
    assert [h.title for h in search("quokka 0", clerk)][:1] == ["Quokka 0"]


def _entries(db):
    from sqlalchemy import select

    from app.search.models import SearchEntry

    return {
        (e.kind, e.ref_id): (e.id, e.title, e.body) for e in db.session.scalars(select(SearchEntry))
    }


def test_saving_one_record_reindexes_that_record_only(meeting, db, f):
    """Saving a minute must not re-read and rewrite every paper's text: the other entries
    keep their rows. A removal takes its papers' entries with it."""
    (minute, *_rest) = minutes.draft_minutes(meeting)
    late = agenda.add_item(meeting, title="Late report")
    add_document(late, io.BytesIO(make_pdf(1, "Numbat figures")), "late.pdf", "Late report")
    db.session.commit()
    before = _entries(db)
    minutes.save_minute(minute, "The partnership noted the quokkacanary report.", minute.version)
    db.session.commit()
    after = _entries(db)
    assert {key for key in after if after[key] != before.get(key)} == {("minute", minute.id)}
    assert [h.kind for h in search("quokkacanary", f.user(Role.CLERK))] == ["minute"]
    paper_ids = {d.id for d in late.documents}
    agenda.delete_item(late)
    db.session.commit()
    left = _entries(db)
    assert paper_ids and not {("document", i) for i in paper_ids} & set(left)
    assert ("item", late.id) not in left
    assert set(left) == set(after) - {("item", late.id)} - {("document", i) for i in paper_ids}


def test_a_supplement_indexes_only_the_papers_it_brings(db, f):
    """The published copy is indexed again with each revision, but a paper already indexed
    keeps its entry: its text is not tokenised again."""
    from app.agenda import publication as agenda_publication
    from app.models import Regime, SearchEntry

    m = f.meeting(f.committee(regime=Regime.NONE))
    item = agenda.add_item(m, title="Budget")
    first = add_document(item, io.BytesIO(make_pdf(1, "Wombat figures")), "a.pdf", "Budget")
    agenda_publication.publish_agenda(m)
    db.session.commit()

    def published(ref_id):
        return db.session.query(SearchEntry).filter_by(
            kind="document", ref_id=ref_id, copy="published"
        )

    kept = published(first.id).one().id
    second = add_document(item, io.BytesIO(make_pdf(1, "Platypus figures")), "b.pdf", "Annex")
    db.session.commit()
    assert published(second.id).count() == 0  # not published yet: the public cannot find it
    assert search("platypus", ANON) == []
    agenda_publication.publish_agenda(m)
    db.session.commit()
    assert published(first.id).one().id == kept
    assert published(second.id).count() == 1
    assert [h.obj.id for h in search("platypus", ANON)] == [second.id]
