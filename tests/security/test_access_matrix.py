"""The access-control matrix: for each kind of visitor, crawl every reachable page, paper,
pack, feed and API response, and check where four planted canaries may and may not appear."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pikepdf
import pytest

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
DRAFT_AGENDA = "CANARYDRAFTAGENDA"
DRAFT_MINUTES = "CANARYDRAFTMINUTES"
CANARIES = (EXEMPT_PAPER, EXEMPT_MINUTE, DRAFT_AGENDA, DRAFT_MINUTES)

ROLES = ("anonymous", "viewer", "member_a", "member_b", "owner", "clerk", "admin")
MAY_SEE = {
    EXEMPT_PAPER: {"member_a", "clerk", "admin"},
    EXEMPT_MINUTE: {"member_a", "clerk", "admin"},
    DRAFT_AGENDA: {"clerk", "admin"},
    DRAFT_MINUTES: {"clerk", "admin"},
}
REASON = "Negotiations are continuing."
MAX_URLS = 400


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
    meetings.publish_agenda(held, now=held.starts_at - timedelta(days=10))
    by_title = {m.title: m for m in minutes.draft_minutes(held)}
    budget_minute, staffing_minute = by_title["Budget monitoring"], by_title["Staffing"]
    minutes.save_minute(budget_minute, "The budget was noted.", budget_minute.version)
    resolution = minutes.add_resolution(budget_minute, "That the budget be noted.", "noted")
    minutes.save_minute(staffing_minute, f"Discussed {EXEMPT_MINUTE}", staffing_minute.version)
    later = meetings.schedule_meeting(a, datetime.now(UTC) + timedelta(days=20))
    agenda.add_item(later, title=f"Item {DRAFT_AGENDA}")  # a draft agenda
    minutes.approve_minutes(held, later)
    db.session.add(
        Action(committee=a, title="Report back", owner=people["Olive"], resolution=resolution)
    )
    # Another held meeting whose minutes are still a draft (not published).
    drafting = meetings.schedule_meeting(a, datetime.now(UTC) - timedelta(days=2))
    item = agenda.add_item(drafting, title="Any other business")
    meetings.publish_agenda(drafting, now=drafting.starts_at - timedelta(days=10))
    (draft_minute,) = minutes.draft_minutes(drafting)
    minutes.save_minute(draft_minute, f"Notes {DRAFT_MINUTES}", draft_minute.version)
    assert drafting.minutes_state == MinutesState.DRAFT and item
    db.session.commit()
    return {
        "users": users,
        "held": held,
        "later": later,
        "drafting": drafting,
        "exempt_doc": exempt.documents[0],
        "committee": a,
    }


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


def crawl(client, seeds: list[str], headers: dict) -> dict[str, str]:
    """GET every same-site URL reachable from the seeds; returns url -> body text."""
    seen: dict[str, str] = {}
    queue = deque(seeds)
    while queue and len(seen) < MAX_URLS:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url, headers=headers)
        seen[url] = text_of(response) if response.status_code < 400 else ""
        if response.mimetype == "text/html" and response.status_code == 200:
            for link in LINK.findall(seen[url]):
                target = urljoin(url, link.replace("&amp;", "&"))
                parts = urlsplit(target)
                if parts.netloc not in ("", "localhost") or parts.path.startswith("/static/"):
                    continue
                if parts.scheme == "webcal":
                    continue
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if path not in seen and not path.startswith(("/sign-", "mailto")):
                    queue.append(path)
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
    for m in (world["held"], world["later"], world["drafting"]):
        seeds += [
            f"/meetings/{m.id}/",
            f"/meetings/{m.id}/pack.pdf",
            f"/meetings/{m.id}/pack.pdf?variant=members",
            f"/meetings/{m.id}/minutes.pdf",
            f"/meetings/{m.id}/meeting.ics",
            f"/api/v1/meetings/{m.id}",
            f"/api/v1/meetings/{m.id}/agenda-items",
            f"/api/v1/meetings/{m.id}/ocd-event",
        ]
    # Search for the words beside the canaries (searching for a canary itself would echo it).
    seeds += [
        f"/search?q={w}" for w in ("Paper", "Purpose", "Discussed", "Item", "Notes", "Appendix")
    ]
    doc = world["exempt_doc"]
    seeds.append(f"/documents/{doc.id}/{doc.filename}")
    if user is not None:
        sign_in(user)
        token = issue_token(user)
        feed = calendar_token(user)
        user.actions_feed_enabled = True
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        seeds += [
            "/actions/mine",
            "/account/calendar",
            f"/calendar/{feed}.ics",
            f"/calendar/{feed}/actions.ics",
            "/api/v1/me",
        ]
    pages = crawl(client, seeds, headers)
    assert len(pages) > 40, sorted(pages)
    for canary in CANARIES:
        found = sorted(url for url, body in pages.items() if canary in body)
        if role in MAY_SEE[canary]:
            assert found, f"{role} should see {canary} somewhere"
        else:
            assert not found, f"{role} saw {canary} at {found}"


@pytest.mark.parametrize("role", ("anonymous", "viewer", "member_b", "owner"))
def test_hidden_things_answer_404_not_403(client, db, world, sign_in, role):
    user = world["users"].get(role)
    headers = {}
    if user is not None:
        sign_in(user)
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        db.session.commit()
    doc = world["exempt_doc"]
    for url in (
        f"/documents/{doc.id}/{doc.filename}",
        f"/meetings/{world['held'].id}/pack.pdf?variant=members",
        f"/meetings/{world['later'].id}/pack.pdf",
        f"/api/v1/meetings/{world['later'].id}/agenda-items",
        f"/meetings/{world['drafting'].id}/minutes.pdf",
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
