"""The permission predicates on the models, tested directly, role by role."""

from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin

from app.models import (
    AgendaState,
    MinutesState,
    Role,
    Visibility,
)

ANON = AnonymousUserMixin()


@pytest.fixture
def world(db, f):
    """Committee A with a published agenda (one public item, one exempt item with papers) and
    committee B, plus one user of each kind."""
    a, b = f.committee("Committee A"), f.committee("Committee B")
    meeting = f.published_meeting(a)
    public_item = f.item(meeting, "Budget monitoring")
    exempt_item = f.exempt_item(meeting, "Staffing restructure", paragraphs=[1, 4])
    users = {
        "anonymous": ANON,
        "viewer": f.user(Role.VIEWER),
        "member_a": f.member_user(a),
        "member_b": f.member_user(b),
        "clerk": f.user(Role.CLERK),
        "admin": f.user(Role.ADMIN),
    }
    return {
        "a": a,
        "meeting": meeting,
        "public_item": public_item,
        "exempt_item": exempt_item,
        "public_doc": f.document(public_item, "Budget report"),
        "exempt_doc": f.document(exempt_item, "Staffing appendix"),
        "users": users,
    }


SEES_RESTRICTED = {"member_a", "clerk", "admin"}
ALL = {"anonymous", "viewer", "member_a", "member_b", "clerk", "admin"}


def who(world, predicate):
    return {name for name, user in world["users"].items() if predicate(user)}


def test_meetings_are_public_once_scheduled(world):
    assert who(world, world["meeting"].can_view) == ALL


def test_published_agenda_titles_are_public_even_when_exempt(world):
    assert who(world, world["exempt_item"].can_view) == ALL
    assert who(world, world["public_item"].can_see_papers) == ALL


def test_exempt_papers_only_for_staff_and_the_committee(world):
    assert who(world, world["exempt_item"].can_see_papers) == SEES_RESTRICTED
    assert who(world, world["exempt_doc"].can_view) == SEES_RESTRICTED
    assert who(world, world["public_doc"].can_view) == ALL


def test_exempt_paper_on_a_public_item(world, f):
    doc = f.document(
        world["public_item"],
        "Appendix B (exempt)",
        visibility=Visibility.EXEMPT,
        public_interest_reason="Commercial negotiations are under way.",
    )
    assert who(world, doc.can_view) == SEES_RESTRICTED
    assert doc.restricted


def test_draft_agenda_only_for_staff(world, db):
    world["meeting"].agenda_state = AgendaState.DRAFT
    assert who(world, world["meeting"].can_see_agenda) == {"clerk", "admin"}
    assert who(world, world["public_item"].can_see_papers) == {"clerk", "admin"}
    assert who(world, world["exempt_doc"].can_view) == {"clerk", "admin"}


@pytest.mark.parametrize(
    ("state", "publish_drafts", "expected"),
    [
        (MinutesState.NONE, True, {"clerk", "admin"}),
        (MinutesState.DRAFT, True, {"clerk", "admin"}),
        (MinutesState.PUBLISHED, False, {"member_a", "clerk", "admin"}),
        (MinutesState.PUBLISHED, True, ALL),
        (MinutesState.APPROVED, False, ALL),
    ],
)
def test_minutes_visibility(world, f, state, publish_drafts, expected):
    world["a"].publish_draft_minutes = publish_drafts
    f.with_minutes_state(world["meeting"], state)
    assert who(world, world["meeting"].can_see_minutes) == expected


def test_minute_of_exempt_item_only_for_those_who_see_restricted(world, f):
    f.with_minutes_state(world["meeting"], MinutesState.APPROVED)
    public_minute = f.minute(world["meeting"], 10, item=world["public_item"])
    exempt_minute = f.minute(world["meeting"], 11, item=world["exempt_item"])
    assert who(world, public_minute.can_view) == ALL
    assert who(world, exempt_minute.can_view) == SEES_RESTRICTED
    assert exempt_minute.restricted and not public_minute.restricted


def test_ended_membership_no_longer_counts(world, db):
    member = world["users"]["member_a"]
    membership = world["a"].memberships[0]
    assert membership.person_id == member.person_id
    membership.end_date = date.today() - timedelta(days=1)
    db.session.flush()
    assert not world["exempt_doc"].can_view(member)
    membership.end_date = None
    membership.start_date = date.today() + timedelta(days=7)
    db.session.flush()
    assert not world["exempt_doc"].can_view(member)


def test_action_owner_may_update_own_action_only(world, f, db):
    from app.models import Action

    owner = world["users"]["member_b"]
    action = Action(committee=world["a"], title="Circulate the plan", owner_id=owner.person_id)
    db.session.add(action)
    db.session.flush()
    assert who(world, action.can_update) == {"member_b", "clerk", "admin"}
    # Standalone actions are visible to their owner, the committee and staff.
    assert who(world, action.can_view) == {"member_a", "member_b", "clerk", "admin"}


def test_staff_helper(world):
    from app.core.permissions import is_staff

    clerk = world["users"]["clerk"]
    assert is_staff(clerk)
    assert not is_staff(ANON)
    assert not is_staff(None)
