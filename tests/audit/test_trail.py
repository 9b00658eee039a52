"""The audit trail of a meeting: events keep their meeting, and updates keep old and new
values."""

from sqlalchemy import select

from app.agenda import services as agenda
from app.audit.models import AuditEvent
from app.audit.services import meeting_trail, record

REASON = "Commercially sensitive tender prices."


def test_update_records_old_and_new_values_of_changed_fields_only(db, f):
    m = f.meeting(f.committee())
    item = f.item(m, "Land at Moorgate")
    db.session.commit()
    agenda.update_item(
        item,
        title="Land at Moorgate Road",
        purpose=None,
        visibility="exempt",
        exempt_paragraphs=[3, 1],
        public_interest_reason=REASON,
    )
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.verb == "agenda_item_updated")
    ).one()
    assert event.data["meeting_id"] == m.id
    assert event.data["changes"] == {
        "title": ["Land at Moorgate", "Land at Moorgate Road"],
        "visibility": ["public", "exempt"],
        "exempt_paragraphs": [[], [1, 3]],
        "public_interest_reason": [None, REASON],
    }
    assert ("Exempt paragraphs", "(none)", "1, 3") in event.changed_values
    assert event.other_fields == []
    db.session.commit()
    # Nothing changed: the event says so rather than listing every field sent.
    agenda.update_item(item, title="Land at Moorgate Road")
    latest = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert latest.data["changes"] == {} and latest.changed_values == []


def test_trail_finds_events_of_deleted_items_and_older_unlabelled_events(db, f):
    m = f.meeting(f.committee())
    other = f.meeting(f.committee())
    kept = f.item(m, "Kept")
    gone = f.item(m, "Gone")
    doc = f.document(gone, "Appendix")
    db.session.commit()
    # Recorded before events named their meeting: found through the item still on the agenda.
    old = AuditEvent(verb="agenda_item_added", entity_type="agenda_items", entity_id=kept.id)
    # Labelled for another meeting, though its id matches an item here (ids can be reused).
    stray = AuditEvent(
        verb="agenda_item_added",
        entity_type="agenda_items",
        entity_id=kept.id,
        data={"meeting_id": other.id},
        meeting_id=other.id,  # as recorded, and as the migration fills it from the data
    )
    db.session.add_all([old, stray])
    added = record("document_added", doc, summary="Appendix")
    agenda.delete_item(gone)
    db.session.commit()
    trail = meeting_trail(m)
    assert old in trail and stray not in trail and added in trail
    assert added.data["meeting_id"] == m.id == added.meeting_id
    assert any(e.verb == "agenda_item_deleted" and e.summary == "Gone" for e in trail)
    assert stray in meeting_trail(other) and old not in meeting_trail(other)


def test_api_changes_are_recorded_as_the_tokens_user_never_system(client, db, f, sign_in):
    from datetime import UTC, datetime, timedelta

    from app.auth.services import issue_token
    from app.models import Role

    c = f.committee()
    member = f.person("Sue Wilson")
    f.membership(c, member)
    m = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=20))
    clerk = f.user(Role.CLERK, name="Dawn Clerk")
    headers = {"Authorization": f"Bearer {issue_token(clerk)}"}
    db.session.commit()
    r = client.patch(f"/api/v1/meetings/{m.id}", headers=headers, json={"title": "Budget"})
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.put(
        f"/api/v1/meetings/{m.id}/attendance/{member.id}",
        headers=headers,
        json={"status": "absent"},
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.verb.in_(["meeting_retitled", "attendance_set"]))
    ).all()
    assert sorted(e.verb for e in events) == ["attendance_set", "meeting_retitled"]
    assert {e.user_id for e in events} == {clerk.id}
    # The token's user is the request's only: nothing signs a browser in.
    assert "Set-Cookie" not in r.headers

    sign_in(f.user(Role.CLERK))
    page = client.get(f"/meetings/{m.id}/audit").get_data(as_text=True)
    assert "Dawn Clerk" in page and "System" not in page
