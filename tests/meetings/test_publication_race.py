"""A change made while a supplement is being published is in it or in the next one, never
lost between them: what a supplement lists and what it publishes are one snapshot."""

from __future__ import annotations

import threading

import pytest

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.extensions import db as _db
from app.meetings.models import Meeting


def test_a_change_in_flight_is_in_the_supplement(app, db, f):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; the race is PostgreSQL's")
    m = f.meeting(f.committee())
    agenda.add_item(m, title="Budget")
    agenda_publication.publish_agenda(m, late_reason="Late.")
    agenda.add_item(m, title="Housing")
    db.session.commit()
    meeting_id = m.id
    recorded, publishing = threading.Event(), threading.Event()
    outcome: dict = {}

    def change():
        with app.app_context():
            try:
                meeting = _db.session.get(Meeting, meeting_id)
                agenda.add_item(meeting, title="Late report on libraries")
                recorded.set()
                publishing.wait(10)
                # Still uncommitted while the publication runs (and, with the turn taken,
                # waits for this transaction).
                threading.Event().wait(1.0)
                _db.session.commit()
            except Exception as exc:  # reported below
                outcome["change"] = exc
                recorded.set()
            finally:
                _db.session.remove()

    def publish():
        with app.app_context():
            try:
                recorded.wait(10)
                publishing.set()
                meeting = _db.session.get(Meeting, meeting_id)
                publication = agenda_publication.publish_agenda(meeting, late_reason="Supplement.")
                outcome["summary"] = publication.summary
                _db.session.commit()
            except Exception as exc:
                outcome["publish"] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=change), threading.Thread(target=publish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert "change" not in outcome and "publish" not in outcome, outcome
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting_id)
    pending = agenda_publication.unpublished_changes(meeting)
    published = [i["title"] for i in meeting.publications[-1].snapshot["items"]]
    # Published with the supplement, or waiting for the next one: never in between.
    if "Late report on libraries" in outcome["summary"]:
        assert "Late report on libraries" in published and pending == []
    else:
        assert "Late report on libraries" not in published
        assert any("Late report on libraries" in line for line in pending)
