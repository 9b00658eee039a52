"""The access-control matrix: for each kind of visitor, crawl every reachable page, paper,
pack, feed and API response, and check where four planted canaries may and may not appear."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pikepdf
import pytest

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.auth.services import issue_token
from app.ical.services import calendar_token
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import Action, MembershipRole, MinutesState, Role
from tests.pdfs import make_pdf

EXEMPT_PAPER = "CANARYEXEMPTPAPER"
EXEMPT_MINUTE = "CANARYEXEMPTMINUTE"
# A sub-item of the exempt item, left at the visibility it is offered: exempt business too.
EXEMPT_SUBITEM = "CANARYEXEMPTSUBITEM"
DRAFT_AGENDA = "CANARYDRAFTAGENDA"
DRAFT_MINUTES = "CANARYDRAFTMINUTES"
# In a committee that publishes its draft minutes: one circulated draft (public, marked DRAFT)
# and one still being written (staff only, like any other unpublished draft).
CIRCULATED_DRAFT = "CANARYCIRCULATEDDRAFT"
UNCIRCULATED_DRAFT = "CANARYUNCIRCULATEDDRAFT"
CANARIES = (
    EXEMPT_PAPER,
    EXEMPT_SUBITEM,
    EXEMPT_MINUTE,
    DRAFT_AGENDA,
    DRAFT_MINUTES,
    CIRCULATED_DRAFT,
    UNCIRCULATED_DRAFT,
)

ROLES = ("anonymous", "viewer", "member_a", "member_b", "owner", "clerk", "admin")
MAY_SEE = {
    EXEMPT_PAPER: {"member_a", "clerk", "admin"},
    EXEMPT_MINUTE: {"member_a", "clerk", "admin"},
    EXEMPT_SUBITEM: {"member_a", "clerk", "admin"},
    DRAFT_AGENDA: {"clerk", "admin"},
    DRAFT_MINUTES: {"clerk", "admin"},
    CIRCULATED_DRAFT: set(ROLES),
    UNCIRCULATED_DRAFT: {"clerk", "admin"},
}
REASON = "Negotiations are continuing."
# Far above what the world below links to; reaching it means the crawl was cut short, which
# the test treats as a failure rather than a pass over fewer pages.
MAX_URLS = 1000


@pytest.fixture
def world(db, f):
    a, b = f.committee("Committee A"), f.committee("Committee B")
    people = {n: f.person(n) for n in ("Alice", "Bob", "Olive")}
    f.membership(a, people["Alice"], MembershipRole.MEMBER)
    f.membership(b, people["Bob"], MembershipRole.MEMBER)
    users = {
        "viewer": f.user(Role.VIEWER),
        "member_a": f.user(Role.MEMBER, person=people["Alice"]),
        "member_b": f.user(Role.MEMBER, person=people["Bob"]),
        "owner": f.user(Role.MEMBER, person=people["Olive"]),
        "clerk": f.user(Role.CLERK),
        "admin": f.user(Role.ADMIN),
    }
    # A held meeting: published agenda with an exempt item and paper, approved minutes
    # including the exempt item's minute, and an action owned by Olive.
    held = meetings.schedule_meeting(a, datetime.now(UTC) - timedelta(days=20))
    public = agenda.add_item(held, title="Budget monitoring")
    add_document(public, io.BytesIO(make_pdf(2, "Budget figures")), "budget.pdf", "Budget")
    exempt = agenda.add_item(
        held,
        title="Staffing",
        visibility="exempt",
        exempt_paragraphs=[1],
        public_interest_reason=REASON,
        purpose=f"Purpose {EXEMPT_PAPER}",
    )
    add_document(
        exempt,
        io.BytesIO(make_pdf(2, f"Paper {EXEMPT_PAPER}", title=EXEMPT_PAPER)),
        "staff.pdf",
        f"Appendix {EXEMPT_PAPER}",
        visibility="exempt",
        exempt_paragraphs=[1],
        public_interest_reason=REASON,
    )
    sub = agenda.add_item(
        held,
        parent=exempt,
        title="Valuation",
        purpose=f"Subpurpose {EXEMPT_SUBITEM}",
        urgent=True,
        urgent_reason=f"Urgency {EXEMPT_SUBITEM}",
    )
    add_document(
        sub,
        io.BytesIO(make_pdf(1, f"Valuation {EXEMPT_SUBITEM}", title=f"Meta {EXEMPT_SUBITEM}")),
        "valuation.pdf",
        f"Valuation {EXEMPT_SUBITEM}",
    )
    agenda_publication.publish_agenda(held, now=held.starts_at - timedelta(days=10))
    by_title = {m.title: m for m in minutes.draft_minutes(held)}
    budget_minute, staffing_minute = by_title["Budget monitoring"], by_title["Staffing"]
    minutes.save_minute(budget_minute, "The budget was noted.", budget_minute.version)
    resolution = minutes.add_resolution(budget_minute, "That the budget be noted.", "noted")
    minutes.save_minute(staffing_minute, f"Discussed {EXEMPT_MINUTE}", staffing_minute.version)
    later = meetings.schedule_meeting(a, datetime.now(UTC) + timedelta(days=20))
    agenda.add_item(later, title=f"Item {DRAFT_AGENDA}")  # a draft agenda
    minutes.approve_minutes(held, later)
    action = Action(committee=a, title="Report back", owner=people["Olive"], resolution=resolution)
    db.session.add(action)
    # Another held meeting whose minutes are still a draft (not published).
    drafting = meetings.schedule_meeting(a, datetime.now(UTC) - timedelta(days=2))
    item = agenda.add_item(drafting, title="Any other business")
    agenda_publication.publish_agenda(drafting, now=drafting.starts_at - timedelta(days=10))
    (draft_minute,) = minutes.draft_minutes(drafting)
    minutes.save_minute(draft_minute, f"Notes {DRAFT_MINUTES}", draft_minute.version)
    assert drafting.minutes_state == MinutesState.DRAFT and item
    # Committee C publishes draft minutes: its circulated draft is public, its draft in
    # progress is not.
    c = f.committee("Committee C", publish_draft_minutes=True)
    circulated = _held_with_minutes(c, days_ago=30, text=f"Circulated {CIRCULATED_DRAFT}")
    minutes.publish_minutes(circulated)
    uncirculated = _held_with_minutes(c, days_ago=5, text=f"Unfinished {UNCIRCULATED_DRAFT}")
    assert circulated.minutes_state == MinutesState.PUBLISHED
    assert uncirculated.minutes_state == MinutesState.DRAFT
    # The next meetings of A and C: their "minutes of the last meeting" item would bring the
    # uncirculated draft minutes into their packs.
    upcoming = []
    for committee in (a, c):
        meeting = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=10))
        agenda.add_item(meeting, title="Minutes of the last meeting", kind="previous_minutes")
        agenda.add_item(meeting, title="Any other business")
        agenda_publication.publish_agenda(meeting, now=meeting.starts_at - timedelta(days=10))
        upcoming.append(meeting)
    db.session.commit()
    return {
        "users": users,
        "held": held,
        "later": later,
        "drafting": drafting,
        "circulated": circulated,
        "uncirculated": uncirculated,
        "next": upcoming,
        "exempt_doc": exempt.documents[0],
        "sub_doc": sub.documents[0],
        "committee": a,
        "committee_c": c,
        "action": action,
        "olive": people["Olive"],
    }


def _held_with_minutes(committee, days_ago: int, text: str):
    """A past meeting with a published one-item agenda and draft minutes saying `text`."""
    meeting = meetings.schedule_meeting(committee, datetime.now(UTC) - timedelta(days=days_ago))
    agenda.add_item(meeting, title="Any other business")
    agenda_publication.publish_agenda(meeting, now=meeting.starts_at - timedelta(days=10))
    (minute,) = minutes.draft_minutes(meeting)
    minutes.save_minute(minute, text, minute.version)
    return meeting


def text_of(response) -> str:
    data = response.get_data()
    if response.mimetype == "application/pdf":
        doc = pikepdf.open(io.BytesIO(data))
        parts = [data.decode("latin-1")]
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream):
                with contextlib.suppress(pikepdf.PdfError):
                    parts.append(obj.read_bytes().decode("latin-1"))
        parts.append(
            subprocess.run(
                ["pdftotext", "-", "-"], input=data, capture_output=True, check=False
            ).stdout.decode(errors="replace")
        )
        return "\n".join(parts)
    return data.decode(errors="replace")


LINK = re.compile(r'(?:href|src)="([^"#]+)')
POPOLO_PERSON = re.compile(r"person-(\d+)")


def site_path(url: str, base: str = "/") -> str | None:
    """The path (and query) of a same-site link, or None for elsewhere. A webcal:// link is
    the same feed over HTTP, so it is fetched like one."""
    parts = urlsplit(urljoin(base, url.replace("&amp;", "&")))
    if parts.scheme not in ("", "http", "https", "webcal"):
        return None
    if parts.netloc not in ("", "localhost") or parts.path.startswith(("/static/", "/sign-")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def committee_urls(slug: str) -> list[str]:
    return [
        f"/api/v1/committees/{slug}",
        f"/api/v1/committees/{slug}/memberships",
        f"/api/v1/meetings?committee={slug}",
        f"/api/v1/actions?committee={slug}",
        f"/api/v1/popolo?committee={slug}",
        f"/committees/{slug}/",
        f"/committees/{slug}/meetings.ics",
    ]


def meeting_urls(meeting_id: int) -> list[str]:
    return [
        f"/api/v1/meetings/{meeting_id}",
        f"/api/v1/meetings/{meeting_id}/agenda-items",
        f"/api/v1/meetings/{meeting_id}/ocd-event",
        f"/meetings/{meeting_id}/",
    ]


def json_links(url: str, data) -> list[str]:
    """Everything an API response points at: URLs, and the detail endpoints of the ids and
    slugs it names (committees, meetings, people, actions), and the next page of a list."""
    endpoint = urlsplit(url).path
    out: list[str] = []

    def walk(node, key=None):
        if isinstance(node, dict):
            paged = {"items", "page", "per_page", "total"} <= node.keys()
            if paged and node["page"] * node["per_page"] < node["total"]:
                query = dict(parse_qsl(urlsplit(url).query), page=str(node["page"] + 1))
                out.append(f"{endpoint}?{urlencode(query)}")
            if isinstance(node.get("id"), int):
                if "uid" in node:
                    out.extend(meeting_urls(node["id"]))
                if key in ("person", "owner"):
                    out.append(f"/api/v1/people/{node['id']}")
            if isinstance(node.get("slug"), str):
                out.extend(committee_urls(node["slug"]))
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            if key == "committee":
                out.extend(committee_urls(node))
            elif person := POPOLO_PERSON.fullmatch(node):
                out.append(f"/api/v1/people/{person.group(1)}")
            elif "://" in node and (path := site_path(node)) is not None:
                out.append(path)

    walk(data)
    if isinstance(data, dict) and endpoint in ("/api/v1/people", "/api/v1/actions"):
        for row in data.get("items", []):
            out.append(
                f"/api/v1/people/{row['id']}"
                if endpoint == "/api/v1/people"
                else f"/actions/{row['id']}"
            )
    return out


def crawl(client, seeds: list[str], headers: dict) -> dict[str, str]:
    """GET every same-site URL reachable from the seeds, following the links of pages and
    the links and ids of API responses; returns url -> body text."""
    seen: dict[str, str] = {}
    queue = deque(seeds)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        assert len(seen) < MAX_URLS, f"crawl cut short at {MAX_URLS} URLs"
        response = client.get(url, headers=headers)
        seen[url] = text_of(response) if response.status_code < 400 else ""
        if response.status_code != 200:
            continue
        if response.mimetype == "text/html":
            links = [site_path(link, url) for link in LINK.findall(seen[url])]
        elif response.is_json:
            links = json_links(url, response.get_json())
        else:
            continue
        queue.extend(link for link in links if link is not None and link not in seen)
    return seen


@pytest.mark.parametrize("role", ROLES)
def test_canaries_appear_only_where_allowed(app, client, db, world, sign_in, role):
    user = world["users"].get(role)
    headers = {}
    seeds = [
        "/",
        "/committees/",
        "/decisions/",
        "/actions/",
        "/meetings.ics",
        "/api/v1/committees",
        "/api/v1/meetings",
        "/api/v1/actions",
        "/api/v1/people",
        "/api/v1/popolo",
    ]
    # The API's detail endpoints are not seeded: the crawl must reach them from the lists.
    meeting_ids = [world[k].id for k in ("held", "later", "drafting", "circulated", "uncirculated")]
    meeting_ids += [m.id for m in world["next"]]
    for m in meeting_ids:
        seeds += [
            f"/meetings/{m}/",
            f"/meetings/{m}/pack.pdf",
            f"/meetings/{m}/pack.pdf?variant=members",
            f"/meetings/{m}/minutes.pdf",
            f"/meetings/{m}/meeting.ics",
        ]
    # Search for the words beside the canaries (searching for a canary itself would echo it).
    words = (
        "Valuation",
        "Subpurpose",
        "Urgency",
        "Paper",
        "Purpose",
        "Discussed",
        "Item",
        "Notes",
        "Appendix",
        "Circulated",
        "Unfinished",
    )
    seeds += [f"/search?q={w}" for w in words]
    for doc in (world["exempt_doc"], world["sub_doc"]):
        seeds.append(f"/documents/{doc.id}/{doc.filename}")
    if user is not None:
        sign_in(user)
        token = issue_token(user)
        feed = calendar_token(user)
        user.actions_feed_enabled = True
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        seeds += [
            "/my-meetings",
            "/actions/mine",
            "/account/calendar",
            f"/calendar/{feed}.ics",
            f"/calendar/{feed}/actions.ics",
            "/api/v1/me",
        ]
    pages = crawl(client, seeds, headers)
    # The crawl reached what only links lead to: API detail endpoints named by ids and slugs
    # in JSON, and committee feeds linked as webcal://.
    held, action = world["held"].id, world["action"].id
    for reached in (
        f"/api/v1/meetings/{held}/ocd-event",
        f"/api/v1/meetings/{held}/agenda-items",
        "/api/v1/committees/committee-c",
        "/api/v1/committees/committee-a/memberships",
        f"/api/v1/people/{world['olive'].id}",
        "/committees/committee-a/meetings.ics",
        "/committees/committee-c/meetings.ics",
        f"/actions/{action}",
    ):
        assert reached in pages, reached
    # A circulated draft is shown marked as a draft, on the page and in its PDF.
    circulated = world["circulated"].id
    assert 'govuk-tag--yellow">Draft<' in pages[f"/meetings/{circulated}/"]
    assert (
        "DRAFT: these minutes have not yet been approved"
        in pages[f"/meetings/{circulated}/minutes.pdf"]
    )
    for canary in CANARIES:
        found = sorted(url for url, body in pages.items() if canary in body)
        if role in MAY_SEE[canary]:
            assert found, f"{role} should see {canary} somewhere"
        else:
            assert not found, f"{role} saw {canary} at {found}"


@pytest.mark.parametrize("variant", ("public", "members"))
def test_uncirculated_draft_minutes_stay_out_of_the_next_pack(client, db, world, sign_in, variant):
    # The matrix crawl fetches these packs too, but there the clerk may see the canaries.
    sign_in(world["users"]["clerk"])  # the clerk may fetch both variants
    for meeting in world["next"]:
        response = client.get(f"/meetings/{meeting.id}/pack.pdf?variant={variant}")
        assert response.status_code == 200
        text = text_of(response)
        assert "Minutes of the meeting held on" in text  # the item did produce a paper
        for canary in (DRAFT_MINUTES, UNCIRCULATED_DRAFT):
            assert canary not in text, f"{canary} in the {variant} pack of meeting {meeting.id}"


@pytest.mark.parametrize("role", ("anonymous", "viewer", "member_b", "owner"))
def test_hidden_things_answer_404_not_403(client, db, world, sign_in, role):
    user = world["users"].get(role)
    headers = {}
    if user is not None:
        sign_in(user)
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        db.session.commit()
    doc, sub = world["exempt_doc"], world["sub_doc"]
    for url in (
        f"/documents/{doc.id}/{doc.filename}",
        f"/documents/{sub.id}/{sub.filename}",
        f"/meetings/{world['held'].id}/pack.pdf?variant=members",
        f"/meetings/{world['later'].id}/pack.pdf",
        f"/api/v1/meetings/{world['later'].id}/agenda-items",
        f"/meetings/{world['drafting'].id}/minutes.pdf",
        f"/meetings/{world['uncirculated'].id}/minutes.pdf",
    ):
        assert client.get(url, headers=headers).status_code == 404, url


def test_errors_and_logs_do_not_leak(app, client, db, world, caplog):
    doc = world["exempt_doc"]
    with caplog.at_level("DEBUG"):
        for url in (
            f"/documents/{doc.id}/{doc.filename}",
            "/search?q=Paper",
            f"/api/v1/meetings/{world['later'].id}/agenda-items",
            "/nowhere",
        ):
            body = client.get(url).get_data(as_text=True)
            assert not any(c in body for c in (EXEMPT_PAPER, DRAFT_AGENDA)), url
    for record in caplog.records:
        message = record.getMessage()
        assert EXEMPT_PAPER not in message and DRAFT_AGENDA not in message


def test_the_public_interest_statement_is_public_at_every_door(client, db, world):
    """It is the published reason for the exemption: the meeting page, the API and the public
    pack all give it to the public, with the paragraphs it explains."""
    held = world["held"].id
    for url in (
        f"/meetings/{held}/",
        f"/api/v1/meetings/{held}/agenda-items",
        f"/meetings/{held}/pack.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert REASON in " ".join(text_of(response).split()), url
