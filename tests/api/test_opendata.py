import pytest

from app.agenda import services as agenda
from app.auth.services import issue_token
from app.models import MinutesState

CANARY = "CANARY-OCD-31"


@pytest.fixture
def meeting(db, f):
    c = f.committee("Audit Committee")
    f.membership(c, f.person("Lakin"), "chair")
    m = f.published_meeting(c)
    agenda.add_item(m, title="Budget")
    exempt = agenda.add_item(
        m,
        title="Staffing",
        visibility="exempt",
        exempt_paragraphs=[1],
        public_interest_reason="Personal information.",
        purpose=f"Restructure {CANARY}",
    )
    f.document(exempt, f"Paper {CANARY}")
    f.with_minutes_state(m, MinutesState.APPROVED)
    f.resolution(f.minute(m, 1, "Budget"), "That the budget be approved.", votes_for=5)
    db.session.commit()
    return m


def test_ocd_event_endpoint(client, db, f, meeting):
    body = client.get(f"/api/v1/meetings/{meeting.id}/ocd-event")
    assert body.status_code == 200
    event = body.get_json()
    assert event["classification"] == "committee-meeting"
    assert [a["order"] for a in event["agenda"]][:1] == ["1"]
    assert any(a["extras"]["exempt"] for a in event["agenda"])
    assert CANARY not in body.get_data(as_text=True)
    member = f.member_user(meeting.committee)
    headers = {"Authorization": f"Bearer {issue_token(member)}"}
    db.session.commit()
    assert CANARY in client.get(
        f"/api/v1/meetings/{meeting.id}/ocd-event", headers=headers
    ).get_data(as_text=True)
    assert client.get("/api/v1/meetings/999999/ocd-event").status_code == 404


def test_popolo_endpoint(client, meeting):
    out = client.get("/api/v1/popolo").get_json()
    assert out["organizations"][0]["name"] == "Audit Committee"
    assert out["motions"][0]["text"] == "That the budget be approved."
    assert out["vote_events"][0]["counts"] == [{"option": "yes", "value": 5}]
    assert client.get("/api/v1/popolo?committee=nope").status_code == 404


def test_meeting_page_has_schema_org_json_ld(client, meeting):
    import json
    import re

    html = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert data["@type"] == "Event" and data["organizer"]["name"] == "Audit Committee"
    assert CANARY not in block.group(1)
