"""What `flask notifications send --now T` queues for T, through the CLI, the real services and
a real SMTP server: a reminder before an action is due (the committee's days, 7 unless set),
a notice when it becomes overdue, each once per due date, none for closed actions; each
owner's weekly digest, once per ISO week; and the draft minutes to the committee's members,
substitutes and officers, never naming business not for publication to those who may not
read it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.actions import services as actions
from app.core.permissions import Role
from app.meetings.models import MinutesState
from app.minutes import services as minutes
from app.notifications import services
from app.notifications.messages import minutes_message
from app.notifications.models import Message
from tests.notifications.test_messages import _committee, _meeting


@pytest.fixture
def send(app):
    runner = app.test_cli_runner()

    def run(now: str) -> str:
        result = runner.invoke(args=["notifications", "send", "--now", now])
        assert result.exit_code == 0, result.output
        return result.output.strip()

    return run


def _keys(db, *kinds) -> list[str]:
    return sorted(db.session.scalars(select(Message.key).where(Message.kind.in_(kinds))))


def test_reminders_and_overdue_notices_each_once_at_their_moment(db, f, smtp, send):
    committee, people = _committee(f)
    other = f.committee("Health Board", reminder_days_before=3)
    olive, sue = people["Olive Officer"], people["Sue Member"]
    clerk = f.user(Role.CLERK)
    plan = actions.create_action(committee, "Publish the plan", olive.id, date(2027, 3, 15))
    short = actions.create_action(other, "Brief the board", sue.id, date(2027, 3, 15))
    done = actions.create_action(committee, "Already done", olive.id, date(2027, 3, 15))
    actions.post_update(done, clerk, "Finished", "complete")
    cancelled = actions.create_action(committee, "Dropped", sue.id, date(2027, 3, 15))
    actions.post_update(cancelled, clerk, "No longer needed", "cancelled")
    actions.create_action(
        committee, "Nobody to tell", people["Nia Noaddress"].id, date(2027, 3, 15)
    )
    actions.create_action(committee, "Long overdue", olive.id, date(2026, 1, 5))
    db.session.commit()
    services.send_due(db.session)  # the "action for you" messages
    smtp.envelopes.clear()
    kinds = ("action_reminder", "action_overdue")

    send("2027-03-07T23:59")  # eight days before
    assert _keys(db, *kinds) == []
    send("2027-03-08T00:01")  # seven days before, by the committee's (London) clock
    assert _keys(db, *kinds) == [f"reminder:{plan.id}:2027-03-15"]
    send("2027-03-08T00:02")
    send("2027-03-08T00:01")  # the same moment again
    send("2027-03-11T09:00")
    assert _keys(db, *kinds) == [f"reminder:{plan.id}:2027-03-15"]
    send("2027-03-12T09:00")  # three days before, for the committee that asks for three
    assert _keys(db, *kinds) == sorted(
        [f"reminder:{plan.id}:2027-03-15", f"reminder:{short.id}:2027-03-15"]
    )
    send("2027-03-15T23:59")  # due today is not overdue
    assert len(_keys(db, *kinds)) == 2
    send("2027-03-16T00:01")
    send("2027-03-16T12:00")
    send("2027-03-20T12:00")
    assert _keys(db, "action_overdue") == sorted(
        [f"overdue:{plan.id}:2027-03-15", f"overdue:{short.id}:2027-03-15"]
    )

    reminders = [m for m in smtp.messages if m["Subject"].startswith("Reminder:")]
    assert [m["To"] for m in reminders] == [
        "Olive Officer <olive@example.org>",
        "Sue Member <sue@example.org>",
    ]
    assert reminders[0]["Subject"] == "Reminder: Publish the plan is due Monday 15 March 2027"
    assert reminders[0]["From"] == "Children's Partnership <clerks@example.org>"
    assert reminders[1]["From"] == "Health Board <clerks@example.org>"
    overdue = [m for m in smtp.messages if m["Subject"].startswith("Overdue:")]
    assert len(overdue) == 2
    for message in reminders + overdue:
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            assert "/owner-update/" in body
            assert "Already done" not in body and "Dropped" not in body
    everything = " ".join(m["Subject"] for m in smtp.messages)
    assert "Already done" not in everything
    assert "Dropped" not in everything
    assert "Long overdue" not in everything  # overdue for a year: no notice now
    assert "noaddress" not in " ".join(smtp.recipients)

    # A new due date is a new deadline: its own reminder and notice, once each.
    actions.correct_action(plan, clerk, due_date=date(2027, 4, 1))
    db.session.commit()
    send("2027-03-24T12:00")
    assert f"reminder:{plan.id}:2027-04-01" not in _keys(db, *kinds)
    send("2027-03-25T12:00")
    send("2027-03-26T12:00")
    send("2027-04-02T12:00")
    send("2027-04-03T12:00")
    assert _keys(db, *kinds) == sorted(
        [
            f"overdue:{plan.id}:2027-03-15",
            f"overdue:{plan.id}:2027-04-01",
            f"overdue:{short.id}:2027-03-15",
            f"reminder:{plan.id}:2027-03-15",
            f"reminder:{plan.id}:2027-04-01",
            f"reminder:{short.id}:2027-03-15",
        ]
    )
    # Each queued message went out exactly once.
    sent = [m["Subject"] for m in smtp.messages if m["Subject"].startswith(("Reminder", "Overdue"))]
    assert len(sent) == len(set(sent)) == 6


def test_an_action_closed_before_its_reminder_gets_none(db, f, smtp, send):
    committee, people = _committee(f)
    clerk = f.user(Role.CLERK)
    action = actions.create_action(
        committee, "Finish early", people["Olive Officer"].id, date(2027, 3, 15)
    )
    db.session.commit()
    send("2027-03-01T09:00")
    actions.post_update(action, clerk, "Done", "complete", "grey")
    db.session.commit()
    for moment in ("2027-03-08T09:00", "2027-03-15T09:00", "2027-03-16T09:00"):
        send(moment)
    assert _keys(db, "action_reminder", "action_overdue") == []


def test_the_weekly_digest_once_per_owner_per_iso_week(db, f, smtp, send):
    committee, people = _committee(f)
    other = f.committee("Health Board")
    olive, sue = people["Olive Officer"], people["Sue Member"]
    clerk = f.user(Role.CLERK)
    actions.create_action(committee, "Publish the plan", olive.id, date(2027, 6, 30), rag="amber")
    actions.create_action(other, "Audit the contracts", olive.id)
    finished = actions.create_action(committee, "Finished already", olive.id, date(2027, 1, 1))
    actions.post_update(finished, clerk, "Done", "complete")
    actions.create_action(committee, "Visit the schools", sue.id, date(2027, 2, 1), rag="red")
    only_closed = f.person("Cal Closed", email="cal@example.org")
    closed = actions.create_action(committee, "All wrapped up", only_closed.id)
    actions.post_update(closed, clerk, "Done", "complete")
    actions.create_action(committee, "No address", people["Nia Noaddress"].id)
    db.session.commit()
    services.send_due(db.session)
    smtp.envelopes.clear()

    send("2027-03-01T00:05")  # Monday of ISO week 9
    send("2027-03-03T10:00")
    send("2027-03-07T23:59")  # Sunday, still week 9
    assert _keys(db, "action_digest") == sorted(
        [f"digest:{olive.id}:2027-W09", f"digest:{sue.id}:2027-W09"]
    )
    digests = [m for m in smtp.messages if m["Subject"].startswith("Your open actions")]
    assert sorted(m["To"] for m in digests) == [
        "Olive Officer <olive@example.org>",
        "Sue Member <sue@example.org>",
    ]
    olives = next(m for m in digests if "olive" in m["To"])
    assert olives["Subject"] == "Your open actions, week 9 of 2027: 2 actions"
    for part in ("plain", "html"):
        body = olives.get_body((part,)).get_content()
        assert "Publish the plan" in body and "Wednesday 30 June 2027" in body and "Amber" in body
        assert "Audit the contracts" in body and "No due date" in body and "Not rated" in body
        assert "Children" in body and "Partnership" in body and "Health Board" in body
        assert "Finished already" not in body and "Visit the schools" not in body
        assert body.count("/owner-update/") == 2
    sues = next(m for m in digests if "sue" in m["To"])
    sue_text = sues.get_body(("plain",)).get_content()
    assert "Visit the schools" in sue_text and "Red" in sue_text and "(overdue)" in sue_text
    assert "Publish the plan" not in sue_text
    assert sues["From"] == "Children's Partnership <clerks@example.org>"

    send("2027-03-08T00:05")  # week 10
    send("2027-03-09T00:05")
    assert len(_keys(db, "action_digest")) == 4
    assert len([m for m in smtp.messages if m["Subject"].startswith("Your open actions")]) == 4


def test_draft_minutes_go_to_members_substitutes_and_officers_once(db, f, smtp):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    public_item, exempt_item = meeting.items
    f.minute(meeting, 1, "Budget monitoring", item=public_item)
    f.minute(meeting, 2, "Chief officer disciplinary case", item=exempt_item)
    f.with_minutes_state(meeting, MinutesState.DRAFT)
    db.session.commit()
    minutes.publish_minutes(meeting)
    db.session.commit()
    assert services.send_due(db.session) == 4
    assert smtp.recipients == [
        "cllr@example.org",
        "olive@example.org",
        "sam@example.org",
        "sue@example.org",
    ]
    for message in smtp.messages:
        assert message["Subject"].startswith("Draft minutes circulated: Children's Partnership")
        person = db.session.get(Message, _message_id(db, message)).person_id
        may_see = meeting.can_see_restricted(services.PersonReader(person))
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            assert f"/meetings/{meeting.id}/" in body
            assert "Budget monitoring" in body
            assert ("Chief officer disciplinary case" in body) == may_see
    assert services.send_due(db.session) == 0
    assert db.session.query(Message).filter_by(kind="minutes_published").count() == 4


def _message_id(db, message) -> int:
    return db.session.scalar(select(Message.id).where(Message.message_id == message["Message-ID"]))


def test_the_minutes_message_never_names_exempt_business_to_those_who_may_not_see_it(db, f):
    committee, _people = _committee(f)
    committee.publish_draft_minutes = True
    meeting = _meeting(f, committee)
    public_item, exempt_item = meeting.items
    f.minute(meeting, 1, "Budget monitoring", item=public_item)
    f.minute(meeting, 2, "Chief officer disciplinary case", item=exempt_item)
    f.with_minutes_state(meeting, MinutesState.PUBLISHED)
    outsider = f.person("Pat Public", email="pat@example.org")
    member = _people["Sue Member"]
    assert meeting.can_see_restricted(services.PersonReader(member.id))
    shown = minutes_message(meeting, services.PersonReader(member.id))["body_text"]
    assert "Chief officer disciplinary case" in shown
    for reader in (None, services.PersonReader(outsider.id)):
        assert not meeting.can_see_restricted(reader)
        message = minutes_message(meeting, reader)
        for part in (message["body_text"], message["body_html"], message["subject"]):
            assert "Chief officer disciplinary case" not in part
        assert "Budget monitoring" in message["body_text"]
        assert "Business not for publication" in message["body_text"]

    # Draft minutes only members may read: one who may not is told nothing of their contents.
    committee.publish_draft_minutes = False
    message = minutes_message(meeting, services.PersonReader(outsider.id))
    assert "Budget monitoring" not in message["body_text"]
    assert f"/meetings/{meeting.id}/" in message["body_text"]
