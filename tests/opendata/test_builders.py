import json

import pytest
from flask_login import AnonymousUserMixin

from app.agenda import services as agenda
from app.models import AttendanceStatus, MinutesState, ResolutionVote, Role, VoteChoice
from app.opendata.builders import meeting_to_ocd_event, popolo_export

CANARY = "CANARY-EXEMPT-7f3a"
ANON = AnonymousUserMixin()
BASE = "https://minutes.example.org"


@pytest.fixture
def meeting(db, f):
    c = f.committee("Children, Young People and Families Partnership")
    m = f.published_meeting(c, venue="Town Hall")
    agenda.add_item(m, title="Apologies for absence", kind="apologies")
    parent = agenda.add_item(m, title="Issues and concerns")
    agenda.add_item(m, parent=parent, title="Youth Cabinet")
    agenda.add_item(m, parent=parent, title="Parent and Carers Forum")
    exempt = agenda.add_item(
        m,
        title="Placement costs",
        visibility="exempt",
        exempt_paragraphs=[1, 3],
        public_interest_reason="Personal data.",
        purpose=f"Purpose {CANARY}",
    )
    f.document(exempt, f"Appendix {CANARY}")
    chair = f.person("Lakin", honorific="Councillor")
    f.attendance(m, chair, AttendanceStatus.PRESENT, in_chair=True)
    return m


def test_ocd_event_shape_and_dotted_order(meeting, f):
    f.with_minutes_state(meeting, MinutesState.APPROVED)
    event = meeting_to_ocd_event(meeting, ANON, BASE)
    assert event["id"].startswith("ocd-event/") and event["status"] == "confirmed"
    assert event["start_date"].endswith(("+00:00", "+01:00"))
    orders = [(a["order"], a["description"]) for a in event["agenda"]]
    assert orders[:4] == [
        ("1", "Apologies for absence"),
        ("2", "Issues and concerns"),
        ("2.1", "Youth Cabinet"),
        ("2.2", "Parent and Carers Forum"),
    ]
    exempt = next(a for a in event["agenda"] if a["description"] == "Placement costs")
    assert exempt["extras"]["exempt"] is True
    assert exempt["extras"]["schedule_12a_paragraphs"] == [1, 3]
    assert exempt["notes"] == ["NOT FOR PUBLICATION"] and exempt["media"] == []
    assert CANARY not in json.dumps(event)
    (chair,) = (p for p in event["participants"] if p["entity_type"] == "person")
    assert chair["name"] == "Councillor Lakin" and chair["note"] == "present (in the chair)"
    assert chair["id"].startswith("ocd-person/")
    assert meeting_to_ocd_event(meeting, ANON, BASE)["id"] == event["id"]  # stable


def test_ocd_event_for_members_carries_exempt_papers(meeting, f):
    member = f.member_user(meeting.committee)
    assert CANARY in json.dumps(meeting_to_ocd_event(meeting, member, BASE))
    outsider = f.member_user(f.committee())
    assert CANARY not in json.dumps(meeting_to_ocd_event(meeting, outsider, BASE))


def test_draft_agenda_and_minutes_not_in_public_event(db, f):
    m = f.meeting(f.committee())
    agenda.add_item(m, title=f"Draft item {CANARY}")
    f.attendance(m, f.person(f"Person {CANARY}"))
    public = json.dumps(meeting_to_ocd_event(m, ANON, BASE))
    assert CANARY not in public
    assert CANARY in json.dumps(meeting_to_ocd_event(m, f.user(Role.CLERK), BASE))


def test_popolo_export_with_votes(db, f):
    c = f.committee()
    p = f.person("Lakin", email="lakin@example.org")
    f.membership(c, p, "chair")
    m = f.with_minutes_state(f.meeting(c), MinutesState.APPROVED)
    r = f.resolution(
        f.minute(m, 1, "Budget"), "That the budget be approved.", votes_for=7, votes_against=2
    )
    db.session.add(ResolutionVote(resolution=r, person=p, vote=VoteChoice.FOR))
    hidden = f.resolution(f.minute(f.meeting(c), 2, "Draft"), "That a draft be secret.")
    db.session.flush()
    out = popolo_export([c], [r, hidden], ANON)
    assert out["organizations"][0]["name"] == c.name
    assert out["memberships"][0]["role"] == "chair"
    assert [mo["text"] for mo in out["motions"]] == ["That the budget be approved."]
    assert out["vote_events"][0]["counts"] == [
        {"option": "yes", "value": 7},
        {"option": "no", "value": 2},
    ]
    assert out["vote_events"][0]["votes"] == [{"voter_id": f"person-{p.id}", "option": "yes"}]
    assert "lakin@example.org" not in json.dumps(out)
