from datetime import UTC, date, datetime

from app.minutes.queries import decisions_query, minute_by_number


def test_decisions_register_filters(db, f):
    c, other = f.committee(), f.committee()
    may = f.meeting(c, starts_at=datetime(2013, 5, 22, 13, tzinfo=UTC))
    july = f.meeting(c, starts_at=datetime(2013, 7, 17, 13, tzinfo=UTC))
    m1 = f.minute(may, 211, "CYPP Action Plan")
    r1 = f.resolution(m1, "That the action plan be sent electronically to all members.")
    r2 = f.resolution(m1, "That the outturn be noted.", kind="noted")
    r3 = f.resolution(f.minute(july, 220, "Budget"), "That the budget be approved.")
    r4 = f.resolution(f.minute(f.meeting(other), 1, "Other"), "That the plan be adopted.")

    def run(**kw):
        return db.session.scalars(decisions_query(**kw)).all()

    assert run(text="ELECTRONICALLY") == [r1]
    assert run(text="action plan") == [r1, r2]  # the minute's title counts too
    assert run(committee_id=c.id) == [r3, r1, r2]
    assert run(committee_id=c.id, date_from=date(2013, 6, 1)) == [r3]
    assert run(committee_id=c.id, date_to=date(2013, 5, 22)) == [r1, r2]
    assert run(kind="noted") == [r2]
    assert r4 in run(text="plan")
    assert minute_by_number(c, 211) == m1 and minute_by_number(other, 211) is None
