from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.agenda import services as agenda
from app.core.errors import Conflict, ValidationError
from app.minutes import services
from app.models import MinuteRevision, MinutesState, ResolutionKind, RevisionKind


@pytest.fixture
def committee(f):
    return f.committee(first_minute_number=208)


def _meeting_with_items(f, committee, when, titles):
    m = f.meeting(committee, starts_at=when)
    for t in titles:
        agenda.add_item(m, title=t)
    return m


def test_numbers_continue_across_meetings_in_agenda_order(db, f, committee):
    may = _meeting_with_items(
        f,
        committee,
        datetime(2013, 5, 22, 13, tzinfo=UTC),
        ["Minutes", "Issues and concerns", "Voice"],
    )
    july = _meeting_with_items(
        f, committee, datetime(2013, 7, 17, 13, tzinfo=UTC), ["Minutes", "Action plan"]
    )
    first = services.draft_minutes(may)
    assert [(m.number, m.title) for m in first] == [
        (208, "Minutes"),
        (209, "Issues and concerns"),
        (210, "Voice"),
    ]
    assert may.minutes_state == MinutesState.DRAFT
    assert [m.number for m in services.draft_minutes(july)] == [211, 212]
    # Adding an item later gives it the next number; existing numbers never move.
    agenda.add_item(may, title="Late item", position=0)
    assert [m.number for m in services.draft_minutes(may)] == [213]
    assert services.draft_minutes(may) == []


def test_numbers_are_never_reused(db, f, committee):
    m = _meeting_with_items(f, committee, datetime(2013, 5, 22, 13, tzinfo=UTC), ["A", "B"])
    minutes = services.draft_minutes(m)
    db.session.delete(minutes[-1])  # even if the highest is removed...
    db.session.flush()
    standalone = services.add_standalone_minute(m, "Vote of thanks")
    assert standalone.number == 210
    assert services.next_minute_number(committee) == 211


def test_urgent_item_reason_carried_into_its_minute(db, f, committee):
    m = f.meeting(committee)
    agenda.add_item(
        m,
        title="Flooding",
        urgent=True,
        urgent_reason="A decision is needed before the next meeting.",
    )
    (minute,) = services.draft_minutes(m)
    assert "A decision is needed before the next meeting." in minute.text
    assert "matter of urgency" in minute.text


def test_optimistic_locking_refuses_the_second_save_with_both_texts(db, f, committee):
    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Budget"])
    (minute,) = services.draft_minutes(m)
    v = minute.version
    services.save_minute(minute, "Clerk A's text", expected_version=v)
    with pytest.raises(Conflict) as info:
        services.save_minute(minute, "Clerk B's text", expected_version=v)
    assert info.value.status == 409
    assert info.value.errors["text"] == ["Clerk A's text"]
    assert minute.text == "Clerk A's text"
    versions = db.session.scalars(
        select(MinuteRevision.text)
        .where(MinuteRevision.minute_id == minute.id)
        .order_by(MinuteRevision.version)
    ).all()
    assert versions == ["", "Clerk A's text"]


def test_resolutions_numbered_and_validated(db, f, committee):
    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Plan"])
    (minute,) = services.draft_minutes(m)
    r1 = services.add_resolution(minute, "That the report be noted.", "noted")
    r2 = services.add_resolution(
        minute, "That the plan be adopted.", votes_for=7, votes_against=2, abstentions=1
    )
    assert (r1.ordinal, r2.ordinal) == (1, 2) and r1.kind == ResolutionKind.NOTED
    assert r2.reference.endswith("(2)")
    for kwargs, field in [
        ({"text": " "}, "text"),
        ({"text": "x", "kind": "vetoed"}, "kind"),
        ({"text": "x", "votes_for": -1}, "votes_for"),
        ({"text": "x", "kind": "recommended"}, "recommended_to"),
    ]:
        with pytest.raises(ValidationError) as info:
            services.add_resolution(minute, **kwargs)
        assert field in info.value.errors


def test_approval_locks_and_corrections_keep_history(db, f, committee):
    may = _meeting_with_items(f, committee, datetime(2013, 5, 22, 13, tzinfo=UTC), ["Voice"])
    july = f.meeting(committee, starts_at=datetime(2013, 7, 17, 13, tzinfo=UTC))
    other = f.meeting(f.committee(), starts_at=datetime(2013, 7, 17, 13, tzinfo=UTC))
    (minute,) = services.draft_minutes(may)
    services.save_minute(minute, "Sue Wilson gave a presentation.", minute.version)
    services.publish_minutes(may)
    with pytest.raises(ValidationError):
        services.approve_minutes(may, other)
    earlier = f.meeting(committee, starts_at=may.starts_at - timedelta(days=60))
    with pytest.raises(ValidationError):
        services.approve_minutes(may, earlier)
    services.approve_minutes(
        may,
        july,
        "Subject to the inclusion of Karen Smith's apologies.",
        chair_name="Councillor Lakin",
        signed_on=date(2013, 7, 17),
    )
    assert may.minutes_state == MinutesState.APPROVED and may.approved_at_meeting == july
    with pytest.raises(Conflict):
        services.save_minute(minute, "Rewritten", minute.version)
    with pytest.raises(Conflict):
        services.add_resolution(minute, "That history be rewritten.")
    with pytest.raises(Conflict):
        services.draft_minutes(may)
    with pytest.raises(ValidationError):
        services.correct_minute(minute, "Sue Wilson gave a presentation on feedback.", " ")
    services.correct_minute(
        minute, "Sue Wilson gave a presentation on feedback.", "Title of the presentation omitted"
    )
    history = [(r.kind, r.text) for r in minute.revisions]
    assert (RevisionKind.EDIT, "Sue Wilson gave a presentation.") in history
    assert history[-1] == (RevisionKind.CORRECTION, "Sue Wilson gave a presentation on feedback.")
    with pytest.raises(Conflict):
        services.approve_minutes(may, july)


def test_exclusion_item_minute_carries_its_resolution(db, f, committee):
    m = f.meeting(committee)
    agenda.add_item(
        m,
        title="Land sale",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Negotiations are continuing.",
    )
    minutes = services.draft_minutes(m)
    exclusion = next(x for x in minutes if x.title == "Exclusion of the press and public")
    assert "Paragraph 3 of Part 1 of Schedule 12A" in exclusion.resolutions[0].text
    assert [x.title for x in minutes] == ["Exclusion of the press and public", "Land sale"]


def test_named_votes(db, f, committee):
    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Plan"])
    (minute,) = services.draft_minutes(m)
    a, b, c = f.person("A"), f.person("B"), f.person("C")
    for p in (a, b, c):
        f.membership(committee, p)
    outsider = f.person("Not a member")
    f.membership(committee, a, "vice_chair")  # a second voting membership: still one vote
    assert [p.name for p in services.voters(m)].count("A") == 1
    r = services.add_resolution(
        minute,
        "That the plan be adopted.",
        named_votes=[(a.id, "for"), (b.id, "for"), (c.id, "against")],
    )
    assert (r.votes_for, r.votes_against, r.abstentions) == (2, 1, 0)
    assert {(v.person.name, v.vote.value) for v in r.votes} == {
        ("A", "for"),
        ("B", "for"),
        ("C", "against"),
    }
    for bad in (
        [(a.id, "maybe")],
        [(999999, "for")],
        [(outsider.id, "for")],  # only those who may vote at this meeting
        [(a.id, "for"), (a.id, "against")],
    ):
        with pytest.raises(ValidationError) as info:
            services.add_resolution(minute, "That x.", named_votes=bad)
        assert "votes" in info.value.errors


def test_named_votes_by_member_name_and_counts_follow(db, f, committee):
    from app.meetings import attendance

    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Plan"])
    lakin = f.person("Lakin", honorific="Councillor")
    wilson, absent = f.person("Sue Wilson"), f.person("Karen Smith")
    for p in (lakin, wilson, absent):
        f.membership(committee, p)
    sub = f.person("Sam Sub")
    attendance.set_attendance(m, absent, "apologies")
    attendance.set_attendance(m, sub, "substitute", substitute_for=absent)
    # Karen Smith sent apologies and Sam Sub stands in for her: his vote, not hers.
    assert {p.name for p in services.voters(m)} == {"Lakin", "Sue Wilson", "Sam Sub"}
    (minute,) = services.draft_minutes(m)
    r = services.add_resolution(
        minute,
        "That the plan be adopted.",
        named_votes=[
            ("councillor lakin", "for"),
            ("Sue  Wilson", "against"),
            ("Sam Sub", "abstain"),
        ],
    )
    assert (r.votes_for, r.votes_against, r.abstentions) == (1, 1, 1)
    # Counts that contradict the names are refused; matching ones are accepted.
    with pytest.raises(ValidationError) as info:
        services.add_resolution(minute, "That x.", votes_for=5, named_votes=[("Sue Wilson", "for")])
    assert "The named votes give 1 here, not 5" in info.value.errors["votes_for"][0]
    ok = services.add_resolution(
        minute, "That y.", votes_for=1, votes_against=0, named_votes=[(wilson.id, "for")]
    )
    assert (ok.votes_for, ok.votes_against, ok.abstentions) == (1, 0, 0)
    # A name that is no voter's is refused, and nothing is stored.
    with pytest.raises(ValidationError) as info:
        services.add_resolution(minute, "That z.", named_votes=[("Nobody Known", "for")])
    assert "No member called 'Nobody Known'" in info.value.errors["votes"][0]
    assert [x.ordinal for x in minute.resolutions] == [1, 2]


def test_deleted_minute_numbers_are_never_reused(db, f, committee):
    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Plan"])
    # A minute recorded without going through the numbering (as imported history might be).
    old = f.minute(m, 230, "Imported")
    assert committee.last_minute_number in (None, 0) or committee.last_minute_number < 230
    assert services.delete_minute(old) == 230
    (plan,) = services.draft_minutes(m)
    assert plan.number == 231
    m.minutes_state = MinutesState.APPROVED
    with pytest.raises(Conflict):
        services.delete_minute(plan)


def test_only_those_entitled_at_the_meeting_have_a_named_vote(db, f, committee):
    from app.meetings import attendance

    m = _meeting_with_items(f, committee, datetime(2026, 5, 22, 13, tzinfo=UTC), ["Plan"])
    (minute,) = services.draft_minutes(m)
    present, apologetic, replaced, sub = (f.person(n) for n in ("P", "Ap", "Rep", "Sub"))
    for p in (present, apologetic, replaced):
        f.membership(committee, p)
    attendance.set_attendance(m, apologetic, "apologies")
    assert apologetic not in services.voters(m)  # apologies sent: no vote, register or not
    attendance.set_attendance(m, present, "present")
    attendance.set_attendance(m, sub, "substitute", substitute_for=replaced)
    assert {p.name for p in services.voters(m)} == {"P", "Sub"}
    for bad in ([(apologetic.id, "for")], [(replaced.id, "for")], [(apologetic, "for")]):
        with pytest.raises(ValidationError) as info:
            services.add_resolution(minute, "That x.", named_votes=bad)
        assert "may have a named vote" in info.value.errors["votes"][0]
    r = services.add_resolution(
        minute, "That the plan be adopted.", named_votes=[(present.id, "for"), (sub.id, "for")]
    )
    assert (r.votes_for, r.votes_against, r.abstentions) == (2, 0, 0)
