from datetime import date

import pytest
from sqlalchemy import select

from app.actions import services
from app.core.errors import Conflict, Forbidden, ValidationError
from app.models import ActionStatus, Rag, Role


@pytest.fixture
def ctx(db, f):
    c = f.committee()
    owner = f.member_user(c)
    minute = f.minute(f.meeting(c), 211, "CYPP Action Plan")
    resolution = f.resolution(minute, "That the action plan be sent to all members.")
    return c, owner, resolution


def test_action_from_resolution_in_one_step(db, f, ctx):
    c, owner, resolution = ctx
    action = services.create_from_resolution(
        resolution, "Send the plan and collect feedback", owner.person_id, date(2013, 6, 14)
    )
    assert action.committee == c and action.resolution == resolution
    assert action.status == ActionStatus.OPEN and action.source_minute.number == 211
    assert action.is_overdue(date(2013, 6, 15)) and not action.is_overdue(date(2013, 6, 14))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": "x", "owner_id": 99999}, "owner_id"),
        ({"title": "x", "due_date": "soon"}, "due_date"),
        ({"title": "x", "reference": "1..2"}, "reference"),
    ],
)
def test_bad_actions_refused(db, f, ctx, kwargs, field):
    with pytest.raises(ValidationError) as info:
        services.create_action(ctx[0], **kwargs)
    assert field in info.value.errors


def test_owner_posts_updates_others_cannot(db, f, ctx):
    c, owner, resolution = ctx
    action = services.create_from_resolution(resolution, "Send the plan", owner.person_id)
    services.post_update(action, owner, "Sent to all members on 3 June", "in_progress", "amber")
    assert (action.status, action.rag) == (ActionStatus.IN_PROGRESS, Rag.AMBER)
    with pytest.raises(Forbidden):
        services.post_update(action, f.member_user(c), "Not mine", rag="green")
    with pytest.raises(ValidationError) as info:
        services.post_update(action, owner, rag="grey")
    assert "rag" in info.value.errors
    with pytest.raises(ValidationError):
        services.post_update(action, owner)
    with pytest.raises(Conflict):
        services.post_update(action, owner, "stale", expected_version=1)
    services.post_update(action, f.user(Role.CLERK), "Leads nominated", "complete", "grey")
    assert action.closed_at is not None and len(action.updates) == 2
    assert action.latest_update.note == "Leads nominated"


def test_tracker_filters_and_open_actions(db, f, ctx):
    c, owner, _resolution = ctx
    late = services.create_action(c, "Late", owner.person_id, date(2013, 6, 14))
    services.create_action(c, "Later", owner.person_id, date(2030, 1, 1))
    done = services.create_action(c, "Done", owner.person_id, date(2013, 1, 1))
    services.post_update(done, owner, status="complete", rag="grey")
    overdue = db.session.scalars(services.tracker_query(overdue=True, today=date(2020, 1, 1))).all()
    assert overdue == [late]
    mine = db.session.scalars(services.tracker_query(owner_id=owner.person_id)).all()
    assert {a.title for a in mine} == {"Late", "Later", "Done"}
    assert {a.title for a in services.open_actions(c)} == {"Late", "Later"}


def test_grey_only_ever_means_complete(db, f, ctx):
    _c, owner, resolution = ctx
    clerk = f.user(Role.CLERK)
    action = services.create_from_resolution(resolution, "Send the plan", owner.person_id)
    services.post_update(action, clerk, "Evidence filed", "complete", "grey")
    # Reopening (or cancelling) without a new rating would leave it grey while open.
    for status in ("open", "in_progress", "cancelled"):
        with pytest.raises(ValidationError) as info:
            services.post_update(action, clerk, "Reopened", status)
        assert "rated grey" in info.value.errors["rag"][0]
    assert (action.status, action.rag, len(action.updates)) == (ActionStatus.COMPLETE, Rag.GREY, 1)
    services.post_update(action, clerk, "Evidence was incomplete", "open", "amber")
    assert (action.status, action.rag, action.closed_at) == (ActionStatus.OPEN, Rag.AMBER, None)
    # (A grey row in an action plan is imported as complete: tests/actions/test_plan_import.py.)


# --- corrections ---------------------------------------------------------------------------


def _corrections(action):
    from app.audit.models import AuditEvent
    from app.extensions import db

    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.verb == "action_corrected", AuditEvent.entity_id == action.id
        )
    ).all()


def test_a_clerk_corrects_an_action_and_the_history_shows_old_and_new(db, f, ctx):
    _c, owner, resolution = ctx
    clerk = f.user(Role.CLERK)
    action = services.create_from_resolution(resolution, "Send the plan", owner.person_id)
    services.post_update(action, owner, "Drafted the covering letter")
    other = f.person("Ruth Hayes")
    services.correct_action(
        action,
        clerk,
        expected_version=2,
        title="Send the plan to all members",
        owner_id=other.id,
        due_date=date(2026, 6, 14),
        reference="1.2",
    )
    assert (action.title, action.owner, action.due_date, action.reference) == (
        "Send the plan to all members",
        other,
        date(2026, 6, 14),
        "1.2",
    )
    assert action.version == 3
    (event,) = _corrections(action)
    assert event.user_id == clerk.id and event.data["approved_record"] is False
    assert event.data["changes"] == {
        "title": ["Send the plan", "Send the plan to all members"],
        "owner_id": [owner.person.display_name, "Ruth Hayes"],
        "due_date": [None, "2026-06-14"],
        "reference": [None, "1.2"],
    }
    history = services.action_history(action)
    assert [h.kind for h in history] == ["update", "correction"]
    assert history[1].by == clerk.name and history[1].changes == event.data["changes"]
    # A field not sent keeps its value; reference and due date can be cleared.
    services.correct_action(action, clerk, reference=None, due_date=None)
    assert (action.title, action.reference, action.due_date) == (
        "Send the plan to all members",
        None,
        None,
    )


def test_a_correction_that_changes_nothing_is_not_an_error_and_not_audited(db, f, ctx):
    c, owner, _resolution = ctx
    action = services.create_action(c, "Send the plan", owner.person_id, reference="1.2")
    services.correct_action(
        action, f.user(Role.CLERK), 1, title=" Send the plan ", owner_id=owner.person_id
    )
    assert action.version == 1 and not _corrections(action)


def test_stale_corrections_conflict_naming_both_versions(db, f, ctx):
    c, owner, _resolution = ctx
    clerk = f.user(Role.CLERK)
    action = services.create_action(c, "Send the plan", owner.person_id)
    services.correct_action(action, clerk, 1, title="Send the plan now")
    with pytest.raises(Conflict) as info:
        services.correct_action(action, clerk, 1, title="Send it")
    assert "version 1" in info.value.detail and "version 2" in info.value.detail
    assert action.title == "Send the plan now"


def test_only_clerks_correct_not_even_the_owner(db, f, ctx):
    c, owner, _resolution = ctx
    action = services.create_action(c, "Send the plan", owner.person_id, date(2026, 6, 14))
    assert action.can_update(owner) and not action.can_correct(owner)
    with pytest.raises(Forbidden):
        services.correct_action(action, owner, due_date=date(2027, 1, 1))
    assert action.due_date == date(2026, 6, 14) and not _corrections(action)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": None}, "title"),
        ({"owner_id": 99999}, "owner_id"),
        ({"owner_id": None}, "owner_id"),
        ({"due_date": "soon"}, "due_date"),
        ({"due_date": date(1066, 10, 14)}, "due_date"),
        ({"reference": "1..2"}, "reference"),
        ({"committee_id": 1}, "committee_id"),
    ],
)
def test_bad_corrections_refused_as_creation_refuses_them(db, f, ctx, fields, field):
    c, owner, _resolution = ctx
    action = services.create_action(c, "Send the plan", owner.person_id)
    with pytest.raises(ValidationError) as info:
        services.correct_action(action, f.user(Role.CLERK), **fields)
    assert field in info.value.errors
    assert (action.title, action.owner_id, action.version) == ("Send the plan", owner.person_id, 1)


def test_actions_from_approved_minutes_are_corrected_as_corrections(db, f, ctx):
    """The decision in correct_action: tracking data stays correctable after approval, and
    the history says the correction came after the minutes were approved."""
    from app.models import MinutesState
    from tests.factories import with_minutes_state

    _c, owner, resolution = ctx
    action = services.create_from_resolution(resolution, "Send the plan", owner.person_id)
    with_minutes_state(resolution.minute.meeting, MinutesState.APPROVED)
    with pytest.raises(Conflict):
        services.create_from_resolution(resolution, "Another", owner.person_id)
    services.correct_action(action, f.user(Role.CLERK), due_date=date(2026, 9, 1))
    assert action.due_date == date(2026, 9, 1)
    (entry,) = services.action_history(action)
    assert entry.kind == "correction" and entry.approved_record
