"""The meeting record through the pages: attendance, minutes, actions, approval, decisions."""

import html as htmllib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.agenda import services as agenda
from app.models import (
    Action,
    Attendance,
    AttendanceStatus,
    MembershipRole,
    Minute,
    MinutesState,
    Rag,
    Role,
)


@pytest.fixture
def setup(db, f, sign_in):
    c = f.committee("Health Board", first_minute_number=208)
    chair, member, other = (
        f.person("Lakin", honorific="Councillor"),
        f.person("Sue Wilson"),
        f.person("Karen Smith"),
    )
    for p in (chair, member, other):
        f.membership(c, p, MembershipRole.CHAIR if p is chair else MembershipRole.MEMBER)
    may = f.published_meeting(c, starts_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    july = f.meeting(c, starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    agenda.add_item(may, title="Action plan")
    agenda.add_item(may, title="Budget")
    clerk = f.user(Role.CLERK, name="Jo Clerk")
    owner = f.user(Role.MEMBER, person=member)
    db.session.commit()
    return {
        "c": c,
        "may": may,
        "july": july,
        "chair": chair,
        "member": member,
        "other": other,
        "clerk": clerk,
        "owner": owner,
    }


def test_attendance_register(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    sub = f.person("Substitute Sam")
    db.session.commit()
    url = f"/meetings/{s['may'].id}/attendance"
    r = client.post(
        url,
        data={
            f"status-{s['chair'].id}": "present",
            "in_chair": s["chair"].id,
            f"status-{s['member'].id}": "apologies",
        },
    )
    assert r.status_code == 302
    # A substitute who names nobody is refused, and nothing of that submission is stored.
    r = client.post(url, data={f"status-{s['other'].id}": "substitute"})
    assert r.status_code == 400 and "standing in for" in r.get_data(as_text=True)
    r = client.post(url, data={"add_person": sub.id, "add_capacity": "Officer"})
    assert r.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Substitute Sam" in page and "voting members present" in page
    statuses = {a.person.name: a.status for a in db.session.scalars(select(Attendance))}
    assert statuses == {
        "Lakin": AttendanceStatus.PRESENT,
        "Sue Wilson": AttendanceStatus.APOLOGIES,
        "Substitute Sam": AttendanceStatus.IN_ATTENDANCE,
    }


def test_register_refuses_a_person_twice_and_double_seats(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    guest, sub = f.person("Guest Gill"), f.person("Substitute Sam")
    db.session.commit()
    url = f"/meetings/{s['may'].id}/attendance"
    r = client.post(url, data={"add_person": guest.id, "add_capacity": "Head of Service"})
    assert r.status_code == 302
    # Adding her again is refused with a pointer to her row; her capacity is unchanged.
    r = client.post(url, data={"add_person": guest.id, "add_capacity": "Someone else"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Guest Gill is already in the register (in attendance); change their row" in html
    # A member already recorded (here, present) cannot be added as a guest either.
    client.post(url, data={f"status-{s['member'].id}": "present"})
    r = client.post(url, data={"add_person": s["member"].id})
    assert r.status_code == 400 and "Sue Wilson is already in the register" in r.get_data(
        as_text=True
    )
    rows = {a.person.name: a for a in db.session.scalars(select(Attendance))}
    assert rows["Guest Gill"].capacity == "Head of Service" and len(rows) == 2
    # A member who is present cannot also have a substitute...
    client.post(url, data={"add_person": sub.id})
    r = client.post(
        url,
        data={f"status-{sub.id}": "substitute", f"substitute_for-{sub.id}": s["member"].id},
    )
    assert r.status_code == 400 and "Sue Wilson is recorded as present" in r.get_data(as_text=True)
    # ...but sending apologies and naming the substitute in one save works.
    r = client.post(
        url,
        data={
            f"status-{sub.id}": "substitute",
            f"substitute_for-{sub.id}": s["member"].id,
            f"status-{s['member'].id}": "apologies",
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    rows = {a.person.name: a for a in db.session.scalars(select(Attendance))}
    assert rows["Substitute Sam"].status == AttendanceStatus.SUBSTITUTE
    assert rows["Sue Wilson"].status == AttendanceStatus.APOLOGIES
    # And back: Sue arrives and Sam stands down, in one save (Sue's row comes first on the
    # page, so her seat must be freed before it is filled).
    r = client.post(
        url,
        data={f"status-{sub.id}": "in_attendance", f"status-{s['member'].id}": "present"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    rows = {a.person.name: a.status for a in db.session.scalars(select(Attendance))}
    assert rows["Sue Wilson"] == AttendanceStatus.PRESENT
    assert rows["Substitute Sam"] == AttendanceStatus.IN_ATTENDANCE


def test_member_sends_own_apologies(client, db, f, setup, sign_in):
    s = setup
    s["july"].starts_at = datetime.now(UTC) + timedelta(days=10)
    db.session.commit()
    sign_in(s["owner"])
    page = client.get(f"/meetings/{s['july'].id}/").get_data(as_text=True)
    assert "Send my apologies" in page
    r = client.post(f"/meetings/{s['july'].id}/apologies")
    assert r.status_code == 302
    row = db.session.scalar(select(Attendance))
    assert row.status == AttendanceStatus.APOLOGIES and row.apologies_sent_at


def test_minutes_resolutions_actions_and_conflict(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    assert client.post(f"/meetings/{s['may'].id}/minutes/draft").status_code == 302
    minutes = db.session.scalars(select(Minute).order_by(Minute.number)).all()
    assert [m.number for m in minutes] == [208, 209]
    first = minutes[0]
    url = f"/minutes/{first.id}/edit"
    v = first.version
    r = client.post(
        url,
        data={"minute-title": first.title, "minute-text": "Clerk A's text", "minute-version": v},
    )
    assert r.status_code == 302
    r = client.post(
        url,
        data={"minute-title": first.title, "minute-text": "Clerk B's text", "minute-version": v},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Clerk A&#39;s text" in html and "Clerk B&#39;s text" in html
    db.session.refresh(first)
    assert first.text == "Clerk A's text"
    r = client.post(
        f"/minutes/{first.id}/resolutions",
        data={
            "resolution-text": "That the plan be sent to all members.",
            "resolution-kind": "resolved",
        },
    )
    assert r.status_code == 302
    resolution = first.resolutions[0]
    r = client.post(
        f"/resolutions/{resolution.id}/actions",
        data={
            "action-title": "Send the plan",
            "action-owner_id": s["member"].id,
            "action-due_date": ["14", "6", "2026"],
        },
    )
    assert r.status_code == 302
    bad = client.post(
        f"/resolutions/{resolution.id}/actions",
        data={
            "action-title": "No owner",
            "action-owner_id": "",
            "action-due_date": ["x", "y", "z"],
        },
    )
    assert bad.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Action)) == 1
    r = client.post(
        f"/minutes/{first.id}/declarations",
        data={
            "declaration-person_id": s["other"].id,
            "declaration-kind": "other_registrable",
            "declaration-nature": "Trustee of Inspire",
            "declaration-withdrew": "y",
        },
    )
    assert r.status_code == 302
    assert "Trustee of Inspire" in client.get(url).get_data(as_text=True)


def test_owner_updates_action_others_cannot(client, db, f, setup, sign_in):
    s = setup
    minute = f.minute(s["may"], 208, "Plan")
    resolution = f.resolution(minute, "That the plan be sent.")
    action = Action(
        committee=s["c"],
        title="Send the plan",
        owner=s["member"],
        resolution=resolution,
        due_date=date(2026, 6, 14),
    )
    db.session.add(action)
    db.session.commit()
    sign_in(s["owner"])
    mine = client.get("/actions/mine").get_data(as_text=True)
    assert "Send the plan" in mine and "Overdue" in mine
    r = client.post(
        f"/actions/{action.id}",
        data={
            "note": "Sent on 3 June",
            "status": "in_progress",
            "rag": "amber",
            "version": action.version,
        },
    )
    assert r.status_code == 302
    db.session.refresh(action)
    assert action.rag == Rag.AMBER and action.updates[0].note == "Sent on 3 June"
    client.post("/sign-out")
    intruder = f.member_user(s["c"])
    f.with_minutes_state(s["may"], MinutesState.APPROVED)  # so the intruder may see it
    db.session.commit()
    sign_in(intruder)
    r = client.post(f"/actions/{action.id}", data={"note": "Not mine", "rag": "green"})
    assert r.status_code == 403
    assert len(action.updates) == 1


def test_tracker_filters(client, db, f, setup):
    s = setup
    for title, due in (("Late one", date(2020, 1, 1)), ("Future one", date(2099, 1, 1))):
        db.session.add(Action(committee=s["c"], title=title, owner=s["member"], due_date=due))
    db.session.commit()
    all_actions = client.get("/actions/").get_data(as_text=True)
    # Standalone actions are for the committee and staff; the public sees none of them.
    assert "Late one" not in all_actions


def test_approval_locks_and_corrections(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    minute = db.session.scalars(select(Minute).order_by(Minute.number)).first()
    r = client.post(
        f"/meetings/{s['may'].id}/minutes/approve",
        data={
            "at_meeting_id": s["july"].id,
            "amendments": "Subject to the inclusion of Karen Smith's apologies.",
            "chair_name": "Councillor Lakin",
            "signed_on": ["15", "7", "2026"],
        },
    )
    assert r.status_code == 302
    db.session.refresh(s["may"])
    assert s["may"].minutes_state == MinutesState.APPROVED
    r = client.post(
        f"/minutes/{minute.id}/edit",
        data={"minute-title": "x", "minute-text": "Rewritten", "minute-version": minute.version},
    )
    assert r.status_code == 409
    r = client.post(
        f"/minutes/{minute.id}/resolutions",
        data={"resolution-text": "That x.", "resolution-kind": "resolved"},
    )
    assert r.status_code == 409
    r = client.post(f"/minutes/{minute.id}/correct", data={"text": "Corrected", "reason": ""})
    assert r.status_code == 400
    r = client.post(
        f"/minutes/{minute.id}/correct",
        data={"text": "Corrected text", "reason": "A name was misspelt"},
    )
    assert r.status_code == 302
    page = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    assert "Approved" in page and "Corrected text" in page


def test_decisions_register(client, db, f, setup):
    s = setup
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    m = f.minute(s["may"], 208, "Budget")
    f.resolution(m, "That the budget be approved.")
    hidden = f.minute(s["july"], 209, "Draft")
    f.resolution(hidden, "That a secret be kept.")
    db.session.commit()
    page = client.get("/decisions/?q=budget").get_data(as_text=True)
    assert "That the budget be approved." in page and "secret" not in page
    assert page.count("Minute 208") == 1 and "Next page" not in page
    bad = client.get("/decisions/?from=yesterday")
    assert bad.status_code == 200 and "Enter a date like" in bad.get_data(as_text=True)


def test_late_arrival_inquorate_and_declarations_in_the_minutes(client, db, f, setup, sign_in):
    s = setup
    s["c"].quorum_count = 3
    budget = next(i for i in s["may"].items if i.title == "Budget")
    sign_in(s["clerk"])
    db.session.commit()
    r = client.post(
        f"/meetings/{s['may'].id}/attendance",
        data={
            f"status-{s['chair'].id}": "present",
            "in_chair": s["chair"].id,
            f"status-{s['member'].id}": "present",
            f"arrived-{s['member'].id}": budget.id,
        },
    )
    assert r.status_code == 302
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    minute = db.session.scalars(select(Minute).order_by(Minute.number)).first()
    client.post(
        f"/minutes/{minute.id}/declarations",
        data={
            "declaration-person_id": s["chair"].id,
            "declaration-kind": "disclosable_pecuniary",
            "declaration-nature": "Owns land nearby",
            "declaration-withdrew": "y",
        },
    )
    page = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    assert "Sue Wilson (arrived during item 2)" in page
    assert "The meeting was inquorate" in page
    assert "Councillor Lakin declared a disclosable pecuniary interest: Owns land nearby" in page


def test_declarations_on_sub_items_reach_the_minutes(client, db, f, setup, sign_in):
    s = setup
    budget = next(i for i in s["may"].items if i.title == "Budget")
    capital = agenda.add_item(s["may"], parent=budget, title="Capital programme")
    db.session.commit()
    from app.auth.services import issue_token

    r = client.post(
        f"/api/v1/meetings/{s['may'].id}/declarations",
        headers={"Authorization": f"Bearer {issue_token(s['clerk'])}"},
        json={
            "person_id": s["other"].id,
            "agenda_item_id": capital.id,
            "kind": "non_registrable",
            "nature": "Her husband bids for the capital works",
            "withdrew": True,
        },
    )
    assert r.status_code == 201, r.get_json()
    sign_in(s["clerk"])
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    minute = db.session.scalar(select(Minute).where(Minute.agenda_item_id == budget.id))
    edit = client.get(f"/minutes/{minute.id}/edit").get_data(as_text=True)
    assert "Her husband bids for the capital works" in edit
    # On the minute page the clerk can say which sub-item a declaration is about.
    assert f'<option value="{capital.id}">2a Capital programme</option>' in edit
    declare = {
        "declaration-agenda_item_id": capital.id,
        "declaration-person_id": s["member"].id,
        "declaration-kind": "other_registrable",
        "declaration-nature": "Trustee of a bidder",
    }
    r = client.post(f"/minutes/{minute.id}/declarations", data=declare)
    assert r.status_code == 302
    plan = db.session.scalar(select(Minute).where(Minute.agenda_item_id != budget.id))
    r = client.post(
        f"/minutes/{minute.id}/declarations",
        data={**declare, "declaration-agenda_item_id": plan.agenda_item_id},
    )
    assert r.status_code == 400  # not this minute's item
    assert [d.agenda_item_id for d in s["may"].declarations] == [capital.id, capital.id]
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    db.session.commit()
    page = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    section = page.split(f'id="minute-{minute.number}"')[1].split("</section>")[0]
    assert (
        "Karen Smith declared a non-registrable interest: Her husband bids for the capital works"
        " and withdrew from the meeting for this item." in section
    )
    assert "Sue Wilson declared an other registrable interest: Trustee of a bidder" in section


def test_named_votes_on_the_resolution_form(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    minute = db.session.scalars(select(Minute).order_by(Minute.number)).first()
    page = client.get(f"/minutes/{minute.id}/edit").get_data(as_text=True)
    # One labelled radio group per voting member, no script needed.
    assert "Record how each member voted" in page
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Councillor Lakin' in page
    )
    assert f'id="vote-{s["member"].id}-against" name="vote-{s["member"].id}"' in page
    url = f"/minutes/{minute.id}/resolutions"
    base = {"resolution-text": "That the plan be adopted.", "resolution-kind": "resolved"}
    votes = {
        f"vote-{s['chair'].id}": "for",
        f"vote-{s['member'].id}": "against",
        f"vote-{s['other'].id}": "for",
    }
    bad = client.post(url, data={**base, **votes, "resolution-votes_for": "9"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "The named votes give 2 here, not 9" in html
    # The choices survive the refusal.
    assert 'value="against" checked' in html
    assert client.post(url, data={**base, **votes}).status_code == 302
    db.session.refresh(minute)
    (r,) = minute.resolutions
    assert (r.votes_for, r.votes_against, r.abstentions) == (2, 1, 0)
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    db.session.commit()
    shown = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    assert "(For 2, against 1, abstentions 0)" in shown
    assert "For: Councillor Lakin, Karen Smith." in shown and "Against: Sue Wilson." in shown


def test_deleting_a_draft_minute_never_frees_its_number(client, db, f, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    plan, budget = db.session.scalars(select(Minute).order_by(Minute.number)).all()
    assert (plan.number, budget.number) == (208, 209)
    assert f"/minutes/{budget.id}/delete" in client.get(f"/minutes/{budget.id}/edit").get_data(
        as_text=True
    )
    confirm = client.get(f"/minutes/{budget.id}/delete").get_data(as_text=True)
    assert "The number 209 is never used again" in confirm
    r = client.post(f"/minutes/{budget.id}/delete")
    assert r.status_code == 302
    assert [m.number for m in db.session.scalars(select(Minute))] == [208]
    # The highest number was deleted, yet the next minute is 210, not 209.
    agenda.add_item(s["may"], title="Any other business")
    db.session.commit()
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    numbers = {m.title: m.number for m in db.session.scalars(select(Minute))}
    assert numbers == {"Action plan": 208, "Budget": 210, "Any other business": 211}
    # A minute with an action arising from it is kept.
    plan_minute = db.session.scalar(select(Minute).where(Minute.number == 208))
    resolution = f.resolution(plan_minute, "That the plan be sent.")
    db.session.add(
        Action(committee=s["c"], title="Send the plan", owner=s["member"], resolution=resolution)
    )
    db.session.commit()
    r = client.post(f"/minutes/{plan_minute.id}/delete")
    assert r.status_code == 409 and "has actions arising from it" in r.get_data(as_text=True)
    # Approved minutes are locked: nothing can be deleted.
    aob = db.session.scalar(select(Minute).where(Minute.number == 211))
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    db.session.commit()
    assert client.get(f"/minutes/{aob.id}/delete").status_code == 409
    assert client.post(f"/minutes/{aob.id}/delete").status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Minute)) == 3


def test_delete_a_draft_minute_through_the_api(client, db, f, setup):
    from app.auth.services import issue_token

    s = setup
    clerk = {"Authorization": f"Bearer {issue_token(s['clerk'])}"}
    member = {"Authorization": f"Bearer {issue_token(s['owner'])}"}
    item = next(i for i in s["may"].items if i.title == "Budget")
    r = client.put(f"/api/v1/agenda-items/{item.id}/minute", headers=clerk, json={"text": "x"})
    minute = r.get_json()
    assert minute["number"] == 209
    assert client.delete(f"/api/v1/minutes/{minute['id']}", headers=member).status_code == 403
    assert client.delete(f"/api/v1/minutes/{minute['id']}", headers=clerk).status_code == 204
    assert client.delete(f"/api/v1/minutes/{minute['id']}", headers=clerk).status_code == 404
    r = client.put(f"/api/v1/agenda-items/{item.id}/minute", headers=clerk, json={"text": "y"})
    assert r.get_json()["number"] == 210


def test_minute_taking_walks_the_agenda(client, db, f, setup, sign_in):
    s = setup
    agenda.add_item(s["may"], title="Any other business")
    db.session.commit()
    sign_in(s["clerk"])
    client.post(f"/meetings/{s['may'].id}/minutes/draft")
    first, second, third = db.session.scalars(select(Minute).order_by(Minute.number)).all()
    page = client.get(f"/minutes/{second.id}/edit").get_data(as_text=True)
    assert f'href="/minutes/{first.id}/edit" rel="prev"' in page
    assert f'href="/minutes/{third.id}/edit" rel="next"' in page
    assert "208. Action plan" in page and "210. Any other business" in page
    # The first has no previous item; the last has neither "next" nor "save and go to next".
    assert 'rel="prev"' not in client.get(f"/minutes/{first.id}/edit").get_data(as_text=True)
    last = client.get(f"/minutes/{third.id}/edit").get_data(as_text=True)
    assert 'rel="next"' not in last and "Save and go to the next item" not in last
    r = client.post(
        f"/minutes/{first.id}/edit",
        data={
            "minute-title": first.title,
            "minute-text": "The plan was presented.",
            "minute-version": first.version,
            "minute-save_next": "Save and go to the next item",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/minutes/{second.id}/edit"
    db.session.refresh(first)
    assert first.text == "The plan was presented."
    r = client.post(
        f"/minutes/{second.id}/edit",
        data={"minute-title": second.title, "minute-text": "Noted.", "minute-version": 1},
    )
    assert r.headers["Location"] == f"/minutes/{second.id}/edit"


def test_my_actions_quick_updates(app, client, db, f, setup, sign_in):
    import re

    s = setup
    minute = f.minute(s["may"], 208, "Plan")
    resolution = f.resolution(minute, "That the plan be sent.")
    mine_action = Action(
        committee=s["c"], title="Send the plan", owner=s["member"], resolution=resolution
    )
    theirs = Action(committee=s["c"], title="Chair's job", owner=s["chair"], resolution=resolution)
    db.session.add_all([mine_action, theirs])
    db.session.commit()
    sign_in(s["owner"])
    page = client.get("/actions/mine").get_data(as_text=True)
    assert f'action="/actions/{mine_action.id}/quick-update"' in page
    assert f'for="rag-{mine_action.id}">RAG rating</label>' in page
    url = f"/actions/{mine_action.id}/quick-update"
    r = client.post(
        url, data={"status": "in_progress", "rag": "amber", "note": "Drafted", "version": 1}
    )
    assert r.status_code == 302
    assert r.headers["Location"] == f"/actions/mine#action-{mine_action.id}"
    db.session.refresh(mine_action)
    assert (mine_action.status.value, mine_action.rag, mine_action.updates[-1].note) == (
        "in_progress",
        Rag.AMBER,
        "Drafted",
    )
    # Bad input: a clear error on that row, the entries kept, nothing stored.
    r = client.post(url, data={"rag": "grey", "note": "Done?", "version": mine_action.version})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Grey is for actions that are complete and evidenced" in html
    assert f'id="quick-error-{mine_action.id}"' in html and "Done?</textarea>" in html
    stale = client.post(url, data={"note": "Old page", "version": 1})
    assert stale.status_code == 409
    tampered = client.post(url, data={"note": "Odd form", "version": "abc"})
    assert tampered.status_code == 409
    assert (
        client.post(
            f"/actions/{mine_action.id}", data={"note": "Odd form", "version": "abc"}
        ).status_code
        == 400
    )  # the action page: its conflict message, not a failure
    # Someone else's action cannot be updated from here.
    assert client.post(f"/actions/{theirs.id}/quick-update", data={"note": "x"}).status_code in (
        403,
        404,
    )
    db.session.refresh(mine_action)
    assert len(mine_action.updates) == 1 and not theirs.updates
    # With CSRF protection on (as in production) the row's form carries its token.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(url, data={"note": "No token", "version": mine_action.version})
        assert refused.status_code == 400
        page = client.get("/actions/mine").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = client.post(
            url, data={"csrf_token": token, "note": "With token", "version": mine_action.version}
        )
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(mine_action)
    assert [u.note for u in mine_action.updates] == ["Drafted", "With token"]


def test_decisions_register_and_home_page_filter_visibility_before_paging(
    client, db, f, setup, monkeypatch
):
    from app.minutes import views as minute_views

    s = setup
    monkeypatch.setattr(minute_views, "PER_PAGE", 2)
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    seen = f.minute(s["may"], 208, "Budget")
    for n in range(3):
        f.resolution(seen, f"That visible decision {n} be made.")
    # Newer and more numerous than everything the public may see: draft minutes of later
    # meetings.
    for k in range(6):
        later = f.meeting(s["c"], starts_at=datetime(2026, 9, 1 + k, 13, tzinfo=UTC))
        hidden = f.minute(later, 300 + k, "Draft")
        for n in range(10):
            f.resolution(hidden, f"That hidden decision {k}.{n} be kept.")
    db.session.commit()
    first = client.get("/decisions/?q=decision").get_data(as_text=True)
    assert "hidden decision" not in first and "Previous page" not in first
    assert first.count("That visible decision") == 2 and "Next page" in first
    next_url = htmllib.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    assert "q=decision" in next_url
    second = client.get(next_url).get_data(as_text=True)
    assert second.count("That visible decision") == 1 and "Next page" not in second
    assert "hidden decision" not in second
    previous = htmllib.unescape(re.search(r'href="([^"]+)" rel="prev"', second).group(1))
    assert client.get(previous).get_data(as_text=True).count("That visible decision") == 2
    # The home page's recent decisions are not crowded out by the 60 newer hidden ones.
    home = client.get("/").get_data(as_text=True)
    assert "That visible decision" in home and "hidden decision" not in home
    # What the register was asked is kept in its links as plain query values, whatever the
    # names: none is read as url_for's own (the endpoint, an external or anchored address, a
    # method), which made a 500 or an absolute link.
    for name in ("endpoint", "_external", "_method", "_anchor"):
        r = client.get(f"/decisions/?q=decision&{name}=POST")
        assert r.status_code == 200, name
        odd = htmllib.unescape(re.search(r'href="([^"]+)" rel="next"', r.get_data(as_text=True))[1])
        assert odd.startswith("/decisions/?") and f"{name}=POST" in odd and "#" not in odd
        assert client.get(odd).get_data(as_text=True).count("That visible decision") == 1


def test_declarations_on_exempt_sub_items_stay_with_exempt_business(client, db, f, setup, sign_in):
    from app.meetings.attendance import add_declaration
    from app.minutes import services as minute_services
    from tests.packs.test_packs import page_texts

    s = setup
    budget = next(i for i in s["may"].items if i.title == "Budget")
    land = agenda.add_item(
        s["may"],
        parent=budget,
        title="Land sale",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Terms are still being negotiated.",
    )
    add_declaration(s["may"], land.id, s["other"], "non_registrable", "CANARYDECL bids for it")
    minute_services.draft_minutes(s["may"])
    f.with_minutes_state(s["may"], MinutesState.APPROVED)
    db.session.commit()
    # Minuted with its public parent, the declaration on exempt business is not shown there.
    page = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    assert "Budget" in page and "CANARYDECL" not in page
    pdf = client.get(f"/meetings/{s['may'].id}/minutes.pdf")
    assert pdf.status_code == 200 and "CANARYDECL" not in "".join(page_texts(pdf.data))
    sign_in(s["clerk"])
    page = client.get(f"/meetings/{s['may'].id}/").get_data(as_text=True)
    assert "CANARYDECL bids for it" in page


def _form_fields(html: str, action: str) -> list[tuple[str, str, str]]:
    """(tag, name, id) of every field of the form posting to `action`, as a browser reads
    the page."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.found = False, []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.inside = a.get("action") == action
            elif self.inside and tag in ("input", "select", "textarea") and a.get("name"):
                self.found.append((tag, a["name"], a.get("id", "")))

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False

    parser = Fields()
    parser.feed(html)
    return parser.found


def test_add_action_form_sent_as_the_browser_sends_it_keeps_the_due_date(
    client, db, f, setup, sign_in
):
    """The names come from the rendered page, not from the test: the date boxes once had the
    name 'action-due_date-action-due_date', so the due date was silently dropped."""
    from app.minutes import services as minutes

    s = setup
    sign_in(s["clerk"])
    (first, _second) = minutes.draft_minutes(s["may"])
    one = minutes.add_resolution(first, "That the plan be sent to all members.")
    two = minutes.add_resolution(first, "That officers report back.")
    db.session.commit()
    html = client.get(f"/minutes/{first.id}/edit").get_data(as_text=True)
    fields = _form_fields(html, f"/resolutions/{one.id}/actions")
    ids = [i for *_, i in fields if i]
    assert len(ids) == len(set(ids))
    other = {i for *_, i in _form_fields(html, f"/resolutions/{two.id}/actions") if i}
    assert not other & set(ids), "two add-action forms share ids"
    values = iter(["14", "6", "2026"])
    data: dict[str, list[str]] = {}
    for tag, name, _id in fields:
        if name == "csrf_token":
            continue
        if "title" in name:
            value = "Send the plan"
        elif tag == "select":
            value = str(s["member"].id)
        else:
            value = next(values)
        data.setdefault(name, []).append(value)
    assert client.post(f"/resolutions/{one.id}/actions", data=data).status_code == 302
    action = db.session.scalars(select(Action)).one()
    assert action.due_date == date(2026, 6, 14)


def test_a_refused_action_comes_back_on_its_own_resolution_only(client, db, f, setup, sign_in):
    """One add-action form per resolution: the one sent back with its errors keeps what was
    typed; the other resolutions' forms stay empty, without its errors."""
    from app.minutes import services as minutes

    s = setup
    sign_in(s["clerk"])
    (first, _second) = minutes.draft_minutes(s["may"])
    one = minutes.add_resolution(first, "That the plan be sent to all members.")
    two = minutes.add_resolution(first, "That officers report back.")
    db.session.commit()
    response = client.post(
        f"/resolutions/{one.id}/actions",
        data={"action-title": "CANARYTITLE", "action-owner_id": ""},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)

    def form_of(resolution) -> str:
        start = html.index(f'action="/resolutions/{resolution.id}/actions"')
        return html[start : html.index("</form>", start)]

    assert "CANARYTITLE" in form_of(one) and "govuk-error-message" in form_of(one)
    assert "CANARYTITLE" not in form_of(two) and "govuk-error-message" not in form_of(two)
