"""An owner's personal link, end to end: from the message a real SMTP server received to the
update form, without signing in, to the action's history as from that person; and every way
a link stops working (expired, withdrawn by a clerk, the action passed to someone else), with
a page that says which, and never opening another action."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from app.actions import services as actions
from app.core.db import utcnow
from app.core.permissions import Role
from app.notifications import owner_links, services
from app.notifications.models import OwnerLink
from tests.notifications.test_messages import _committee
from tests.web.test_unique_ids import id_problems

LINK = re.compile(r"https?://\S+?(/owner-update/\d+/[A-Za-z0-9._\-]+)")


@pytest.fixture
def csrf(app):
    """CSRF protection on, as outside the test configuration."""
    saved = app.config.get("WTF_CSRF_ENABLED")
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = saved


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _links(message) -> list[str]:
    return LINK.findall(message.get_body(("plain",)).get_content())


def _setup(db, f, smtp):
    committee, people = _committee(f)
    clerk = f.user(Role.CLERK)
    olive = people["Olive Officer"]
    action = actions.create_action(
        committee, "Report on school places", olive.id, date(2027, 3, 15), user=clerk
    )
    other = actions.create_action(committee, "Review transport", olive.id, user=clerk)
    db.session.commit()
    assert services.send_due(db.session) == 2
    by_subject = {m["Subject"]: m for m in smtp.messages}
    (path,) = _links(by_subject["Action for you: Report on school places"])
    (other_path,) = _links(by_subject["Action for you: Review transport"])
    html = by_subject["Action for you: Report on school places"].get_body(("html",)).get_content()
    assert path in html
    return committee, people, clerk, action, other, path, other_path


def test_the_owner_updates_by_link_without_signing_in(db, f, smtp, client, csrf):
    _c, _p, _clerk, action, _other, path, _other_path = _setup(db, f, smtp)
    assert path.startswith(f"/owner-update/{action.id}/")

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Report on school places" in html
    assert "You are reporting as Olive Officer" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert id_problems(html) == []

    # Without the form's CSRF token the post is refused and nothing is recorded.
    refused = client.post(path, data={"note": "Forged", "version": str(action.version)})
    assert refused.status_code == 400
    db.session.expire_all()
    assert action.updates == []

    # Nothing to report: the form comes back with its errors, ids still unique.
    empty = client.post(path, data={"csrf_token": _token(html), "version": str(action.version)})
    assert empty.status_code == 400
    assert "Add a note, a status or a RAG rating." in empty.get_data(as_text=True)
    assert id_problems(empty.get_data(as_text=True)) == []

    posted = client.post(
        path,
        data={
            "csrf_token": _token(html),
            "version": str(action.version),
            "note": "Draft report with the head teachers",
            "status": "in_progress",
            "rag": "amber",
        },
    )
    assert posted.status_code == 302
    assert urlsplit(posted.headers["Location"]).path == path
    db.session.expire_all()
    assert action.status.value == "in_progress" and action.rag.value == "amber"
    (entry,) = [h for h in actions.action_history(action) if h.kind == "update"]
    assert entry.by == "Olive Officer"
    assert entry.note == "Draft report with the head teachers"
    assert (update := action.updates[0]).author_user_id is None
    assert update.author_person_id == action.owner_id
    again = client.get(path).get_data(as_text=True)
    assert "Thank you: your update is recorded" in again
    assert "Draft report with the head teachers" in again
    assert db.session.query(OwnerLink).filter(OwnerLink.used_at.is_not(None)).count() == 1

    # The same link still works for the next report.
    assert client.get(path).status_code == 200


def test_a_link_for_one_action_never_opens_another(db, f, smtp, client):
    _c, _p, _clerk, action, other, path, other_path = _setup(db, f, smtp)
    token = path.rsplit("/", 1)[1]
    other_token = other_path.rsplit("/", 1)[1]
    for url in (
        f"/owner-update/{other.id}/{token}",
        f"/owner-update/{action.id}/{other_token}",
        f"/owner-update/{action.id}/{token[:-2]}xx",
        f"/owner-update/{action.id}/not-a-token",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "This link does not work" in response.get_data(as_text=True)
        refused = client.post(url, data={"note": "Sneaky", "version": "1"})
        assert refused.status_code == 404
    db.session.expire_all()
    assert action.updates == [] and other.updates == []


def test_an_expired_link_is_refused_with_a_clear_message(db, f, smtp, client):
    _c, _p, _clerk, action, _other, path, _other_path = _setup(db, f, smtp)
    row = db.session.query(OwnerLink).filter_by(action_id=action.id).one()
    row.created_at = utcnow() - timedelta(days=40)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert client.post(path, data={"note": "Late", "version": "1"}).status_code == 410
    db.session.expire_all()
    assert action.updates == []
    # The expiry is the one the configuration gives.
    fresh = owner_links.open_link(action.id, path.rsplit("/", 1)[1], now=row.expires_at)
    assert fresh.refusal == owner_links.Refusal.EXPIRED


def test_a_clerk_withdraws_the_links(app, db, f, smtp, client, sign_in):
    _c, people, clerk, action, _other, path, other_path = _setup(db, f, smtp)
    links_page = f"/owner-update/actions/{action.id}/links"
    anonymous = app.test_client()
    assert anonymous.get(links_page).status_code == 404
    member = f.user(Role.MEMBER, person=people["Sue Member"])
    db.session.commit()
    sign_in(member)
    assert client.get(links_page).status_code == 403
    client.post("/sign-out")
    sign_in(clerk)
    client.get("/")  # shows (and so clears) the sign-out and sign-in banners
    page = client.get(links_page)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert id_problems(html) == []
    assert anonymous.get(path).status_code == 200
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get(links_page).get_data(as_text=True)
        assert client.post(links_page, data={}).status_code == 400  # no CSRF token
        assert anonymous.get(path).status_code == 200
        done = client.post(links_page, data={"csrf_token": _token(html)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert done.status_code == 302
    after = client.get(links_page).get_data(as_text=True)
    assert "1 link withdrawn" in after
    assert "No links for this action still work." in after

    response = anonymous.get(path)
    assert response.status_code == 410
    assert "This link has been withdrawn" in response.get_data(as_text=True)
    # Only that action's links: the other action's still works.
    assert anonymous.get(other_path).status_code == 200


def test_the_link_stops_when_the_action_passes_to_someone_else(db, f, smtp, client):
    _c, people, clerk, action, _other, path, _other_path = _setup(db, f, smtp)
    smtp.envelopes.clear()
    actions.correct_action(action, clerk, owner_id=people["Sue Member"].id)
    db.session.commit()
    assert services.send_due(db.session) == 1
    (sue_path,) = _links(smtp.to("sue@example.org")[0])
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has been withdrawn" in response.get_data(as_text=True)
    page = client.get(sue_path)
    assert page.status_code == 200
    assert "You are reporting as Sue Member" in page.get_data(as_text=True)
    revoked = db.session.query(OwnerLink).filter(OwnerLink.revoked_at.is_not(None)).one()
    assert revoked.person_id == people["Olive Officer"].id

    # Back to Olive: her old link stays withdrawn; she is sent a new one.
    actions.correct_action(action, clerk, owner_id=people["Olive Officer"].id)
    db.session.commit()
    assert client.get(path).status_code == 410
    assert client.get(sue_path).status_code == 410


def test_the_update_page_is_valid_html(db, f, smtp, client, tmp_path):
    from tests.web.test_html_validity import _checker, vnu_messages

    _checker()
    _c, _p, _clerk, action, _other, path, _other_path = _setup(db, f, smtp)
    actions.post_update(action, services.PersonReader(action.owner_id), "Started", "in_progress")
    db.session.commit()
    (tmp_path / "update.html").write_text(client.get(path).get_data(as_text=True))
    (tmp_path / "refused.html").write_text(
        client.post(path, data={"version": str(action.version)}).get_data(as_text=True)
    )
    (tmp_path / "invalid.html").write_text(
        client.get(f"/owner-update/{action.id}/nonsense").get_data(as_text=True)
    )
    messages = vnu_messages(tmp_path.glob("*.html"))
    assert not [m for m in messages if m.get("type") == "error"], messages
