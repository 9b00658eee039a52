"""The change stamp moves with every write a reader could see, and a pack asked for again
while it stands is found without working out its content key."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from flask import g
from sqlalchemy import event, update

from app.actions import services as actions
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.audit.services import record
from app.core import stamp
from app.extensions import db as ext
from app.models import ChangeStamp, Regime, SearchEntry
from tests.pdfs import make_pdf


def test_the_stamp_moves_once_per_transaction_that_writes_what_readers_see(db, f):
    ext.session.execute(ChangeStamp.__table__.delete())  # even with its row gone
    c = f.committee(regime=Regime.NONE)
    db.session.commit()
    before = stamp.current()
    assert before is not None
    m = f.meeting(c)
    agenda.add_item(m, title="Budget")
    agenda.add_item(m, title="Housing")
    db.session.commit()
    assert stamp.current() == before + 1  # two writes, one transaction: moved once
    record("viewed", m)  # the audit trail alone: no reader sees it in a pack
    db.session.commit()
    assert stamp.current() == before + 1
    db.session.execute(update(SearchEntry).values(title="x"))
    db.session.commit()
    assert stamp.current() == before + 1
    m.venue = "Room 2"
    db.session.rollback()  # a change rolled back moves nothing
    assert stamp.current() == before + 1
    db.session.execute(update(type(m)).where(type(m).id == m.id).values(venue="Room 3"))
    db.session.commit()
    assert stamp.current() == before + 2  # a bulk UPDATE counts too


def _statements(client, path: str) -> tuple[int, object]:
    ext.session.expunge_all()
    g.pop("_login_user", None)
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(ext.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(ext.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response


def test_a_pack_asked_for_again_costs_a_few_queries_until_something_changes(client, db, f):
    c = f.committee(regime=Regime.NONE)
    officer = f.person("Olive Officer")
    m = f.meeting(c, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=30))
    agenda.apply_template(m)
    item = agenda.add_item(m, title="Budget")
    add_document(item, io.BytesIO(make_pdf(2, "Budget")), "b.pdf", "Budget report")
    for n in range(30):  # a record for the action log to read
        actions.create_action(c, f"Action {n}", owner_id=officer.id, due_date=date(2030, 1, 1))
    agenda_publication.publish_agenda(m)
    db.session.commit()
    url = f"/meetings/{m.id}/pack.pdf"
    cold, first = _statements(client, url)
    warm, again = _statements(client, url)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    # One: the meeting with its committee, whether it has items, and the stamp.
    assert warm == 1 < cold, (warm, cold)
    # The front sheet lists the membership: the pack follows it.
    f.membership(db.session.merge(c), f.person("Councillor New"), "member")
    db.session.commit()
    _, changed = _statements(client, url)
    assert changed.headers["ETag"] != first.headers["ETag"]
    _, same = _statements(client, url)
    assert same.headers["ETag"] == changed.headers["ETag"]


def test_the_clerks_page_looks_for_pack_failures_only_where_one_may_be(db, f):
    from app.packs import builder, cache

    c = f.committee(regime=Regime.NONE)
    m = f.meeting(c, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=30))
    item = agenda.add_item(m, title="Budget")
    add_document(item, io.BytesIO(make_pdf(2, "Budget")), "b.pdf", "Budget report")
    agenda_publication.publish_agenda(m)
    db.session.commit()

    meeting_id, item_id = m.id, item.id

    def statements() -> int:
        ext.session.expunge_all()
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(ext.engine, "before_cursor_execute", count)
        try:
            assert cache.pack_problems(ext.session.get(type(m), meeting_id)) == []
        finally:
            event.remove(ext.engine, "before_cursor_execute", count)
        return len(seen)

    assert statements() <= 2  # no build of its packs ever failed: nothing to look for
    for variant in builder.VARIANTS:  # as if one had failed once
        cache._failures_marker(ext.session.get(type(m), meeting_id), variant).touch()
    unbuilt = statements()  # works out both packs' inputs to find their keys
    for variant in builder.VARIANTS:
        cache.pack_file(ext.session.get(type(m), meeting_id), variant)
    built = statements()
    assert built <= 2 < unbuilt, (built, unbuilt)
    # The working copy changed: the memo no longer answers.
    agenda.update_item(ext.session.get(type(item), item_id), title="Budget 2027")
    db.session.commit()
    assert statements() > built
