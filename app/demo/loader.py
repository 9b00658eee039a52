"""The demo partnership, from the public papers of the Rotherham Children, Young People and
Families Partnership (22 May and 17 July 2013)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.actions.models import Action
from app.agenda.models import AgendaItem, ItemKind
from app.auth.models import User
from app.auth.services import create_user
from app.committees.models import Committee, Membership, MembershipRole, Regime
from app.core.permissions import Role
from app.demo.parse import parse_attendance, parse_minutes, parse_reports
from app.extensions import db
from app.meetings.models import (
    AgendaPublication,
    AgendaState,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    MinutesState,
)
from app.minutes.models import Minute, Resolution, ResolutionKind
from app.people.models import Person

LONDON = ZoneInfo("Europe/London")
SLUG = "children-young-people-and-families-partnership"
VENUE = "Town Hall, Moorgate Street, Rotherham, S60 2TH"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: Role
    name: str
    person: str | None = None


DEMO_LOGINS = [
    DemoLogin("clerk@example.org", "demo-clerk-password", Role.CLERK, "Demo Clerk"),
    DemoLogin(
        "member@example.org", "demo-member-password", Role.MEMBER, "Sue Wilson", "Sue Wilson"
    ),
    DemoLogin("admin@example.org", "demo-admin-password", Role.ADMIN, "Demo Administrator"),
]

# What the minutes say of people's roles; spelling variants in the text map to one person.
JOB_TITLES = {
    "Sue Wilson": ("Performance and Quality Manager", "Rotherham MBC"),
    "Tracy Blakemore": ("Corporate Improvement Officer", "Rotherham MBC"),
    "Deborah Bullivant": (None, "Inspire"),
    "Jenny Lingrell": ("Troubled Families Co-ordinator", "Rotherham MBC"),
    "Dorothy Smith": ("Director of Schools and Lifelong Learning", "Rotherham MBC"),
    "Clair Burton": ("Commissioning Officer", "Rotherham MBC"),
    "Clair Pyper": ("Interim Director, Safeguarding Children and Families", "Rotherham MBC"),
    "Sara Graham": (None, "Rotherham CYPF Consortium"),
}
ALIASES = {
    "Deborah Bullivent": "Deborah Bullivant",
    "Joanna Saunders": "Joanne Saunders",
    "Claire Burton": "Clair Burton",
}
PRESENTERS_NOT_MEMBERS = ["Gill Harrison"]

# Agenda titles for the 22 May meeting, in sentence case; the minutes keep their capitals.
MAY_ITEMS = {
    208: ("Minutes of the previous meeting held on 20th March, 2013", ItemKind.PREVIOUS_MINUTES),
    209: ("Issues and concerns", ItemKind.BUSINESS),
    210: ("Children and Young People's Voice", ItemKind.BUSINESS),
    211: ("CYPP Action Plan", ItemKind.BUSINESS),
    212: ("'Once Upon a School' project", ItemKind.BUSINESS),
    213: ("Transforming the Early Help services and support families", ItemKind.BUSINESS),
    214: ("Y&H Regional Health and Wellbeing Action Plan", ItemKind.BUSINESS),
    215: ("Commissioning priorities (CYPP link)", ItemKind.BUSINESS),
    216: ("Disabled Children's Charter - national and local commitments", ItemKind.BUSINESS),
    217: ("Minutes of Rotherham Local Safeguarding Board", ItemKind.BUSINESS),
    218: ("Any other business", ItemKind.AOB),
    219: ("Dates of next meeting", ItemKind.NEXT_MEETING),
}

# The agenda of 17 July 2013: (title, kind, section, presenter, sub-items).
JULY_AGENDA = [
    ("Apologies for Absence", ItemKind.APOLOGIES, None, None, []),
    (
        "Minutes of the Previous Meeting held on 22nd May, 2013",
        ItemKind.PREVIOUS_MINUTES,
        "For Decision",
        None,
        [],
    ),
    ("Matters Arising", ItemKind.MATTERS_ARISING, "For Decision", None, []),
    (
        "Issues and Concerns",
        ItemKind.BUSINESS,
        "For Discussion",
        None,
        ["Looked After Children Council", "Youth Cabinet", "Parent and Carers Forum"],
    ),
    (
        "Annual LCSB Report and Business Plan",
        ItemKind.BUSINESS,
        "For Discussion",
        "Alan Hazell",
        [],
    ),
    (
        "Memorandum of Understanding between LSCB and Health and Wellbeing Board (including "
        "CYP&F Partnership)",
        ItemKind.BUSINESS,
        "For Discussion",
        "Joyce Thacker",
        [],
    ),
    (
        "Commissioning/delivery of Emergency Hormonal Contraception to young girls aged 14-16 "
        "years",
        ItemKind.BUSINESS,
        "For Discussion",
        "Gill Harrison",
        [],
    ),
    (
        "Children and Young People's Services Action Plan",
        ItemKind.BUSINESS,
        "For Discussion",
        "Sue Wilson",
        [],
    ),
    ("Any Other Business", ItemKind.AOB, "For Information", None, []),
    ("Date and Time of Next Meeting", ItemKind.NEXT_MEETING, "For Information", None, []),
]

FUTURE_DATES = [
    date(2013, 9, 18),
    date(2013, 11, 20),
    date(2014, 1, 22),
    date(2014, 3, 19),
    date(2014, 5, 21),
    date(2014, 7, 16),
]

# Actions arising from the minutes of 22 May 2013: (minute, resolution ordinal or None for
# an undertaking in the narrative, what, owner, due date).
ACTIONS = [
    (
        208,
        None,
        "Check with the Sexual Exploitation Team how to get the voluntary and community "
        "sector better involved in the multi-agency team",
        "Clair Pyper",
        None,
    ),
    (
        211,
        1,
        "Send the action plan electronically to all Partnership members, asking them to "
        "nominate a lead for each of the 6 priorities and to send feedback on the Plan",
        "Sue Wilson",
        date(2013, 6, 14),
    ),
    (
        211,
        2,
        "Submit an updated version of the Plan to the Partnership's July meeting",
        "Sue Wilson",
        date(2013, 7, 17),
    ),
    (
        212,
        1,
        "Draw attention to the project at the Learning Communities meeting and ask for it "
        "to be included on the agenda of the Joint Heads meeting",
        "Karen Smith",
        None,
    ),
    (
        213,
        2,
        "Submit detailed case studies exemplifying how the highlighted development areas "
        "are supporting families",
        "Jenny Lingrell",
        date(2013, 11, 22),
    ),
    (
        214,
        1,
        "Meet with Sarah Whittle, Sue Wilson, Chrissy Wright, Warren Carratt and Karen "
        "Smith to discuss the Y&H Regional Health and Wellbeing Action Plan further",
        "Joanne Saunders",
        None,
    ),
    (
        215,
        3,
        "Submit regular progress reports on the commissioning priorities to the Partnership",
        "Clair Burton",
        None,
    ),
    (
        216,
        1,
        "Inform the Health and Wellbeing Board that the Partnership did not feel it should "
        "sign up to the Charter",
        "Clair Pyper",
        None,
    ),
]


def at_2pm(day: date) -> datetime:
    return datetime.combine(day, time(14, 0), tzinfo=LONDON)


class _People:
    def __init__(self):
        self.by_name: dict[str, Person] = {}

    def get(self, name: str) -> Person:
        name = ALIASES.get(name, name)
        if name not in self.by_name:
            honorific = None
            if name.startswith("Councillor "):
                honorific, name_only = "Councillor", name.removeprefix("Councillor ")
            else:
                name_only = name
            job, org = JOB_TITLES.get(name, (None, None))
            person = Person(name=name_only, honorific=honorific, job_title=job, organisation=org)
            db.session.add(person)
            self.by_name[name] = person
        return self.by_name[name]


def load_demo() -> bool:
    """Create the demo partnership; returns False (and changes nothing) if it exists."""
    if db.session.scalar(select(Committee).where(Committee.slug == SLUG)) is not None:
        _ensure_logins(None)
        return False
    committee = Committee(
        name="Children, Young People and Families Partnership",
        slug=SLUG,
        description="The Children, Young People and Families Strategic Partnership brings "
        "together the organisations responsible for planning and commissioning services for "
        "children, young people and families in Rotherham.",
        default_venue=VENUE,
        default_start_time=time(14, 0),
        timezone="Europe/London",
        regime=Regime.NONE,
        first_minute_number=208,  # the March 2013 minutes ended at 207
        publish_draft_minutes=True,  # the pack publishes the draft minutes for approval
        clerk_name="Democratic Services",
        clerk_email="democratic.services@example.org",
        clerk_phone="01709 822000",
    )
    db.session.add(committee)
    people = _People()

    chair_name, present, apologies = parse_attendance()
    chair = people.get(chair_name)
    db.session.add(Membership(committee=committee, person=chair, role=MembershipRole.CHAIR))
    for name in present + apologies:
        db.session.add(
            Membership(committee=committee, person=people.get(name), role=MembershipRole.MEMBER)
        )
    for name in PRESENTERS_NOT_MEMBERS:
        people.get(name)
    db.session.flush()

    march = Meeting(
        committee=committee,
        starts_at=at_2pm(date(2013, 3, 20)),
        ends_at=at_2pm(date(2013, 3, 20)) + timedelta(hours=2),
        venue=VENUE,
        status=MeetingStatus.HELD,
        agenda_state=AgendaState.PUBLISHED,
        agenda_published_at=at_2pm(date(2013, 3, 12)) - timedelta(hours=4),
        agenda_revision=1,
    )
    may = _may_meeting(committee, people, chair, present, apologies)
    march.minutes_state = MinutesState.APPROVED
    march.minutes_published_at = may.agenda_published_at
    march.minutes_approved_at = may.starts_at + timedelta(hours=2)
    march.approved_at_meeting = may
    march.approval_amendments = "Subject to the inclusion of Karen Smith's apologies."
    march.chair_signed_name = chair.display_name
    march.chair_signed_on = may.starts_at.date()
    db.session.add(march)

    july = _july_meeting(committee, people)
    _july_reports(july)
    # Their agendas as published: what the public reads until a supplement.
    from app.agenda.revisions import keep_snapshot, snapshot_of

    for meeting in (may, july):
        db.session.flush()
        db.session.refresh(meeting)
        for publication in meeting.publications:
            keep_snapshot(publication, snapshot_of(meeting))
    for day in FUTURE_DATES:
        db.session.add(
            Meeting(
                committee=committee,
                starts_at=at_2pm(day),
                ends_at=at_2pm(day) + timedelta(hours=2),
                venue=VENUE,
            )
        )
    db.session.flush()
    _ensure_logins(people)
    return True


def _may_meeting(committee, people, chair, present, apologies) -> Meeting:
    start = at_2pm(date(2013, 5, 22))
    may = Meeting(
        committee=committee,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        venue=VENUE,
        status=MeetingStatus.HELD,
        agenda_state=AgendaState.PUBLISHED,
        agenda_published_at=start - timedelta(days=8, hours=4),
        agenda_revision=1,
        minutes_state=MinutesState.PUBLISHED,
        minutes_published_at=datetime(2013, 7, 9, 10, tzinfo=LONDON),
    )
    db.session.add(may)
    db.session.add(AgendaPublication(meeting=may, revision=1, published_at=may.agenda_published_at))
    db.session.add(
        Attendance(meeting=may, person=chair, status=AttendanceStatus.PRESENT, in_chair=True)
    )
    for name in present:
        db.session.add(
            Attendance(meeting=may, person=people.get(name), status=AttendanceStatus.PRESENT)
        )
    for name in apologies:
        db.session.add(
            Attendance(meeting=may, person=people.get(name), status=AttendanceStatus.APOLOGIES)
        )
    resolutions: dict[tuple[int, int], Resolution] = {}
    minutes: dict[int, Minute] = {}
    for position, parsed in enumerate(parse_minutes()):
        title, kind = MAY_ITEMS[parsed.number]
        item = AgendaItem(meeting=may, position=position, title=title, kind=kind)
        minute = Minute(
            committee=committee,
            meeting=may,
            item=item,
            number=parsed.number,
            title=parsed.title,
            text=parsed.markdown,
        )
        for ordinal, text in enumerate(parsed.resolutions, start=1):
            kind = ResolutionKind.NOTED if "be noted" in text else ResolutionKind.RESOLVED
            resolution = Resolution(ordinal=ordinal, text=text, kind=kind)
            minute.resolutions.append(resolution)
            resolutions[(parsed.number, ordinal)] = resolution
        db.session.add_all([item, minute])
        minutes[parsed.number] = minute
    committee.last_minute_number = max(minutes)
    for number, ordinal, what, owner, due in ACTIONS:
        db.session.add(
            Action(
                committee=committee,
                title=what,
                owner=people.get(owner),
                due_date=due,
                resolution=resolutions[(number, ordinal)] if ordinal else None,
                minute=minutes[number] if ordinal is None else None,
            )
        )
    db.session.flush()
    return may


def _july_meeting(committee, people) -> Meeting:
    start = at_2pm(date(2013, 7, 17))
    published = datetime(2013, 7, 9, 10, tzinfo=LONDON)
    july = Meeting(
        committee=committee,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        venue=VENUE,
        agenda_state=AgendaState.PUBLISHED,
        agenda_published_at=published,
        agenda_revision=1,
    )
    db.session.add(july)
    db.session.add(AgendaPublication(meeting=july, revision=1, published_at=published))
    for position, (title, kind, section, presenter, subs) in enumerate(JULY_AGENDA):
        item = AgendaItem(
            meeting=july,
            position=position,
            title=title,
            kind=kind,
            section=section,
            presenter=people.get(presenter) if presenter else None,
        )
        if kind == ItemKind.NEXT_MEETING:
            item.purpose = "All meetings begin at 2.00 pm at Rotherham Town Hall."
        db.session.add(item)
        for sub_position, sub_title in enumerate(subs):
            db.session.add(
                AgendaItem(
                    meeting=july,
                    parent=item,
                    position=sub_position,
                    title=sub_title,
                    section=section,
                )
            )
    db.session.flush()
    return july


def _july_reports(july: Meeting) -> None:
    """The reports of the 17 July pack, from the published text, as PDF papers."""
    from flask import render_template
    from weasyprint import HTML

    from app.agenda.documents import add_document

    reports = parse_reports()
    for item in july.items:
        for prefix, paragraphs in reports.items():
            if item.title.startswith(prefix):
                html = render_template(
                    "packs/pdf/report.html",
                    title=item.title,
                    organisation="Rotherham Metropolitan Borough Council",
                    paragraphs=paragraphs,
                )
                pdf = HTML(string=html).write_pdf()
                add_document(
                    item,
                    io.BytesIO(pdf),
                    f"item-{item.position + 1}-report.pdf",
                    f"Report: {item.title}",
                )


def _ensure_logins(people: _People | None) -> list[DemoLogin]:
    for login in DEMO_LOGINS:
        if db.session.scalar(select(User).where(User.email == login.email)):
            continue
        person_id = None
        if login.person:
            person = (
                people.get(login.person)
                if people
                else db.session.scalar(select(Person).where(Person.name == login.person))
            )
            person_id = person.id if person else None
        create_user(login.email, login.role, login.name, login.password, person_id)
    return DEMO_LOGINS
