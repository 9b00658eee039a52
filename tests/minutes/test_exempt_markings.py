"""Minutes of exempt and confidential business: marked NOT FOR PUBLICATION, with their grounds,
wherever members and staff read them; a heading with the number and grounds in their place
wherever the public reads the minutes, and nothing else of them."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.actions import services as actions
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.meetings import services as meetings
from app.meetings.attendance import add_declaration
from app.minutes import services as minutes
from app.models import MinutesState, Role
from app.packs import builder
from tests.packs.test_packs import all_strings, page_texts

CANARY = "CANARYEXEMPTMARK4417"
DASH = "\N{EN DASH}"  # "Minute 13, en dash, exempt business", as councils print it
REASON = "Terms are still being negotiated with the bidder."
GROUNDS = (
    "Exempt information under paragraph 3 of Part 1 of Schedule 12A to the Local Government "
    "Act 1972: Information relating to the financial or business affairs of any particular "
    "person (including the authority holding that information)."
)


def flat(text: str) -> str:
    """Text with every run of whitespace (line breaks of PDF and HTML) as one space."""
    return " ".join(text.split())


def page_text(html: str) -> str:
    return flat(re.sub(r"<[^>]+>", " ", html))


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(page_texts(pdf)))


@pytest.fixture
def held(db, f):
    """A held meeting with a public minute and an exempt one carrying a canary in its title,
    text, resolution, action and a declaration; the minutes approved at the next meeting."""
    c = f.committee("Planning Committee", minute_prefix="PL", first_minute_number=12)
    member = f.member_user(c)
    clerk = f.user(Role.CLERK)
    person = f.person("Sam Bidder")
    f.membership(c, person)
    held = meetings.schedule_meeting(c, datetime.now(UTC) - timedelta(days=20))
    agenda.add_item(held, title="Local plan")
    land = agenda.add_item(
        held,
        title="Land at Moorgate",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    agenda_publication.publish_agenda(held, now=held.starts_at - timedelta(days=10))
    by_item = {m.agenda_item_id: m for m in minutes.draft_minutes(held)}
    plan = next(m for m in by_item.values() if m.title == "Local plan")
    minutes.save_minute(plan, "The local plan was noted.", plan.version)
    minutes.add_resolution(plan, "That the local plan be noted.", "noted")
    exempt = by_item[land.id]
    minutes.save_minute(
        exempt, f"The bids {CANARY}TEXT were compared.", exempt.version, title=f"Sale {CANARY}T"
    )
    resolution = minutes.add_resolution(exempt, f"That the bid {CANARY}RES be accepted.")
    actions.create_from_resolution(resolution, f"Complete the sale {CANARY}ACT", person.id)
    add_declaration(held, land.id, person, "non_registrable", f"Bidder {CANARY}DECL")
    later = meetings.schedule_meeting(c, datetime.now(UTC) + timedelta(days=20))
    agenda.add_item(later, title="Minutes of the last meeting", kind="previous_minutes")
    agenda.add_item(later, title="Any other business")
    agenda_publication.publish_agenda(later, now=later.starts_at - timedelta(days=10))
    minutes.approve_minutes(held, later)
    db.session.commit()
    return {
        "committee": c,
        "held": held,
        "later": later,
        "land": land,
        "minute": exempt,
        "member": member,
        "clerk": clerk,
    }


def _minutes_section(html: str) -> str:
    return html[html.index('id="minutes"') :]


@pytest.mark.parametrize("who", ["member", "clerk"])
def test_members_and_staff_see_the_exempt_minute_marked(client, held, sign_in, who):
    sign_in(held[who])
    number = held["minute"].display_number
    assert number.startswith("PL")
    html = client.get(f"/meetings/{held['held'].id}/").get_data(as_text=True)
    section = _minutes_section(html)
    # The minute is there in full, and marked: the tag and the paragraph it is exempt under.
    start = section.index(f'id="minute-{held["minute"].number}"')
    minute = section[start : section.index("</section>", start)]
    assert f"{number}. Sale {CANARY}T" in page_text(minute)
    assert f"{CANARY}TEXT" in minute and f"{CANARY}RES" in minute and f"{CANARY}ACT" in minute
    assert '<span class="mb-exempt">NOT FOR PUBLICATION</span>' in minute
    assert GROUNDS in page_text(minute)
    # The public minute beside it carries no such mark.
    public = next(s for s in section.split("<section")[1:] if "The local plan was noted." in s)
    assert "NOT FOR PUBLICATION" not in public and "Schedule 12A" not in public
    # So does the minutes PDF they are given.
    response = client.get(f"/meetings/{held['held'].id}/minutes.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    heading = text.index(f"{number}. Sale {CANARY}T")
    assert text.index("NOT FOR PUBLICATION", heading) < text.index(f"{CANARY}TEXT")
    assert GROUNDS in text
    assert f"{CANARY}RES" in text and f"{CANARY}ACT" in text and f"{CANARY}DECL" in text


def test_the_public_sees_only_a_heading_in_place_of_the_exempt_minute(client, held):
    number = held["minute"].display_number
    placeholder = f"Minute {number} {DASH} exempt business, paragraph 3 of Schedule 12A"
    html = client.get(f"/meetings/{held['held'].id}/").get_data(as_text=True)
    assert "The local plan was noted." in html  # the approved minutes are public
    section = _minutes_section(html)
    assert placeholder in page_text(section)
    assert f'id="minute-{held["minute"].number}"' in section  # it keeps its place
    assert CANARY not in html
    # Nothing of its grounds beyond the paragraph: those are for the members who read it.
    assert "NOT FOR PUBLICATION" not in section and GROUNDS not in page_text(section)
    response = client.get(f"/meetings/{held['held'].id}/minutes.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert placeholder in text and "That the local plan be noted." in text
    assert CANARY not in text and CANARY.encode() not in all_strings(response.data)
    assert "NOT FOR PUBLICATION" not in text and GROUNDS not in text
    # The minutes follow in number order, the placeholder where the minute would be.
    numbers = [int(n) for n in re.findall(r"\bPL(\d+)\b", text)]
    assert numbers == sorted(numbers) and held["minute"].number in numbers


def test_the_next_agenda_packs_carry_the_minutes_as_each_audience_may_see_them(held):
    number = held["minute"].display_number
    placeholder = f"Minute {number} {DASH} exempt business, paragraph 3 of Schedule 12A"
    public = builder.build_pack(held["later"], "public")
    paper = next(p for p in public.papers if p.kind == "minutes")
    text = pdf_text(public.pdf)
    assert placeholder in text and "That the local plan be noted." in text
    assert CANARY not in text and CANARY.encode() not in all_strings(public.pdf)
    assert paper.pages >= 1
    members = builder.build_pack(held["later"], "members")
    text = pdf_text(members.pdf)
    assert f"{number}. Sale {CANARY}T" in text and f"{CANARY}TEXT" in text
    assert "NOT FOR PUBLICATION" in text and GROUNDS in text
    assert placeholder not in text


def test_staff_pages_of_the_minutes_mark_the_exempt_minute(client, db, f, sign_in):
    c = f.committee()
    m = meetings.schedule_meeting(c, datetime.now(UTC) - timedelta(days=2))
    agenda.add_item(
        m,
        title="Staffing",
        visibility="exempt",
        exempt_paragraphs=[1, 4],
        public_interest_reason=REASON,
    )
    exempt = next(x for x in minutes.draft_minutes(m) if x.title == "Staffing")
    db.session.commit()
    sign_in(f.user(Role.CLERK))
    overview = client.get(f"/meetings/{m.id}/minutes/edit").get_data(as_text=True)
    row = overview[overview.index(">Staffing</a>") :]
    assert row.index("NOT FOR PUBLICATION") < row.index("</tr>")
    edit = page_text(client.get(f"/minutes/{exempt.id}/edit").get_data(as_text=True))
    assert "NOT FOR PUBLICATION" in edit
    assert (
        "Exempt information under paragraphs 1 and 4 of Part 1 of Schedule 12A to the Local "
        "Government Act 1972: Information relating to any individual. Information relating "
        "to any consultations" in edit
    )


def test_confidential_minutes_are_marked_and_withheld_as_confidential(client, db, f, sign_in):
    c = f.committee("Licensing Committee", first_minute_number=40)
    member = f.member_user(c)
    m = meetings.schedule_meeting(c, datetime.now(UTC) - timedelta(days=20))
    agenda.add_item(m, title="Fees")
    agenda.add_item(m, title="Police report", visibility="confidential")
    agenda_publication.publish_agenda(m, now=m.starts_at - timedelta(days=10))
    confidential = next(x for x in minutes.draft_minutes(m) if x.title == "Police report")
    minutes.save_minute(
        confidential, f"Told {CANARY}TEXT.", confidential.version, title=f"Report {CANARY}T"
    )
    f.with_minutes_state(m, MinutesState.APPROVED)
    db.session.commit()
    placeholder = f"Minute {confidential.display_number} {DASH} confidential business"
    public_page = page_text(client.get(f"/meetings/{m.id}/").get_data(as_text=True))
    public_pdf = pdf_text(builder.minutes_pdf(m, include_restricted=False))
    for text in (public_page, public_pdf):
        assert placeholder in text and CANARY not in text
        assert f"{placeholder}," not in text  # confidential business cites no paragraph
    sign_in(member)
    members_page = page_text(client.get(f"/meetings/{m.id}/").get_data(as_text=True))
    members_pdf = pdf_text(builder.minutes_pdf(m, include_restricted=True))
    for text in (members_page, members_pdf):
        assert f"Report {CANARY}T" in text and f"{CANARY}TEXT" in text
        assert "NOT FOR PUBLICATION Confidential information (s.100A(3))." in text
        assert placeholder not in text
