"""Inviting a person to make an account: the e-mail in the outbox, its link followed, a
password set, signing in, and the link refused once used, once expired and once replaced;
and nothing in any answer says whether an address already has an account."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Invitation, User, hash_token
from app.core.db import utcnow
from app.core.permissions import Role
from app.notifications.models import Message
from tests.auth.test_hardening import _each_request_loads_its_own_user  # noqa: F401
from tests.notifications.conftest import mail_settings, outbox  # noqa: F401

NEW_PASSWORD = "violet kettle submarine orchard"
REFUSED = "This invitation link cannot be used"


@pytest.fixture
def invite_world(db, f):
    clerk = f.user(Role.CLERK, email="clerk@example.org", name="Carol Clerk")
    member = f.user(Role.MEMBER, email="member@example.org", person=f.person("Mia Member"))
    admin = f.user(Role.ADMIN, email="admin@example.org")
    dana = f.person("Dana Officer", job_title="Public Health Consultant", email="dana@example.org")
    mia = member.person
    mia.email = "member@example.org"  # the address has an account already
    db.session.commit()
    return {"clerk": clerk, "member": member, "admin": admin, "dana": dana, "mia": mia}


def _messages(outbox_dir):
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(outbox_dir.glob("*.eml"))
    ]


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    (url,) = re.findall(r"https?://\S+/invitation/\S+", text)
    assert f'href="{url}"' in html  # the same link in both parts
    return urlsplit(url).path


def _invite(client, person, role="member"):
    return client.post(f"/people/{person.id}/invite", data={"role": role})


def test_the_invitation_flow_end_to_end(app, client, sign_in, db, invite_world, outbox):  # noqa: F811
    clerk, dana = invite_world["clerk"], invite_world["dana"]
    sign_in(clerk)
    page = client.get(f"/people/{dana.id}/invite")
    assert page.status_code == 200 and "dana@example.org" in page.get_data(as_text=True)
    response = _invite(client, dana)
    assert response.status_code == 302
    assert "invitation has been sent to dana@example.org" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    (message,) = _messages(outbox)
    assert message["To"] == "Dana Officer <dana@example.org>"
    assert message["Subject"] == "You are invited to make an account"
    path = _link(message)
    token = path.rsplit("/", 1)[1]
    # Only a hash of the token is kept, and not of the link's signed form either.
    invitation = db.session.scalar(select(Invitation))
    assert token not in invitation.token_hash and hash_token(token) != invitation.token_hash
    assert invitation.invited_by_id == clerk.id
    event = db.session.scalar(select(AuditEvent).filter_by(verb="invitation_sent"))
    assert event.user_id == clerk.id and event.entity_id == dana.id

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Make your account" in page.get_data(as_text=True)
    weak = visitor.post(path, data={"password": "password123", "confirm": "password123"})
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    assert db.session.scalar(select(User).filter_by(email="dana@example.org")) is None
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")

    user = db.session.scalar(select(User).filter_by(email="dana@example.org"))
    assert user.person_id == dana.id and user.role == Role.MEMBER and user.active
    accepted = db.session.scalar(select(AuditEvent).filter_by(verb="invitation_accepted"))
    assert accepted.user_id == user.id
    signed_in = visitor.post(
        "/sign-in", data={"email": "dana@example.org", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert visitor.get("/my-meetings").status_code == 200

    # The link works once.
    again = app.test_client().get(path)
    assert again.status_code == 410 and REFUSED in again.get_data(as_text=True)
    reused = app.test_client().post(path, data={"password": "another long passphrase here"})
    assert reused.status_code == 410
    assert db.session.scalar(select(User).filter_by(email="dana@example.org")).check_password(
        NEW_PASSWORD
    )


def test_an_expired_or_replaced_link_is_refused(app, client, sign_in, db, invite_world, outbox):  # noqa: F811
    dana = invite_world["dana"]
    sign_in(invite_world["clerk"])
    assert _invite(client, dana).status_code == 302
    first = _link(_messages(outbox)[0])
    assert app.test_client().get(first).status_code == 200
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = app.test_client().get(first)
    assert expired.status_code == 410 and REFUSED in expired.get_data(as_text=True)
    posted = app.test_client().post(first, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert posted.status_code == 410
    assert db.session.scalar(select(User).filter_by(email="dana@example.org")) is None

    # A new invitation replaces any older one still open.
    assert _invite(client, dana).status_code == 302
    assert _invite(client, dana).status_code == 302
    links = [_link(m) for m in _messages(outbox)]
    assert len(set(links)) == 3
    assert app.test_client().get(links[1]).status_code == 410
    assert app.test_client().get(links[2]).status_code == 200
    # A forged or mangled token gets the same answer.
    for bad in (links[2][:-3] + "abc", "/invitation/not-a-token"):
        response = app.test_client().get(bad)
        assert response.status_code == 410 and REFUSED in response.get_data(as_text=True)


def test_the_invite_page_answers_the_same_whether_or_not_there_is_an_account(
    client,
    sign_in,
    db,
    invite_world,
    outbox,  # noqa: F811
):
    sign_in(invite_world["clerk"])
    answers = []
    for person in (invite_world["dana"], invite_world["mia"]):
        response = _invite(client, person)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        flashed = re.search(r"An invitation has been sent to (\S+)", page)
        answers.append((response.status_code, flashed.group(0).replace(person.email, "ADDR")))
    assert answers[0] == answers[1]
    # Both are told by e-mail; only the one without an account gets a link to make one.
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in _messages(outbox)}
    assert set(by_recipient) == {"dana@example.org", "member@example.org"}
    assert "/invitation/" in by_recipient["dana@example.org"].get_body(("plain",)).get_content()
    existing = by_recipient["member@example.org"].get_body(("plain",)).get_content()
    assert "/invitation/" not in existing and "/sign-in" in existing
    assert db.session.scalar(select(Invitation).filter_by(person_id=invite_world["mia"].id)) is None
    kinds = set(db.session.scalars(select(Message.kind)))
    assert kinds == {"invitation"}


def test_the_sign_in_page_answers_the_same_for_unknown_and_known_addresses(app, invite_world):
    known = app.test_client().post(
        "/sign-in", data={"email": "member@example.org", "password": "wrong password here"}
    )
    unknown = app.test_client().post(
        "/sign-in", data={"email": "nobody@example.org", "password": "wrong password here"}
    )
    assert known.status_code == unknown.status_code == 400

    def body(r):
        return (
            r.get_data(as_text=True)
            .replace("member@example.org", "X")
            .replace("nobody@example.org", "X")
        )

    assert re.sub(r'value="[^"]*"', "", body(known)) == re.sub(r'value="[^"]*"', "", body(unknown))


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_only_staff_invite(app, client, sign_in, db, invite_world, role):
    if role == "member":
        sign_in(invite_world["member"])
    response = _invite(client, invite_world["dana"])
    assert response.status_code == (302 if role == "anonymous" else 404)
    assert db.session.scalar(select(Invitation)) is None


def test_a_clerk_may_not_invite_staff_but_an_admin_may(client, sign_in, db, invite_world, outbox):  # noqa: F811
    sign_in(invite_world["clerk"])
    page = client.get(f"/people/{invite_world['dana'].id}/invite").get_data(as_text=True)
    assert 'value="clerk"' not in page
    response = _invite(client, invite_world["dana"], "admin")
    assert response.status_code == 400
    assert db.session.scalar(select(Invitation)) is None
    client.post("/sign-out")
    sign_in(invite_world["admin"])
    assert _invite(client, invite_world["dana"], "clerk").status_code == 302
    assert db.session.scalar(select(Invitation)).role == Role.CLERK
