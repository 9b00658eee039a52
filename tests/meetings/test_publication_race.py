"""A change made while a supplement is being published is listed in it or in the next one,
never lost between them (PostgreSQL hands out ids on insert, not on commit)."""

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
    m = f.published_meeting(f.committee())
    agenda.add_item(m, title="Budget")
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
    assert "Late report on libraries" in outcome["summary"]
    db.session.expire_all()
    assert agenda_publication.unpublished_changes(db.session.get(Meeting, meeting_id)) == []
