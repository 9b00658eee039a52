from datetime import date

import pytest
from sqlalchemy import func, select

from app.actions import services
from app.core.errors import Conflict, Forbidden, ValidationError
from app.models import Action, ActionStatus, Rag, Role


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


PLAN = "\n".join(
    [
        "theme,objective,reference,action,lead,review_date,end_date,target,rag",
        "Keeping safe,Reduce exploitation,1.2.3,Publish the CSE strategy,Sue Wilson,01/09/2013,"
        "2014-03-31,Strategy published,green",
        "Healthy lives,Reduce conceptions,2.1.1,Commission EHC services,Sue Wilson,,2013-12-31,,"
        "amber",
        "",
    ]
)


def test_action_plan_import(db, f, ctx):
    c = ctx[0]
    f.person("Sue Wilson")
    created = services.import_plan(c, PLAN)
    assert [(a.reference, a.rag, a.due_date) for a in created] == [
        ("1.2.3", Rag.GREEN, date(2014, 3, 31)),
        ("2.1.1", Rag.AMBER, date(2013, 12, 31)),
    ]
    assert created[0].owner.name == "Sue Wilson" and created[0].review_date == date(2013, 9, 1)
    assert created[0].theme == "Keeping safe" and created[0].target_measure == "Strategy published"


def test_action_plan_with_a_bad_row_imports_nothing(db, f, ctx):
    c = ctx[0]
    bad = PLAN + "x,y,1.2.3,Duplicate reference,Nobody Known,32/01/2013,,,purple\n"
    preview = services.preview_plan(c, bad)
    errors = " ".join(preview.rows[-1].errors)
    for expected in ("also on line 2", "No person called", "not a date", "RAG"):
        assert expected in errors
    with pytest.raises(ValidationError):
        services.import_plan(c, bad)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_grey_only_ever_means_complete(db, f, ctx):
    c, owner, resolution = ctx
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
    # A grey row in an action plan is imported as complete, as the preview says.
    f.person("Sue Wilson")
    plan = PLAN + "Keeping safe,,1.2.4,Train staff,Sue Wilson,,2013-06-30,,Grey\n"
    preview = services.preview_plan(c, plan)
    assert preview.ok and preview.rows[-1].values["status"] == ActionStatus.COMPLETE
    created = services.import_plan(c, plan)
    assert [(a.status, a.rag) for a in created] == [
        (ActionStatus.OPEN, Rag.GREEN),
        (ActionStatus.OPEN, Rag.AMBER),
        (ActionStatus.COMPLETE, Rag.GREY),
    ]
    assert created[-1].closed_at is not None and created[-1] not in services.open_actions(c)
