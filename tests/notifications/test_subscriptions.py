"""Subscriptions to a committee's agendas by e-mail, end to end with a real SMTP server: the
form on the committee's page, the confirmation message and its page, the public version of
each agenda and supplement with List-Unsubscribe (RFC 2369) and one-click unsubscribe
(RFC 8058) that needs no session or CSRF token; and what must not happen: anything sent before
confirmation, a second confirmation within minutes, an answer that tells whether an address
is subscribed, an exempt paper named to a subscriber, or mail after unsubscribing."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.core.db import utcnow
from app.notifications import services, subscriptions
from app.notifications.due import queue_due
from app.notifications.models import Message, MessageStatus, Subscription
from tests.notifications.test_messages import _committee, _meeting

CONFIRM = re.compile(r"https?://\S+?(/subscriptions/confirm/[A-Za-z0-9._\-]+)")
UNSUBSCRIBE = re.compile(r"https?://\S+?(/subscriptions/[A-Za-z0-9._\-]+/unsubscribe)")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def csrf(app):
    """CSRF protection on, as outside the test configuration."""
    saved = app.config.get("WTF_CSRF_ENABLED")
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = saved


def _token(html: str) -> str:
    return CSRF.search(html).group(1)


def _subscribe(client, committee, address: str):
    page = client.get(f"/committees/{committee.slug}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'action="/committees/{committee.slug}/subscribe"' in html
    return client.post(
        f"/committees/{committee.slug}/subscribe",
        data={"email": address, "csrf_token": _token(html)},
    )


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def _confirm(client, smtp, address: str) -> None:
    [message] = smtp.to(address)
    path = CONFIRM.search(_plain(message)).group(1)
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm my subscription" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": _token(page.get_data(as_text=True))})
    assert done.status_code == 302


def test_a_confirmed_subscriber_gets_the_public_agenda_and_leaves_with_one_click(
    app, db, f, smtp, client, csrf
):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    db.session.commit()

    answer = _subscribe(client, committee, "Pat.Public@Example.org")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/committees/{committee.slug}/subscribe/sent")
    assert services.send_due(db.session) == 1
    [confirmation] = smtp.to("pat.public@example.org")
    assert "Confirm your subscription" in confirmation["Subject"]
    assert confirmation["List-Unsubscribe"] is None

    # Not yet confirmed: the agenda goes to the members alone.
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    services.send_due(db.session)
    assert len(smtp.to("pat.public@example.org")) == 1

    _confirm(client, smtp, "pat.public@example.org")
    smtp.envelopes.clear()
    agenda.add_item(meeting, title="Youth services review")
    agenda.add_item(
        meeting,
        title="Property acquisition terms",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Disclosure would prejudice the negotiation.",
    )
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    assert services.send_due(db.session) == 5  # four members and one subscriber
    [supplement] = smtp.to("pat.public@example.org")
    assert "revision 2" in supplement["Subject"]
    plain, html = _plain(supplement), supplement.get_body(("html",)).get_content()
    for part in (plain, html, supplement["Subject"]):
        # The public version: no exempt item or paper is ever named to a subscriber.
        assert "Chief officer disciplinary case" not in part
        assert "Investigation report" not in part
        assert "Property acquisition terms" not in part
        assert "variant=members" not in part
    assert "Youth services review" in plain
    assert "Business not for publication" in plain
    unsubscribe = str(supplement["List-Unsubscribe"]).strip()  # a long header is folded
    assert unsubscribe.startswith("<" + app.config["SITE_URL"]) and unsubscribe.endswith(">")
    assert supplement["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlsplit(unsubscribe[1:-1]).path
    assert path in plain

    # RFC 8058: a mail program POSTs with no cookie and no CSRF token.
    mail_program = app.test_client()
    response = mail_program.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert db.session.scalars(select(Subscription)).all() == []
    # A second press is answered the same.
    assert mail_program.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    smtp.envelopes.clear()
    agenda.add_item(meeting, title="Libraries")
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    assert services.send_due(db.session) == 4
    assert smtp.to("pat.public@example.org") == []


def test_the_answer_is_the_same_whatever_the_address_and_no_second_message_soon(
    db, f, smtp, client, csrf
):
    committee, _people = _committee(f)
    db.session.commit()
    first = _subscribe(client, committee, "known@example.org")
    services.send_due(db.session)
    _confirm(client, smtp, "known@example.org")
    smtp.envelopes.clear()

    known = _subscribe(client, committee, "known@example.org")
    new = _subscribe(client, committee, "new@example.org")
    assert (
        (known.status_code, known.headers["Location"])
        == (
            new.status_code,
            new.headers["Location"],
        )
        == (first.status_code, first.headers["Location"])
    )
    sent = client.get(new.headers["Location"]).get_data(as_text=True)
    assert "known@example.org" not in sent and "new@example.org" not in sent

    # Asking again at once sends nothing more to either.
    _subscribe(client, committee, "known@example.org")
    _subscribe(client, committee, "NEW@example.org")
    assert services.send_due(db.session) == 1
    assert smtp.recipients == ["new@example.org"]
    assert "Confirm your subscription" in smtp.to("new@example.org")[0]["Subject"]
    # The confirmed one was told nothing new: its notice window had not passed.
    assert db.session.scalar(
        select(Subscription.notice_sent_at).where(Subscription.email == "known@example.org")
    )


def test_a_confirmed_address_asked_again_later_is_sent_its_manage_link(db, f, smtp):
    committee, _people = _committee(f)
    now = utcnow()
    subscriptions.subscribe(committee, "pat@example.org", now=now)
    row = db.session.scalar(select(Subscription))
    subscriptions.confirm(row)
    subscriptions.subscribe(committee, "pat@example.org", now=now + timedelta(minutes=11))
    db.session.commit()
    assert services.send_due(db.session, now=now + timedelta(minutes=11)) == 2
    later = smtp.to("pat@example.org")[1]
    assert "already receive" in later["Subject"]
    assert f"/subscriptions/{subscriptions.manage_token(row)}" in _plain(later)
    assert "/subscriptions/confirm/" not in _plain(later)


def test_an_address_that_is_not_one_is_refused_on_the_page(db, f, client, csrf):
    committee, _people = _committee(f)
    db.session.commit()
    response = _subscribe(client, committee, "not an address")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#subscribe-email"' in html
    assert db.session.scalars(select(Subscription)).all() == []


def test_an_expired_or_mangled_confirmation_link_confirms_nothing(app, db, f, smtp, client):
    committee, _people = _committee(f)
    long_ago = utcnow() - timedelta(hours=49)
    subscriptions.subscribe(committee, "late@example.org", now=long_ago)
    row = db.session.scalar(select(Subscription))
    token = subscriptions.confirm_token(row)
    db.session.commit()
    assert client.get(f"/subscriptions/confirm/{token[:-2]}xx").status_code == 404
    # Made 49 hours ago by the clock of the serializer: freeze it there.
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    itsdangerous.timed.TimestampSigner.get_timestamp = lambda self: int(long_ago.timestamp())
    try:
        old = subscriptions.confirm_token(row)
    finally:
        itsdangerous.timed.TimestampSigner.get_timestamp = real
    response = client.post(f"/subscriptions/confirm/{old}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Subscription)).confirmed_at is None
    # And the unconfirmed address is forgotten by the next run of the sender.
    queue_due(db.session)
    assert db.session.scalars(select(Subscription)).all() == []


def test_unsubscribing_stops_what_is_already_queued(db, f, smtp, client):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    subscriptions.subscribe(committee, "pat@example.org")
    row = db.session.scalar(select(Subscription))
    subscriptions.confirm(row)
    agenda_publication.publish_agenda(meeting)
    token = subscriptions.manage_token(row)
    db.session.commit()
    queued = db.session.scalar(
        select(Message).where(Message.subscription_id == row.id, Message.kind == "agenda_published")
    )
    assert queued.status == MessageStatus.QUEUED

    page = client.get(f"/subscriptions/{token}")
    assert page.status_code == 200
    assert "Unsubscribe" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert client.get(f"/subscriptions/{token}/unsubscribe").status_code == 200
    assert client.post(f"/subscriptions/{token}/unsubscribe").status_code == 200
    services.send_due(db.session)
    assert smtp.to("pat@example.org") == []
    assert "not subscribed" in client.get(f"/subscriptions/{token}").get_data(as_text=True)
    assert client.post("/subscriptions/forged/unsubscribe").status_code == 404


def test_a_member_who_also_subscribed_gets_one_message_their_own(db, f, smtp):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    subscriptions.subscribe(committee, "sue@example.org")
    subscriptions.confirm(db.session.scalar(select(Subscription)))
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    services.send_due(db.session)
    [sue] = [m for m in smtp.to("sue@example.org") if "Agenda" in m["Subject"]]
    assert "Investigation report" in _plain(sue)
    assert sue["List-Unsubscribe"] is None


def test_the_subscription_pages_are_valid_html(db, f, client, sign_in, tmp_path):
    from tests.web.test_html_validity import _checker, vnu_messages

    _checker()
    committee, people = _committee(f)
    subscriptions.subscribe(committee, "pending@example.org")
    subscriptions.subscribe(committee, "confirmed@example.org")
    pending, confirmed = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
    subscriptions.confirm(confirmed)
    user = f.user(email="sue.account@example.org", person=people["Sue Member"])
    db.session.commit()
    token = subscriptions.manage_token(confirmed)
    pages = {
        "committee": f"/committees/{committee.slug}/",
        "subscribe": f"/committees/{committee.slug}/subscribe",
        "sent": f"/committees/{committee.slug}/subscribe/sent",
        "confirm": f"/subscriptions/confirm/{subscriptions.confirm_token(pending)}",
        "manage": f"/subscriptions/{token}",
        "unsubscribe": f"/subscriptions/{token}/unsubscribe",
    }
    for name, url in pages.items():
        (tmp_path / f"{name}.html").write_text(client.get(url).get_data(as_text=True))
    (tmp_path / "refused.html").write_text(
        client.post(pages["subscribe"], data={"email": "nonsense"}).get_data(as_text=True)
    )
    (tmp_path / "unsubscribed.html").write_text(
        client.post(pages["unsubscribe"]).get_data(as_text=True)
    )
    sign_in(user)
    (tmp_path / "preferences.html").write_text(
        client.get("/notifications/preferences").get_data(as_text=True)
    )
    messages = vnu_messages(tmp_path.glob("*.html"))
    assert not [m for m in messages if m.get("type") == "error"], messages
