"""The meeting's own rules at both doors (page and API): its title, late supplements."""

from datetime import UTC, datetime, timedelta

import pytest

from app.agenda import publication as agenda_publication
from app.agenda.services import add_item
from app.auth.services import issue_token
from app.meetings import services
from app.models import AuditEvent, Regime, Role


@pytest.fixture
def clerk(db, f, sign_in):
    user = f.user(Role.CLERK, name="Jo Clerk")
    db.session.commit()
    sign_in(user)
    return user


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


def test_the_title_is_set_by_the_service_from_the_edit_page(client, db, f, clerk):
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    db.session.commit()
    form = {
        "day": ["15", "7", "2026"],
        "starts": "14:00",
        "venue": "",
        "title": "Budget\u202e meeting",
        "version": str(m.version),
    }
    r = client.post(f"/meetings/{m.id}/edit", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(m)
    assert m.title == "Budget meeting" and m.ical_sequence == 1
    event = AuditEvent.query.filter_by(verb="meeting_retitled").one()
    assert event.user_id == clerk.id and event.data["changes"]["title"] == [None, "Budget meeting"]
    r = client.post(
        f"/meetings/{m.id}/edit", data={**form, "title": "x" * 400, "version": str(m.version)}
    )
    assert r.status_code == 400
    db.session.refresh(m)
    assert m.title == "Budget meeting"


def test_the_title_through_the_api_is_the_same_rule(client, db, f):
    m = f.meeting(f.committee())
    headers = bearer(f.user(Role.CLERK))
    db.session.commit()
    url = f"/api/v1/meetings/{m.id}"
    r = client.patch(url, headers=headers, json={"title": "Budget", "version": m.version})
    assert r.status_code == 200 and r.get_json()["title"] == "Budget"
    r = client.patch(url, headers=headers, json={"title": "Later", "version": 1})
    assert r.status_code == 409
    r = client.patch(url, headers=headers, json={"title": "y" * 400})
    assert r.status_code == 422 and "title" in r.get_json()["errors"]
    r = client.patch(url, headers=headers, json={"title": None})
    assert r.status_code == 200 and r.get_json()["title"] is None
    assert AuditEvent.query.filter_by(verb="meeting_retitled").count() == 2


def test_an_approved_record_keeps_its_title(db, f):
    from app.core.errors import Conflict
    from app.models import MinutesState

    m = f.meeting(
        f.committee(),
        title="Budget",
        minutes_state=MinutesState.APPROVED,
        minutes_approved_at=datetime.now(UTC),
    )
    with pytest.raises(Conflict) as info:
        services.retitle(m, "Something else")
    assert "approved and locked" in info.value.detail and m.title == "Budget"


def late_meeting(f):
    c = f.committee(regime=Regime.PRINCIPAL)
    m = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=3))
    f.item(m, "Apologies")
    return m


def test_a_late_supplement_through_the_api_needs_its_own_reason(client, db, f):
    m = late_meeting(f)
    headers = bearer(f.user(Role.CLERK))
    db.session.commit()
    url = f"/api/v1/meetings/{m.id}/publish"
    r = client.post(url, headers=headers, json={"late_reason": "Report was delayed"})
    assert r.status_code == 201 and r.get_json()["late_reason"] == "Report was delayed"
    add_item(m, title="Budget report")
    db.session.commit()
    r = client.post(url, headers=headers, json={"summary": "Added at the chair's request"})
    assert r.status_code == 422 and "late_reason" in r.get_json()["errors"]
    r = client.post(
        url,
        headers=headers,
        json={"summary": "Added at the chair's request", "late_reason": "Budget set on Friday"},
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["late"] and body["late_reason"] == "Budget set on Friday"
    assert "Budget report" in body["summary"]
    db.session.refresh(m)
    assert [p.late_reason for p in m.publications] == ["Report was delayed", "Budget set on Friday"]


def test_the_agenda_page_asks_a_late_supplement_for_its_reason(client, db, f, clerk):
    m = late_meeting(f)
    db.session.commit()
    agenda_publication.publish_agenda(m, clerk, late_reason="Report was delayed")
    add_item(m, title="Budget report")
    db.session.commit()
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert 'name="late_reason"' in page and 'name="summary"' in page
    assert "The deadline has passed" in page
    r = client.post(
        f"/meetings/{m.id}/publish", data={"late_reason": "Budget set on Friday", "summary": ""}
    )
    assert r.status_code == 302
    shown = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Reason: Report was delayed" in shown and "Reason: Budget set on Friday" in shown
    audit = client.get(f"/meetings/{m.id}/audit").get_data(as_text=True)
    assert "Published late: Budget set on Friday" in audit


def test_an_on_time_agenda_shows_no_late_reason(client, db, f, clerk):
    m = f.meeting(f.committee(regime=Regime.PRINCIPAL), starts_at=datetime.now(UTC) + timedelta(30))
    f.item(m, "Apologies")
    db.session.commit()
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert 'name="late_reason"' not in page
    agenda_publication.publish_agenda(m, clerk)
    db.session.commit()
    assert "Reason:" not in client.get(f"/meetings/{m.id}/").get_data(as_text=True)


def test_pages_with_late_revisions_are_valid_html(client, db, f, clerk, tmp_path):
    from tests.web.test_html_validity import _checker, vnu_messages

    _checker()  # skip (or, in CI, fail) before building anything when there is no checker
    m = late_meeting(f)
    db.session.commit()
    agenda_publication.publish_agenda(m, clerk, late_reason="Report was delayed")
    add_item(m, title="Budget report")
    db.session.commit()
    for name, url in (("agenda", f"/meetings/{m.id}/agenda"), ("show", f"/meetings/{m.id}/")):
        (tmp_path / f"{name}.html").write_text(client.get(url).get_data(as_text=True))
    messages = vnu_messages(tmp_path.glob("*.html"))
    assert [m for m in messages if m.get("type") == "error"] == []
