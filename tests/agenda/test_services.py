import pytest

from app.agenda import services
from app.agenda.models import ItemKind, Visibility
from app.core.errors import Conflict, ValidationError

REASON = "The public interest in maintaining the exemption outweighs that in disclosure."


def numbers(meeting):
    return [(n, i.title) for i, n in meeting.numbered_items()]


@pytest.fixture
def meeting(db, f):
    m = f.meeting(f.committee())
    services.apply_template(m)
    return m


def test_template_gives_the_standard_items(meeting):
    assert [i.kind for i, _ in meeting.numbered_items()] == [
        ItemKind.APOLOGIES,
        ItemKind.DECLARATIONS,
        ItemKind.PREVIOUS_MINUTES,
        ItemKind.MATTERS_ARISING,
        ItemKind.AOB,
        ItemKind.NEXT_MEETING,
    ]
    with pytest.raises(Conflict):
        services.apply_template(meeting)


def test_business_goes_before_closing_items_and_numbers_follow(meeting):
    services.add_item(meeting, title="Budget monitoring", section="For Decision")
    report = services.add_item(meeting, title="Annual report", section="For Information")
    services.add_item(meeting, parent=report, title="Appendix discussion")
    services.add_item(meeting, parent=report, title="Questions", position=0)
    assert numbers(meeting)[4:] == [
        ("5", "Budget monitoring"),
        ("6", "Annual report"),
        ("6a", "Questions"),
        ("6b", "Appendix discussion"),
        ("7", "Any other business"),
        ("8", "Date and time of next meeting"),
    ]


def test_move_delete_and_reorder(meeting):
    a = services.add_item(meeting, title="A")
    b = services.add_item(meeting, title="B")
    services.move_item(b, -1)
    assert [t for _, t in numbers(meeting)][4:6] == ["B", "A"]
    services.move_item(b, -100)  # clamps to the top
    assert numbers(meeting)[0] == ("1", "B")
    services.delete_item(a)
    assert "A" not in [t for _, t in numbers(meeting)]
    ids = [i.id for i, _ in meeting.numbered_items()]
    services.reorder(meeting, list(reversed(ids)))
    assert [i.id for i, _ in meeting.numbered_items()] == list(reversed(ids))
    with pytest.raises(Conflict):
        services.reorder(meeting, ids[:-1])


def test_exempt_items_go_to_part_two_behind_the_exclusion_item(meeting):
    services.add_item(
        meeting,
        title="Land at Moorgate",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    services.add_item(meeting, title="Budget")
    titles = [t for _, t in numbers(meeting)]
    assert titles[-2:] == ["Exclusion of the press and public", "Land at Moorgate"]
    exclusion = next(i for i, _ in meeting.numbered_items() if i.kind == ItemKind.EXCLUSION)
    assert "Paragraph 3 of Part 1 of Schedule 12A" in exclusion.purpose
    staff = services.add_item(
        meeting,
        title="Staffing",
        visibility=Visibility.EXEMPT,
        exempt_paragraphs=[1, 4],
        public_interest_reason=REASON,
    )
    assert "Paragraphs 1, 3 and 4 of Part 1" in exclusion.purpose
    # Making the items public again removes Part 2 altogether.
    services.update_item(staff, visibility="public")
    land = next(i for i, _ in meeting.numbered_items() if i.title == "Land at Moorgate")
    services.update_item(land, visibility="public")
    assert all(i.kind != ItemKind.EXCLUSION for i in meeting.items)
    assert land.exempt_paragraphs == [] and land.public_interest_reason is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        (
            {"title": "X", "visibility": "exempt", "public_interest_reason": REASON},
            "exempt_paragraphs",
        ),
        (
            {"title": "X", "visibility": "exempt", "exempt_paragraphs": [2]},
            "public_interest_reason",
        ),
        (
            {
                "title": "X",
                "visibility": "exempt",
                "exempt_paragraphs": [8],
                "public_interest_reason": REASON,
            },
            "exempt_paragraphs",
        ),
        ({"title": "X", "visibility": "secret"}, "visibility"),
        ({"title": "X", "kind": "party"}, "kind"),
        ({"title": "X", "presenter_id": 99999}, "presenter_id"),
    ],
)
def test_bad_items_are_refused_with_the_field_named(meeting, fields, field):
    before = len(meeting.items)
    with pytest.raises(ValidationError) as info:
        services.add_item(meeting, **fields)
    assert field in info.value.errors
    assert len(meeting.items) == before


def test_urgent_item_needs_special_circumstances(meeting):
    with pytest.raises(ValidationError):
        services.add_item(meeting, title="Flood response", urgent=True)
    item = services.add_item(
        meeting,
        title="Flood response",
        urgent=True,
        urgent_reason="Flooding on 3 March needs a decision before April.",
    )
    assert item.urgent and item.urgent_reason.startswith("Flooding")


def test_stale_item_edit_is_a_conflict(meeting):
    item = services.add_item(meeting, title="Budget")
    version = item.version
    services.update_item(item, expected_version=version, title="Budget 2026/27")
    with pytest.raises(Conflict):
        services.update_item(item, expected_version=version, title="Budget (old copy)")
    assert item.title == "Budget 2026/27"


def _exempt(meeting, title="Land at Moorgate", paragraphs=(3,)):
    return services.add_item(
        meeting,
        title=title,
        visibility="exempt",
        exempt_paragraphs=list(paragraphs),
        public_interest_reason=REASON,
    )


def test_exclusion_wording_for_confidential_only_and_mixed_part_two(meeting):
    secret = services.add_item(meeting, title="Legal advice", visibility="confidential")
    exclusion = next(i for i in meeting.items if i.kind == ItemKind.EXCLUSION)
    # Confidential information is defined by s.100A(3), not Schedule 12A, and the public must
    # be excluded under s.100A(2).
    assert exclusion.purpose == (
        "That under Section 100A(2) of the Local Government Act 1972, the public be excluded "
        "from the meeting for the following items of business on the grounds that they involve "
        "the likely disclosure of confidential information as defined in Section 100A(3) of "
        "the Act."
    )
    assert "Schedule 12A" not in exclusion.purpose
    _exempt(meeting, paragraphs=(3, 1))
    assert exclusion.purpose == (
        "That under Section 100A(2) and (4) of the Local Government Act 1972, the public be "
        "excluded from the meeting for the following items of business on the grounds that "
        "they involve the likely disclosure of confidential information as defined in Section "
        "100A(3) of the Act and exempt information as defined in Paragraphs 1 and 3 of Part 1 "
        "of Schedule 12A to the Act."
    )
    services.update_item(secret, visibility="public")
    assert exclusion.purpose.startswith("That under Section 100A(4) of")
    assert "confidential" not in exclusion.purpose
    assert "exempt information as defined in Paragraphs 1 and 3 of Part 1" in exclusion.purpose


def _state(db, meeting):
    from sqlalchemy import select

    from app.models import Declaration, Minute

    return (
        sorted((i.id, i.title, i.position) for i in meeting.items),
        sorted(
            (m.number, m.agenda_item_id)
            for m in db.session.scalars(select(Minute).where(Minute.meeting_id == meeting.id))
        ),
        len(db.session.scalars(select(Declaration)).all()),
    )


def test_an_item_with_a_minute_or_declarations_cannot_be_removed(db, f, meeting):
    from app.meetings.attendance import add_declaration

    exempt = _exempt(meeting)
    minute = f.minute(meeting, 212, "Land at Moorgate", item=exempt, text="Sold for £1.")
    assert minute.restricted
    before = _state(db, meeting)
    with pytest.raises(Conflict) as info:
        services.delete_item(exempt)
    assert info.value.detail.startswith("This item has a minute (212)")
    assert _state(db, meeting) == before
    assert minute.item is exempt and minute.restricted  # still hidden from the public

    # A sub-item's minute or declaration protects its parent too.
    with_sub = services.add_item(meeting, title="Reports")
    sub = services.add_item(meeting, parent=with_sub, title="Finance report")
    f.minute(meeting, 213, "Finance report", item=sub)
    with pytest.raises(Conflict) as info:
        services.delete_item(with_sub)
    assert info.value.detail.startswith("Its sub-item has a minute (213);")
    assert sub in meeting.items and with_sub in meeting.items
    parent = services.add_item(meeting, title="Budget")
    child = services.add_item(meeting, parent=parent, title="Capital")
    add_declaration(meeting, child.id, f.person("Sue Wilson"), "other_registrable", "Governor")
    before = _state(db, meeting)
    with pytest.raises(Conflict) as info:
        services.delete_item(parent)
    assert "Interests have been declared" in info.value.detail
    assert _state(db, meeting) == before

    # Someone arriving at an item is part of the record too.
    late = services.add_item(meeting, title="Late arrival")
    f.attendance(meeting, f.person(), arrived_at_item_id=late.id)
    with pytest.raises(Conflict) as info:
        services.delete_item(late)
    assert "attendance register" in info.value.detail

    # An item the record does not mention is removed as before.
    spare = services.add_item(meeting, title="Spare")
    services.delete_item(spare)
    assert spare not in meeting.items


def test_no_item_is_removed_once_the_minutes_are_approved(db, f, meeting):
    from app.models import MinutesState

    spare = services.add_item(meeting, title="Spare")
    f.with_minutes_state(meeting, MinutesState.APPROVED)
    before = _state(db, meeting)
    with pytest.raises(Conflict) as info:
        services.delete_item(spare)
    assert "approved and locked" in info.value.detail
    assert _state(db, meeting) == before


def test_remove_a_paper(db, f, meeting):
    import io

    from sqlalchemy import select

    from app.agenda.documents import add_document, remove_document
    from app.models import AuditEvent, Document, MinutesState
    from app.search.services import search
    from tests.pdfs import make_pdf

    item = services.add_item(meeting, title="Budget")
    wrong = add_document(item, io.BytesIO(make_pdf(2, "Zanzibar")), "w.pdf", "Wrong report")
    right = add_document(item, io.BytesIO(make_pdf(1, "Budget")), "r.pdf", "Budget report")
    clerk = f.user("clerk")
    db.session.commit()
    assert search("Zanzibar", clerk)
    remove_document(wrong)
    db.session.commit()
    assert item.documents == [right]
    assert db.session.scalars(select(Document)).all() == [right]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "document_removed"))
    assert event.data["meeting_id"] == meeting.id and event.data["title"] == "Wrong report"
    assert not search("Zanzibar", clerk)  # out of the search index with it
    f.with_minutes_state(meeting, MinutesState.APPROVED)
    with pytest.raises(Conflict) as info:
        remove_document(right)
    assert "approved and locked" in info.value.detail and item.documents == [right]


def test_the_agenda_is_fixed_once_the_minutes_are_approved(db, f, meeting):
    """Making an exempt item public after approval would publish its approved minute."""
    import io

    from app.agenda.documents import add_document
    from app.models import MinutesState
    from tests.pdfs import make_pdf

    exempt = services.add_item(
        meeting,
        title="Staffing",
        visibility="exempt",
        exempt_paragraphs=[1],
        public_interest_reason="Names individual staff.",
    )
    other = services.add_item(meeting, title="Budget")
    f.with_minutes_state(meeting, MinutesState.APPROVED)
    db.session.commit()
    before = _state(db, meeting)
    order = [i.id for i in meeting.items if i.parent_id is None]
    attempts = [
        lambda: services.update_item(exempt, visibility="public"),
        lambda: services.add_item(meeting, title="Afterthought"),
        lambda: services.move_item(other, -1),
        lambda: services.reorder(meeting, list(reversed(order))),
        lambda: add_document(other, io.BytesIO(make_pdf(1, "Late")), "late.pdf", "Late paper"),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as info:
            attempt()
        assert "approved and locked" in info.value.detail
        db.session.rollback()
        assert _state(db, meeting) == before
    assert exempt.visibility == Visibility.EXEMPT


def exempt(meeting, title="Land at Moorgate", **kw):
    return services.add_item(
        meeting,
        title=title,
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
        **kw,
    )


def test_a_sub_item_of_exempt_business_is_exempt_business(meeting):
    land = exempt(meeting)
    # Offered as restricted as its parent, with its grounds, when nothing is said.
    valuation = services.add_item(meeting, title="Valuation", parent=land)
    assert valuation.visibility == Visibility.EXEMPT and valuation.restricted
    assert valuation.exempt_paragraphs == [3] and valuation.public_interest_reason == REASON
    # It cannot be made more public than its parent, on creation or afterwards.
    with pytest.raises(ValidationError) as info:
        services.add_item(meeting, title="Open", parent=land, visibility="public")
    assert "cannot be more public" in info.value.errors["visibility"][0]
    with pytest.raises(ValidationError):
        services.update_item(valuation, visibility="public")
    # Stricter is allowed.
    services.update_item(valuation, visibility="confidential")
    assert valuation.effective_visibility == Visibility.CONFIDENTIAL


def test_an_item_made_exempt_takes_its_sub_items_with_it(meeting, db):
    budget = services.add_item(meeting, title="Budget")
    detail = services.add_item(meeting, title="Detail", parent=budget)
    assert not detail.restricted
    services.update_item(
        budget, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    db.session.flush()
    assert detail.visibility == Visibility.EXEMPT and detail.exempt_paragraphs == [3]
    assert detail.public_interest_reason == REASON


def test_a_public_row_under_an_exempt_parent_is_restricted_all_the_same(meeting, db):
    """Rows written before the services kept sub-items in step: the rule still holds, in the
    model predicate and in its SQL form."""
    from sqlalchemy import update

    from app.agenda.models import AgendaItem

    land = exempt(meeting)
    child = services.add_item(meeting, title="Valuation", parent=land)
    db.session.execute(
        update(AgendaItem)
        .where(AgendaItem.id == child.id)
        .values(visibility=Visibility.PUBLIC, public_interest_reason=None)
    )
    db.session.expire_all()
    assert child.visibility == Visibility.PUBLIC and child.restricted
    public = set(db.session.scalars(AgendaItem.public_ids()))
    assert child.id not in public and land.id not in public


def test_emptying_part_two_never_takes_the_exclusion_record_with_it(meeting, db, f):
    from app.minutes import services as minutes

    land = exempt(meeting)
    exclusion = next(i for i in meeting.items if i.kind == ItemKind.EXCLUSION)
    db.session.commit()
    drafted = minutes.draft_minutes(meeting)
    db.session.commit()
    assert any(m.agenda_item_id == exclusion.id for m in drafted)
    with pytest.raises(Conflict) as info:
        services.update_item(land, visibility="public")
    assert "Exclusion of the press and public" in info.value.detail
    assert "minute" in info.value.detail
    db.session.rollback()
    with pytest.raises(Conflict):
        services.delete_item(land)
    db.session.rollback()
    assert exclusion in meeting.items and land.restricted


def test_emptying_part_two_with_a_sub_item_under_the_exclusion_is_a_clear_conflict(meeting, db):
    land = exempt(meeting)
    exclusion = next(i for i in meeting.items if i.kind == ItemKind.EXCLUSION)
    services.add_item(meeting, title="Who is excluded", parent=exclusion)
    db.session.commit()
    with pytest.raises(Conflict) as info:
        services.update_item(land, visibility="public")
    assert "sub-items (Who is excluded)" in info.value.detail


def test_new_items_land_in_their_section_in_the_committee_order(db, f):
    c = f.committee(sections=["For Decision", "For Information"])
    m = f.meeting(c)
    services.apply_template(m)
    services.add_item(m, title="Budget", section="For Decision")
    services.add_item(m, title="Newsletter", section="For Information")
    services.add_item(m, title="Pharmacy", section="For Decision")  # after Newsletter once
    services.add_item(m, title="Unsorted")
    titles = [t for _, t in numbers(m)]
    assert titles.index("Budget") + 1 == titles.index("Pharmacy")
    assert titles.index("Pharmacy") + 1 == titles.index("Newsletter")
    assert titles.index("Unsorted") == titles.index("Any other business") - 1
    sections = [i.section for i, _ in m.numbered_items() if i.section]
    assert sections == ["For Decision", "For Decision", "For Information"]
