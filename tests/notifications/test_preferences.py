"""What each person chooses to receive, and every kind of message together through a real
SMTP server: each goes once to the people it is for, as their choices and a subscriber's
confirmation say, and to no one else."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.actions import services as actions
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.auth import services as auth_services
from app.core.permissions import Role
from app.meetings import attendance
from app.meetings.models import MinutesState
from app.minutes import services as minutes
from app.notifications import preferences, services, subscriptions
from app.notifications.due import queue_due
from app.notifications.models import Kind, Message, OptOut, Subscription
from tests.factories import PASSWORD
from tests.notifications.test_messages import _committee, _meeting

PREFERENCES = re.compile(r"https?://\S+?(/notifications/preferences/[A-Za-z0-9._\-]+)")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def csrf(app):
    saved = app.config.get("WTF_CSRF_ENABLED")
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = saved


def test_wants_asks_the_persons_choices_and_a_subscribers_confirmation(db, f):
    committee, people = _committee(f)
    sue = people["Sue Member"]
    assert all(preferences.wants(sue, kind) for kind in Kind)
    preferences.choose(sue.id, [Kind.MINUTES, Kind.REMINDERS])
    assert preferences.chosen(sue.id) == {Kind.MINUTES, Kind.REMINDERS}
    assert not preferences.wants(sue, Kind.AGENDA)
    assert not preferences.wants(sue.id, "action_digest")
    assert preferences.wants(sue, "action_reminder")
    # Not a matter of choice.
    assert preferences.wants(sue, "action_assigned")
    assert preferences.wants(sue, "apologies_acknowledged")
    assert preferences.wants(None, Kind.AGENDA)  # an address that is no one's: the clerk's
    # Choosing again replaces the choice.
    preferences.choose(sue.id, list(Kind))
    assert db.session.scalars(select(OptOut)).all() == []

    subscriptions.subscribe(committee, "pat@example.org")
    pat = db.session.scalar(select(Subscription))
    assert not preferences.wants(pat, Kind.AGENDA)
    subscriptions.confirm(pat)
    assert preferences.wants(pat, Kind.AGENDA)
    assert not preferences.wants(pat, Kind.MINUTES)


def _sign_in(client, user) -> None:
    token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    r = client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302


def test_a_signed_in_member_chooses_on_the_page(db, f, client, csrf):
    _c, people = _committee(f)
    user = f.user(Role.MEMBER, email="sue.account@example.org", person=people["Sue Member"])
    unlinked = f.user(Role.VIEWER, email="viewer@example.org")
    db.session.commit()
    assert client.get("/notifications/preferences").status_code == 302  # sign in first
    _sign_in(client, user)
    page = client.get("/notifications/preferences")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("checked") == len(Kind)
    assert "an action assigned to you" in html  # always sent, and the page says so
    r = client.post(
        "/notifications/preferences",
        data={"kinds": ["minutes", "overdue"], "csrf_token": CSRF.search(html).group(1)},
    )
    assert r.status_code == 302
    assert preferences.chosen(people["Sue Member"].id) == {Kind.MINUTES, Kind.OVERDUE}
    # Without the form's token nothing changes.
    assert client.post("/notifications/preferences", data={"kinds": []}).status_code == 400
    assert preferences.chosen(people["Sue Member"].id) == {Kind.MINUTES, Kind.OVERDUE}

    client.post("/sign-out", data={"csrf_token": CSRF.search(html).group(1)})
    _sign_in(client, unlinked)
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert "not linked to anyone" in html and 'name="kinds"' not in html


def test_each_message_to_a_person_links_their_page_which_works_without_signing_in(
    app, db, f, smtp, csrf
):
    committee, people = _committee(f)
    meeting = _meeting(f, committee)
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    services.send_due(db.session)
    [sue] = smtp.to("sue@example.org")
    for part in ("plain", "html"):
        assert "Choose which messages you receive" in sue.get_body((part,)).get_content()
    path = PREFERENCES.search(sue.get_body(("plain",)).get_content()).group(1)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Sue Member" in html
    r = visitor.post(path, data={"kinds": ["minutes"], "csrf_token": CSRF.search(html).group(1)})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == path
    assert preferences.chosen(people["Sue Member"].id) == {Kind.MINUTES}
    assert visitor.get(path[:-3] + "abc").status_code == 404

    smtp.envelopes.clear()
    agenda.add_item(meeting, title="Libraries")
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    services.send_due(db.session)
    assert "sue@example.org" not in smtp.recipients
    assert "cllr@example.org" in smtp.recipients


def test_every_kind_goes_once_to_the_right_people_and_no_one_else(db, f, smtp):
    committee, people = _committee(f)
    sue, olive, sam = people["Sue Member"], people["Olive Officer"], people["Sam Substitute"]
    chair = people["Cllr Chair"]
    preferences.choose(sue.id, [Kind.MINUTES, Kind.REMINDERS, Kind.OVERDUE])
    preferences.choose(olive.id, [])  # nothing that can be refused
    subscriptions.subscribe(committee, "pat@example.org")
    subscriptions.confirm(db.session.scalar(select(Subscription)))
    subscriptions.subscribe(committee, "quinn@example.org")  # never confirmed
    clerk = f.user(Role.CLERK, email="clerk.user@example.org")
    chair_user = f.user(Role.MEMBER, email="chair.account@example.org", person=chair)
    newcomer = f.person("Nell Newcomer", email="nell@example.org")

    meeting = _meeting(f, committee)
    agenda_publication.publish_agenda(meeting)
    agenda.add_item(meeting, title="Youth services review")
    agenda_publication.publish_agenda(meeting)
    attendance.send_apologies(meeting, chair_user, "Away.")
    actions.create_action(committee, "Publish the plan", olive.id, date(2027, 3, 15), user=clerk)
    actions.create_action(committee, "Visit the schools", sam.id, date(2027, 3, 10), user=clerk)
    public_item, _exempt = meeting.items[:2]
    f.minute(meeting, 1, "Budget monitoring", item=public_item)
    f.with_minutes_state(meeting, MinutesState.DRAFT)
    db.session.commit()
    minutes.publish_minutes(meeting)
    auth_services.invite(newcomer, Role.MEMBER, by=clerk)
    db.session.commit()
    for moment in (datetime(2027, 3, 8, 9, tzinfo=UTC), datetime(2027, 3, 12, 9, tzinfo=UTC)):
        queue_due(db.session, now=moment)
        services.send_due(db.session, now=moment)

    kinds = {m.message_id: m.kind for m in db.session.scalars(select(Message))}
    # Each message to someone in the register links their choices; a subscriber's, its own.
    for row in db.session.scalars(select(Message)):
        text = row.body_text
        if row.person_id is not None and row.kind != "invitation":
            assert "Choose which messages you receive: " in text, row.kind
            assert "/notifications/preferences/" in row.body_html, row.kind
        if row.kind == "agenda_published" and row.subscription_id is not None:
            assert "Manage your subscription: " in text and "Unsubscribe: " in text
    sent = Counter(
        (kinds[m["Message-ID"]], rcpt)
        for m, envelope in zip(smtp.messages, smtp.envelopes, strict=True)
        for rcpt in envelope.rcpt_tos
    )
    twice = {key: n for key, n in sent.items() if n != 1}
    assert twice == {
        ("agenda_published", r): 2
        for r in ("cllr@example.org", "sam@example.org", "pat@example.org")
    }
    assert sorted(sent) == sorted(
        [
            # The agenda and its supplement (so twice each): not Sue or Olive, who chose not
            # to; the confirmed subscriber, not the unconfirmed one; never the observer.
            ("agenda_published", "cllr@example.org"),
            ("agenda_published", "pat@example.org"),
            ("agenda_published", "sam@example.org"),
            ("apologies_acknowledged", "cllr@example.org"),
            ("apologies_received", "jo@example.org"),
            # Always sent, whatever the owner chose.
            ("action_assigned", "olive@example.org"),
            ("action_assigned", "sam@example.org"),
            ("minutes_published", "cllr@example.org"),
            ("minutes_published", "sam@example.org"),
            ("minutes_published", "sue@example.org"),
            ("action_reminder", "sam@example.org"),
            ("action_overdue", "sam@example.org"),
            ("action_digest", "sam@example.org"),
            ("invitation", "nell@example.org"),
            ("subscription", "pat@example.org"),
            ("subscription", "quinn@example.org"),
        ]
    )
    assert db.session.scalar(select(Message.id).where(Message.status != "sent")) is None
