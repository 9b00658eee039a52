"""Issue 16's journeys in a real browser, with the links read from what a real SMTP server
received: a clerk invites a member, who makes an account from the link and signs in; an
action's owner reports progress from the link in their message without signing in; and a
visitor subscribes to a committee's agendas, confirms, and unsubscribes."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.actions import services as actions
from app.actions.models import Action, ActionStatus, Rag
from app.models import MembershipRole, Role
from app.notifications import preferences, services
from app.notifications.models import Kind, Subscription
from tests.factories import PASSWORD
from tests.notifications.conftest import mail_settings, smtp, smtp_server  # noqa: F401

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Heron lantern quarry 51"


def _path(message, pattern: str) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(" + pattern + r")", body).group(1)


def _sent(db) -> None:
    db.session.commit()  # see what the server's requests committed
    services.send_due(db.session)


def sign_in(page, base, email, password=PASSWORD):
    page.goto(base + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, name, role="button"):
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=True).first.click()


def test_a_clerk_invites_a_member_who_makes_an_account_and_signs_in(
    live_server,
    browser,
    page,
    db,
    f,
    smtp,  # noqa: F811
):
    base = live_server
    committee = f.committee("Health Board")
    nia = f.person("Nia Newcomer", email="nia@example.org")
    f.membership(committee, nia, MembershipRole.MEMBER)
    f.user(Role.CLERK, email="clerk@example.org")
    db.session.commit()

    sign_in(page, base, "clerk@example.org")
    page.goto(f"{base}/people/{nia.id}")
    click(page, "Invite to make an account", role="link")
    page.get_by_label("Member: sees what members of their committees may see").check()
    click(page, "Send the invitation")
    assert "An invitation has been sent to nia@example.org" in page.content()
    _sent(db)
    [invitation] = smtp.to("nia@example.org")
    path = _path(invitation, r"/invitation/[^\s]+")

    newcomer = browser.new_context().new_page()
    newcomer.goto(base + path)
    assert "Make your account" in newcomer.content()
    newcomer.fill("#password", NEW_PASSWORD)
    newcomer.fill("#confirm", NEW_PASSWORD)
    click(newcomer, "Make my account")
    assert newcomer.url.startswith(base + "/sign-in")
    assert "Your account is ready" in newcomer.content()
    sign_in(newcomer, base, "nia@example.org", NEW_PASSWORD)
    assert newcomer.get_by_role("button", name="Sign out").is_visible()
    # The link works once.
    newcomer.goto(base + path)
    assert "cannot be used" in newcomer.content()
    newcomer.context.close()


def test_an_owner_reports_progress_by_the_link_without_signing_in(
    live_server,
    page,
    axe,
    db,
    f,
    smtp,  # noqa: F811
):
    base = live_server
    committee = f.committee("Health Board")
    olive = f.person("Olive Officer", email="olive@example.org")
    clerk = f.user(Role.CLERK, email="clerk@example.org")
    action = actions.create_action(
        committee, "Publish the plan", olive.id, date(2027, 3, 15), user=clerk
    )
    db.session.commit()
    _sent(db)
    [message] = smtp.to("olive@example.org")
    path = _path(message, r"/owner-update/\d+/[^\s]+")

    page.goto(base + path)
    assert "Report progress: Publish the plan" in page.content()
    assert "You are reporting as Olive Officer" in page.content()
    page.fill("#note", "Draft with the printers.")
    page.select_option("#status", "in_progress")
    page.get_by_label("Amber: in progress, slipping").check()
    click(page, "Post the update")
    assert "Thank you: your update is recorded" in page.content()
    assert "Draft with the printers." in page.content()
    assert page.get_by_role("link", name="Sign in").is_visible()  # never signed in

    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert (action.status, action.rag) == (ActionStatus.IN_PROGRESS, Rag.AMBER)
    assert action.updates[-1].author_person_id == olive.id

    # The same message links the owner's choices, which need no account either.
    page.goto(base + _path(message, r"/notifications/preferences/[^\s]+"))
    assert "Choose which messages you receive" in page.content()
    assert axe(page) == []
    page.get_by_label("A weekly list of your open actions").uncheck()
    click(page, "Save my choices")
    assert "Your choices are saved" in page.content()
    assert not page.get_by_label("A weekly list of your open actions").is_checked()
    assert preferences.chosen(olive.id) == set(Kind) - {Kind.DIGEST}


def test_a_visitor_subscribes_confirms_and_unsubscribes(
    live_server,
    page,
    axe,
    db,
    f,
    smtp,  # noqa: F811
):
    base = live_server
    committee = f.committee("Health Board")
    db.session.commit()

    page.goto(f"{base}/committees/{committee.slug}/")
    assert axe(page) == []
    page.get_by_label("Email address").fill("not an address")
    click(page, "Subscribe")
    assert "There is a problem" in page.content()
    assert axe(page) == []
    page.get_by_label("Email address").fill("pat@example.org")
    click(page, "Subscribe")
    assert "Check your e-mail" in page.content()
    assert axe(page) == []
    _sent(db)
    [confirmation] = smtp.to("pat@example.org")
    page.goto(base + _path(confirmation, r"/subscriptions/confirm/[^\s]+"))
    assert axe(page) == []
    click(page, "Confirm my subscription")
    assert "You are subscribed to Health Board" in page.content()
    assert axe(page) == []
    db.session.expire_all()
    assert db.session.scalar(select(Subscription)).confirmed_at is not None

    click(page, "Unsubscribe")
    assert "You are unsubscribed" in page.content()
    db.session.expire_all()
    assert db.session.scalars(select(Subscription)).all() == []
