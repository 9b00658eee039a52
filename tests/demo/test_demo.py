"""The demo partnership, loaded from the public papers of 2013."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.demo.loader import load_demo
from app.demo.parse import parse_minutes
from app.extensions import db as _db
from app.models import (
    Action,
    AttendanceStatus,
    Committee,
    Meeting,
    MembershipRole,
    Minute,
    MinutesState,
    Person,
    ResolutionKind,
)


@pytest.fixture
def demo(db):
    assert load_demo() is True
    db.session.commit()
    return db.session.scalar(select(Committee))


def _may(db):
    return db.session.scalar(
        select(Meeting).where(Meeting.starts_at == datetime(2013, 5, 22, 13, tzinfo=UTC))
    )


def _july(db):
    return db.session.scalar(
        select(Meeting).where(Meeting.starts_at == datetime(2013, 7, 17, 13, tzinfo=UTC))
    )


def test_committee_and_chair(demo):
    assert demo.slug == "children-young-people-and-families-partnership"
    chair = next(m for m in demo.memberships if m.role == MembershipRole.CHAIR)
    assert chair.person.display_name == "Councillor Lakin"
    assert demo.first_minute_number == 208


def test_minutes_208_to_219_with_resolutions_as_written(demo, db):
    minutes = db.session.scalars(select(Minute).order_by(Minute.number)).all()
    assert [m.number for m in minutes] == list(range(208, 220))
    by_number = {m.number: m for m in minutes}
    assert [r.text for r in by_number[213].resolutions] == [
        "That the potential for the Families for Change Work to inform different models for "
        "Service delivery be noted.",
        "That detailed case studies be submitted in 6 months to exemplify how the highlighted "
        "development areas were supporting families.",
    ]
    assert by_number[213].resolutions[0].kind == ResolutionKind.NOTED
    first = by_number[211].resolutions[0].text
    assert "(a) they nominate a lead" in first and "(b) notify Sue" in first
    assert "14th June 2013" in first
    assert len(by_number[215].resolutions) == 4
    assert by_number[212].resolutions[0].text.startswith("That Karen Smith draw attention")
    assert by_number[208].resolutions == []
    for m in minutes:
        assert "PARTNERSHIP - 22/05/13" not in m.text
    # A paragraph broken by a page header is whole again.
    assert "circulated copies of the Children and Young People's Action Plan 2013-2016." in (
        by_number[211].text
    )


def test_attendance_as_recorded(demo, db):
    may = _may(db)
    status = {a.person.name: (a.status, a.in_chair) for a in may.attendance}
    assert status["Lakin"] == (AttendanceStatus.PRESENT, True)
    assert status["Joyce Thacker"] == (AttendanceStatus.APOLOGIES, False)
    assert status["Sue Wilson"] == (AttendanceStatus.PRESENT, False)
    assert sum(1 for s, _ in status.values() if s == AttendanceStatus.APOLOGIES) == 8
    assert sum(1 for s, _ in status.values() if s == AttendanceStatus.PRESENT) == 18
    assert may.minutes_state == MinutesState.PUBLISHED


def test_july_agenda_numbers_sections_presenters(demo, db):
    july = _july(db)
    rows = [(n, i.title, i.section, i.presenter_name) for i, n in july.numbered_items()]
    assert [r[0] for r in rows] == [
        "1",
        "2",
        "3",
        "4",
        "4a",
        "4b",
        "4c",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
    ]
    assert rows[0][2] is None
    assert rows[1][2] == "For Decision" and rows[4][1] == "Looked After Children Council"
    assert rows[8][3] == "Joyce Thacker" and rows[10][3] == "Sue Wilson"
    assert rows[-1][2] == "For Information"
    assert july.local_start.hour == 14 and july.venue.startswith("Town Hall, Moorgate Street")


def test_future_meetings_right_on_both_sides_of_the_clock_change(demo, db):
    starts = {m.local_start.date(): m.starts_at for m in db.session.scalars(select(Meeting))}
    assert starts[date(2013, 9, 18)] == datetime(2013, 9, 18, 13, tzinfo=UTC)  # BST
    assert starts[date(2013, 11, 20)] == datetime(2013, 11, 20, 14, tzinfo=UTC)  # GMT
    assert set(starts) >= {
        date(2014, 1, 22),
        date(2014, 3, 19),
        date(2014, 5, 21),
        date(2014, 7, 16),
    }


def test_actions_with_owners_and_due_dates(demo, db):
    actions = db.session.scalars(select(Action)).all()
    send = next(a for a in actions if a.resolution and a.resolution.reference == "211(1)")
    assert send.owner.name == "Sue Wilson" and send.due_date == date(2013, 6, 14)
    undertaking = next(a for a in actions if a.minute is not None)
    assert undertaking.minute.number == 208 and undertaking.owner.name == "Clair Pyper"
    case_studies = next(a for a in actions if a.resolution and a.resolution.reference == "213(2)")
    assert case_studies.owner.name == "Jenny Lingrell"


def test_spelling_variants_are_one_person(demo, db):
    names = db.session.scalars(select(Person.name)).all()
    assert "Deborah Bullivent" not in names and names.count("Deborah Bullivant") == 1
    assert "Joanna Saunders" not in names


def counts(db):
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in _db.metadata.sorted_tables
    }


def test_loading_twice_changes_nothing(demo, db):
    before = counts(db)
    assert load_demo() is False
    db.session.commit()
    assert counts(db) == before


def test_cli_prints_demo_logins(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "clerk@example.org / demo-clerk-password (clerk)" in result.output
    assert "member@example.org / demo-member-password (member)" in result.output
    again = app.test_cli_runner().invoke(args=["demo", "load"])
    assert "already loaded" in again.output


def test_parser_stops_at_the_end_of_the_minutes():
    minutes = parse_minutes()
    assert minutes[-1].number == 219
    assert "Protocol" not in minutes[-1].markdown


def test_july_pack_reads_like_the_real_one(demo, db):
    from app.packs.builder import build_pack

    pack = build_pack(_july(db), "public")
    titles = [p.title for p in pack.papers]
    assert titles[0].startswith("Minutes of the meeting held on Wednesday 22 May 2013")
    assert "Action log" in titles
    assert any(t.startswith("Report: Memorandum of Understanding") for t in titles)
    assert any(t.startswith("Report: Commissioning/delivery of Emergency") for t in titles)
    minutes = pack.papers[0]
    assert (minutes.first_page, minutes.last_page) == (1, 10)  # as in the real pack


def test_demo_reports_have_no_stray_page_numbers_and_a_real_action_plan_table(demo, db):
    import re
    import subprocess

    from app.agenda.documents import document_path
    from app.demo.parse import Table, parse_reports

    reports = parse_reports()
    for blocks in reports.values():
        for block in blocks:
            if isinstance(block, str):
                assert not re.search(r"\bPage \d+\b", block), block
    plan = [
        b
        for b in reports["Children and Young People's Services Action Plan"]
        if isinstance(b, Table)
    ]
    assert plan and all(
        t.head == ["ACTION", "KEY LINKS", "DELIVERY MILESTONES", "LEAD/S"] for t in plan
    )
    rows = [row for t in plan for row in t.rows]
    family = next(r for r in rows if r[0].startswith("(i) We will identify and work with families"))
    assert family[3] == "Warren Carratt Mary Smith"
    assert all(len(r) == 4 for r in rows) and len(rows) > 30
    # The papers as stored: no source page numbers, the plan's columns under their headings.
    july = _july(db)
    texts = {}
    for item in july.items:
        for doc in item.documents:
            texts[item.title] = subprocess.run(
                ["pdftotext", "-layout", str(document_path(doc)), "-"],
                capture_output=True,
                check=True,
                text=True,
            ).stdout
    assert len(texts) == 3
    for text in texts.values():
        assert not re.search(r"^\s*Page \d+\s*$", text, re.M)
    text = next(t for title, t in texts.items() if title.startswith("Children and Young People"))
    lines = text.splitlines()
    head = next(line for line in lines if "Delivery milestones" in line)
    assert re.search(r"Action\s+Key links\s+Delivery milestones\s+Lead/s", head)
    row = next(line for line in lines if "(i) We will identify" in line)
    assert abs(row.index("Warren") - head.index("Lead/s")) <= 4, (head, row)
