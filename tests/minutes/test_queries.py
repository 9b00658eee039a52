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


def test_visible_minutes_in_sql_agrees_with_the_predicate(db, f):
    """The SQL filter the decisions register and home page use must give exactly what
    Minute.can_view gives, for every kind of reader and every state of the minutes."""
    from flask_login import AnonymousUserMixin
    from sqlalchemy import select

    from app.core.permissions import CommitteeReader
    from app.minutes.queries import visible_minutes
    from app.models import Membership, Minute, MinutesState, Role, Visibility

    committees = [f.committee(publish_draft_minutes=flag) for flag in (False, True)]
    n = 1
    for c in committees:
        for state in MinutesState:
            m = f.with_minutes_state(f.meeting(c), state)
            f.minute(m, n, "No item")
            f.minute(m, n + 1, "Public item", item=f.item(m, "Public"))
            f.minute(
                m,
                n + 2,
                "Exempt item",
                item=f.item(
                    m, "Exempt", visibility=Visibility.EXEMPT, public_interest_reason="Tender"
                ),
            )
            f.minute(
                m, n + 3, "Confidential", item=f.item(m, "Conf", visibility=Visibility.CONFIDENTIAL)
            )
            n += 4
    readers = [
        AnonymousUserMixin(),
        f.user(Role.VIEWER),
        f.member_user(committees[0]),
        f.member_user(committees[1]),
        f.user(Role.CLERK),
        CommitteeReader(committees[0].id),
        CommitteeReader(committees[1].id),
    ]
    # A former member sees what the public sees.
    former = f.member_user(committees[0])
    db.session.scalar(
        select(Membership).where(Membership.person_id == former.person_id)
    ).end_date = date(2000, 1, 1)
    readers.append(former)
    db.session.flush()
    everything = db.session.scalars(select(Minute)).all()
    assert len(everything) == 2 * len(MinutesState) * 4
    seen_sizes = set()
    for reader in readers:
        in_sql = db.session.scalars(
            select(Minute).join(Minute.meeting).where(visible_minutes(reader))
        ).all()
        expected = {m.id for m in everything if m.can_view(reader)}
        assert {m.id for m in in_sql} == expected, reader
        seen_sizes.add(len(expected))
    assert len(seen_sizes) >= 4  # the readers really do see different things


def test_text_search_treats_percent_and_underscore_literally(db, f):
    c = f.committee()
    m = f.meeting(c)
    exact = f.resolution(f.minute(m, 1, "Targets"), "That 100% of plans be reviewed.")
    f.resolution(f.minute(m, 2, "Other"), "That 1000 plans be reviewed.")
    snake = f.resolution(f.minute(m, 3, "Codes"), "That code A_1 be used.")
    f.resolution(f.minute(m, 4, "More codes"), "That code AB1 be used.")
    slashed = f.resolution(f.minute(m, 5, "Paths"), "That the files in Plans\\2013 be kept.")

    def run(text):
        return db.session.scalars(decisions_query(text=text)).all()

    assert run("100%") == [exact]
    assert run("a_1") == [snake]
    assert run("%") == [exact] and run("_") == [snake]
    # The escape character itself is matched as typed, not read as escaping what follows.
    assert run("\\") == [slashed] and run("s\\2") == [slashed] and run("\\%") == []
