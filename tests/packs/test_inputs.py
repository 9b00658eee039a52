"""A pack's inputs: its content key is their hash, so it moves with anything the pack shows
and with nothing else; the manifest beside a built pack is those inputs, and an older pack is
served while a rebuild fails only if nothing it shows has been withdrawn since.

The published pack prints the last published revision of the agenda: an edit of the working
copy reaches it only through a supplement, while the draft pack (the working copy's) shows it
at once. Live data (previous minutes, the action log, membership, a visibility made stricter)
reaches the published pack at once."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from app.actions import services as actions
from app.actions.models import ActionStatus, Rag
from app.agenda import publication as agenda_publication
from app.agenda import revisions
from app.agenda import services as agenda
from app.agenda.documents import add_document, document_path, remove_document
from app.agenda.models import Visibility
from app.extensions import db
from app.meetings import attendance
from app.minutes import services as minutes
from app.models import AuditEvent
from app.packs import builder, cache, inputs
from tests.packs.test_packs import _clock
from tests.pdfs import make_pdf

REASON = "Commercial negotiations with the preferred bidder are continuing."
VARIANTS = (builder.PUBLIC, builder.MEMBERS)


@pytest.fixture
def s(db, f):
    c = f.committee("Inputs Board", clerk_name="Jo Clerk", clerk_email="jo@example.org")
    c.publish_draft_minutes = True  # the public pack carries the previous minutes too
    chair = f.person("Lakin", honorific="Councillor")
    f.membership(c, chair, "chair")
    officer = f.person("Olive Officer")
    m = f.meeting(c)
    earlier = f.meeting(c, starts_at=m.starts_at.replace(year=2020))
    budget = agenda.add_item(earlier, title="Budget")
    (minute,) = minutes.draft_minutes(earlier)
    minutes.save_minute(minute, "The budget was presented.", minute.version)
    resolution = minutes.add_resolution(minute, "That the budget be approved.")
    minutes.publish_minutes(earlier)
    attendance.set_attendance(earlier, chair, "present", in_chair=True)
    declaration = attendance.add_declaration(
        earlier, budget.id, chair, "other_registrable", "Trustee"
    )
    action = actions.create_action(
        c,
        "Publish the budget book",
        owner_id=officer.id,
        resolution=resolution,
        due_date=date(2030, 1, 31),
    )
    agenda.apply_template(m)
    report = agenda.add_item(m, title="Pharmacy", section="For Decision", purpose="To agree")
    paper = add_document(report, io.BytesIO(make_pdf(2, "Pharmacy paper")), "p.pdf", "Pharmacy")
    odd = agenda.add_item(m, title="Odd", section="For Decision")
    broken = add_document(odd, io.BytesIO(make_pdf(1, "Odd paper")), "o.pdf", "Odd paper")
    exempt = agenda.add_item(
        m, title="Land", visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    add_document(exempt, io.BytesIO(make_pdf(1, "Land values")), "l.pdf", "Land values")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    return {
        "f": f,
        "committee": c,
        "chair": chair,
        "meeting": m,
        "earlier": earlier,
        "minute": minute,
        "resolution": resolution,
        "declaration": declaration,
        "action": action,
        "report": report,
        "paper": paper,
        "broken": broken,
        "odd": odd,
        "exempt": exempt,
    }


def _keys(db, m, draft: bool = False) -> dict[str, str]:
    """The published packs' keys (the latest revision), or the draft packs' (the working
    copy)."""
    db.session.commit()
    db.session.expire_all()
    if not draft:
        return {v: builder.content_key(m, v) for v in VARIANTS}
    copy = revisions.working_copy(m)
    return {
        v: builder.content_key(m, v, inputs.canonical(inputs.pack_inputs(m, v, copy)))
        for v in VARIANTS
    }


def _supplement(db, m) -> None:
    """Publish the working copy's changes (the meeting is weeks away: not late)."""
    agenda_publication.publish_agenda(m)
    db.session.commit()


# What each change is, and which packs show it.
CHANGES = {
    "item title": (lambda s: agenda.update_item(s["report"], title="Pharmacy needs"), VARIANTS),
    "item purpose": (lambda s: agenda.update_item(s["report"], purpose="To note"), VARIANTS),
    "exempt item's purpose": (
        lambda s: agenda.update_item(s["exempt"], purpose="Sell the depot"),
        (builder.MEMBERS,),
    ),
    "item visibility": (
        lambda s: agenda.update_item(
            s["report"], visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
        ),
        VARIANTS,
    ),
    "exempt item's paragraphs": (
        lambda s: agenda.update_item(s["exempt"], exempt_paragraphs=[3, 4]),
        VARIANTS,
    ),
    "urgent item": (
        lambda s: agenda.update_item(s["report"], urgent=True, urgent_reason="Deadline"),
        VARIANTS,
    ),
    "paper replaced": (
        lambda s: (
            remove_document(s["paper"]),
            add_document(s["report"], io.BytesIO(make_pdf(2, "Revised")), "p.pdf", "Pharmacy"),
        ),
        VARIANTS,
    ),
    "paper title": (lambda s: setattr(s["paper"], "title", "Pharmacy (revised)"), VARIANTS),
    "paper added": (
        lambda s: add_document(s["report"], io.BytesIO(make_pdf(1, "Extra")), "e.pdf", "Extra"),
        VARIANTS,
    ),
    "paper made exempt": (
        lambda s: (
            setattr(s["paper"], "public_interest_reason", REASON),
            setattr(s["paper"], "visibility", Visibility.EXEMPT),
            setattr(s["paper"], "exempt_paragraphs", [3]),
        ),
        VARIANTS,
    ),
    "membership name": (lambda s: setattr(s["chair"], "name", "Lakin-Smith"), VARIANTS),
    "member added": (
        lambda s: s["f"].membership(s["committee"], s["f"].person("New Member")),
        VARIANTS,
    ),
    "committee clerk": (lambda s: setattr(s["committee"], "clerk_name", "Sam Clerk"), VARIANTS),
    "committee name": (lambda s: setattr(s["committee"], "name", "Inputs Committee"), VARIANTS),
    "venue": (lambda s: setattr(s["meeting"], "venue", "Town Hall"), VARIANTS),
    "publication revision": (
        lambda s: agenda_publication.publish_agenda(s["meeting"], summary="Late paper"),
        VARIANTS,
        # A supplement needs something new; that change is in the key before it is published.
        lambda s: agenda.update_item(s["report"], title="Pharmacy needs"),
    ),
    "previous minute text": (
        lambda s: minutes.save_minute(s["minute"], "The budget was debated.", s["minute"].version),
        VARIANTS,
    ),
    "resolution text": (
        lambda s: setattr(s["resolution"], "text", "That the budget be deferred."),
        VARIANTS,
    ),
    "resolution vote counts": (lambda s: setattr(s["resolution"], "votes_for", 7), VARIANTS),
    "declaration nature": (lambda s: setattr(s["declaration"], "nature", "Governor"), VARIANTS),
    "attendance": (
        lambda s: attendance.set_attendance(
            s["earlier"], s["f"].person("Amy Apologies"), "apologies"
        ),
        VARIANTS,
    ),
    "previous minutes made exempt": (
        lambda s: agenda.update_item(
            s["minute"].item,
            visibility="exempt",
            exempt_paragraphs=[3],
            public_interest_reason=REASON,
        ),
        VARIANTS,
    ),
    "drafts unpublished": (
        lambda s: setattr(s["committee"], "publish_draft_minutes", False),
        (builder.PUBLIC,),
    ),
    "action closed": (
        lambda s: (
            setattr(s["action"], "status", ActionStatus.COMPLETE),
            setattr(s["action"], "closed_at", datetime.now(UTC)),
        ),
        VARIANTS,
    ),
    "action RAG": (lambda s: setattr(s["action"], "rag", Rag.RED), VARIANTS),
    "action due date": (
        lambda s: setattr(s["action"], "due_date", date(2030, 2, 28)),
        VARIANTS,
    ),
    "action owner's name": (
        lambda s: setattr(s["action"].owner, "name", "Olive Officer-Jones"),
        VARIANTS,
    ),
    "action update": (
        lambda s: actions.post_update(s["action"], s["f"].user("clerk"), note="On track"),
        VARIANTS,
    ),
}

# Edits of the agenda's working copy: a published pack shows them only once a supplement
# publishes them. (A visibility made stricter is not among them: it applies at once.)
AGENDA_EDITS = {
    "item title",
    "item purpose",
    "exempt item's purpose",
    "exempt item's paragraphs",
    "urgent item",
    "paper replaced",
    "paper title",
    "paper added",
}
# No door renames a paper, and a supplement lists (so publishes) papers added or removed, not
# renamed: a rename alone leaves nothing to publish, so only the draft pack is checked.
UNPUBLISHABLE = {"paper title"}


@pytest.mark.parametrize("change", CHANGES)
def test_changing_anything_a_pack_shows_changes_its_key(db, s, change):
    m = s["meeting"]
    mutate, variants, *prepare = CHANGES[change]
    for step in prepare:
        step(s)
    before, draft_before = _keys(db, m), _keys(db, m, draft=True)
    mutate(s)
    after, draft = _keys(db, m), _keys(db, m, draft=True)
    if change not in AGENDA_EDITS:
        moved = {v for v in VARIANTS if after[v] != before[v]}
        assert moved == set(variants), change
        return
    # The draft pack shows the edit to those who may see it, and only to them...
    assert {v for v in VARIANTS if draft[v] != draft_before[v]} == set(variants), change
    # ...the published pack not before a supplement publishes it...
    assert after == before, change
    if change in UNPUBLISHABLE:
        return
    _supplement(db, m)
    published = _keys(db, m)
    assert all(published[v] != before[v] for v in VARIANTS), change
    # ...which then shows just what the draft did.
    assert published == _keys(db, m, draft=True), change


def test_changing_nothing_changes_no_key_not_even_forty_days_later(db, s, monkeypatch):
    m = s["meeting"]
    before = _keys(db, m)
    gathered = {v: inputs.canonical(inputs.pack_inputs(m, v)) for v in VARIANTS}
    assert _keys(db, m) == before
    # What the pack does not show moves nothing: an action's progress between open states (the
    # log lists open actions without their state), a paper's file name.
    s["action"].status = ActionStatus.IN_PROGRESS
    s["paper"].filename = "renamed.pdf"
    assert _keys(db, m) == before
    # An unrelated meeting of another committee moves nothing either.
    other = s["f"].meeting(s["f"].committee("Other Board"))
    agenda.add_item(other, title="Elsewhere")
    assert _keys(db, m) == before
    _clock(monkeypatch, 40)
    assert _keys(db, m) == before
    assert {v: inputs.canonical(inputs.pack_inputs(m, v)) for v in VARIANTS} == gathered


def test_the_minutes_key_follows_the_minutes_and_nothing_else(db, s, monkeypatch):
    earlier = s["earlier"]

    def keys():
        db.session.commit()
        db.session.expire_all()
        return {r: builder.minutes_key(earlier, r) for r in (False, True)}

    before = keys()
    agenda.update_item(s["report"], title="Pharmacy needs")  # the next meeting's agenda
    _clock(monkeypatch, 40)
    assert keys() == before
    s["resolution"].text = "That the budget be deferred."
    assert all(keys()[r] != before[r] for r in (False, True))


def test_the_public_inputs_carry_nothing_of_what_the_public_may_not_see(db, s):
    m = s["meeting"]
    data = inputs.canonical(inputs.pack_inputs(m, builder.PUBLIC)).decode()
    assert "Land values" not in data  # the exempt paper's title
    agenda.update_item(s["exempt"], purpose="Sell the depot")
    agenda.update_item(
        s["minute"].item, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    db.session.commit()
    # The exempt purpose is not published yet; the previous minute is exempt at once.
    members = inputs.canonical(inputs.pack_inputs(m, builder.MEMBERS)).decode()
    assert "Sell the depot" not in members and "The budget was presented." in members
    # The supplement's list of changes goes on the public front sheet too.
    _supplement(db, m)
    for copy in (None, revisions.working_copy(m)):
        data = inputs.canonical(inputs.pack_inputs(m, builder.PUBLIC, copy)).decode()
        for secret in (
            "Sell the depot",
            "The budget was presented.",
            "budget be approved",
            "Trustee",
            "Land values",
        ):
            assert secret not in data, secret
    members = inputs.canonical(inputs.pack_inputs(m, builder.MEMBERS)).decode()
    assert "Sell the depot" in members and "The budget was presented." in members


# -- the fallback while a rebuild fails ------------------------------------------------------


def _stale_with_a_broken_rebuild(db, s, variant):
    """Build the pack, then lose the stored file of a paper that stays shown and make the pack
    stale: the old pack is what a reader gets now, and what it shows is in its manifest."""
    m = s["meeting"]
    good = cache.pack_file(m, variant)
    manifest = json.loads(good.with_suffix(".json").read_text())
    assert manifest == json.loads(inputs.canonical(inputs.pack_inputs(m, variant)))
    document_path(s["broken"]).unlink()
    agenda.update_item(s["odd"], title="Odd (revised)")
    _supplement(db, m)
    assert cache.pack_file(m, variant) == good
    return good


def _new_meeting_between(s):
    # Held since: its minutes (not written yet) are the previous ones now.
    s["f"].meeting(s["committee"], starts_at=s["earlier"].starts_at + timedelta(days=30))


def _withdraw_action(s):
    db.session.delete(s["action"])


WITHDRAWALS = {
    "item made exempt": lambda s: agenda.update_item(
        s["report"], visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    ),
    "paper removed": lambda s: remove_document(s["paper"]),
    "paper made exempt": lambda s: (
        setattr(s["paper"], "public_interest_reason", REASON),
        setattr(s["paper"], "visibility", Visibility.EXEMPT),
        setattr(s["paper"], "exempt_paragraphs", [3]),
    ),
    "previous minute made exempt": lambda s: agenda.update_item(
        s["minute"].item, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    ),
    "draft minutes unpublished": lambda s: setattr(s["committee"], "publish_draft_minutes", False),
    "action withdrawn": _withdraw_action,
    "previous meeting changed": _new_meeting_between,
}


# Withdrawn from the published agenda only by a supplement: until then the revision being
# served still carries it.
WITHDRAWN_BY_SUPPLEMENT = {"paper removed"}


@pytest.mark.parametrize("withdrawal", WITHDRAWALS)
def test_the_fallback_refuses_a_pack_showing_anything_withdrawn_since(db, s, withdrawal):
    m = s["meeting"]
    good = _stale_with_a_broken_rebuild(db, s, builder.PUBLIC)
    WITHDRAWALS[withdrawal](s)
    db.session.commit()
    if withdrawal in WITHDRAWN_BY_SUPPLEMENT:
        assert cache.pack_file(m, builder.PUBLIC) == good
        _supplement(db, m)
    failures = db.session.query(AuditEvent).filter_by(verb="pack_build_failed").count()
    with pytest.raises(cache.PackUnavailable, match="removed or withdrawn"):
        cache.pack_file(m, builder.PUBLIC)
    # Staff are told why the pack is unavailable.
    assert db.session.query(AuditEvent).filter_by(verb="pack_build_failed").count() == failures + 1
    assert cache.pack_problems(m)


@pytest.mark.parametrize("withdrawal", ["paper removed", "previous minute made exempt"])
def test_the_members_fallback_refuses_what_was_withdrawn_from_members(db, s, withdrawal):
    m = s["meeting"]
    _stale_with_a_broken_rebuild(db, s, builder.MEMBERS)
    if withdrawal == "paper removed":
        good = cache.pack_file(m, builder.MEMBERS)
        remove_document(s["paper"])
        db.session.commit()
        assert cache.pack_file(m, builder.MEMBERS) == good  # still in the revision served
        _supplement(db, m)
        with pytest.raises(cache.PackUnavailable):
            cache.pack_file(m, builder.MEMBERS)
    else:
        # Members still see exempt minutes: nothing was withdrawn from them.
        WITHDRAWALS[withdrawal](s)
        db.session.commit()
        assert cache.pack_file(m, builder.MEMBERS).exists()


@pytest.mark.parametrize(
    "change",
    ["item title", "paper added", "action RAG", "member added", "previous minute text"],
)
def test_the_fallback_accepts_a_change_that_withdraws_nothing(db, s, change):
    m = s["meeting"]
    good = _stale_with_a_broken_rebuild(db, s, builder.PUBLIC)
    CHANGES[change][0](s)
    db.session.commit()
    if change in AGENDA_EDITS:
        _supplement(db, m)
    assert cache.pack_file(m, builder.PUBLIC) == good


def test_a_manifest_that_is_not_inputs_does_not_fit(db, s):
    m = s["meeting"]
    good = _stale_with_a_broken_rebuild(db, s, builder.PUBLIC)
    good.with_suffix(".json").write_text(json.dumps({"items": [], "documents": []}))
    agenda.update_item(s["report"], title="Pharmacy needs")
    _supplement(db, m)
    with pytest.raises(cache.PackUnavailable):
        cache.pack_file(m, builder.PUBLIC)
