"""Every list page costs the same number of SQL statements after ten years of records as after
one (issue 17): each page and API list is counted over a small council's record and again
once the record is five times larger, for the public, a member and a clerk; so is its second
page, reached by the first page's next link or cursor, and the tracker with its filters. A row
loaded one at a time (an N+1) makes the larger count larger."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.actions import services as actions
from app.auth.models import User
from app.auth.services import issue_token
from app.committees.models import Committee
from app.extensions import db as ext
from app.minutes import views as minute_views
from app.models import MembershipRole, MinutesState, Rag, Role
from app.people import queries as people_queries
from tests.factories import PASSWORD
from tests.statements import counted_get

PAST = datetime(2016, 1, 13, 13, tzinfo=UTC)

PAGES = {
    "anonymous": [
        "/",
        "/committees/",
        "/committees/full-council/",
        "/decisions/",
        "/decisions/?committee=full-council",
        "/decisions/?q=agreed",
        "/actions/",
        "/actions/?committee=planning-board",
        "/actions/?rag=red",
        "/api/v1/meetings",
        "/api/v1/meetings?committee=full-council",
        "/api/v1/actions",
        "/api/v1/actions?committee=full-council&status=open",
        "/api/v1/decisions",
        "/api/v1/committees",
        "/api/v1/committees/full-council/memberships",
        "/api/v1/people",
        "/api/v1/people?q=Councillor",
    ],
    "member": [
        "/",
        "/committees/full-council/",
        "/my-meetings",
        "/decisions/",
        "/actions/",
        "/actions/mine",
        "/actions/?committee=planning-board",
        "/actions/?committee=full-council&rag=red",
        "/api/v1/meetings",
        "/api/v1/actions",
        "/api/v1/actions?rag=red",
        "/api/v1/decisions",
    ],
    "clerk": [
        "/",
        "/committees/full-council/",
        "/decisions/",
        "/actions/",
        "/actions/?committee=full-council",
        "/actions/?committee=planning-board",
        "/actions/?committee=planning-board&status=open",
        "/actions/?rag=green",
        "/people/",
        "/people/?q=Councillor",
        "/api/v1/meetings",
        "/api/v1/actions",
        "/api/v1/decisions",
        "/api/v1/people",
        "/api/v1/people?q=Councillor",
    ],
}

# The lists followed to their second page (all of PAGES' but the home, committee and calendar
# pages, which are not paged lists).
SECOND_PAGES = {
    role: [p for p in paths if p.startswith(("/decisions/", "/actions/", "/people/", "/api/"))]
    for role, paths in PAGES.items()
}
# A page's rows are the API list's of the same name and filters (the same query for the
# same reader), whose total says how long the list is; and where its page size is set.
API_OF = {
    "/actions/": "/api/v1/actions",
    "/actions/mine": "/api/v1/actions",
    "/decisions/": "/api/v1/decisions",
    "/people/": "/api/v1/people",
}
PAGE_SIZE_OF = {
    "/actions/": (actions, "TRACKER_PAGE"),
    "/actions/mine": (actions, "TRACKER_PAGE"),
    "/decisions/": (minute_views, "PER_PAGE"),
    "/people/": (people_queries, "PEOPLE_PAGE"),
}


class Council:
    """Two committees (one publishing its draft minutes) whose record grows by a year at a
    time: per committee and year, a member, two meetings (minutes approved, and draft minutes
    published) with minutes on a public item, an exempt one and a sub-item of it, and a
    standalone minute, two resolutions each with an action (one of them owned by the
    member and red, the other green; the Planning Board's in themes), and a meeting to come."""

    def __init__(self, db, f):
        self.db, self.f, self.years = db, f, 0
        committees = [
            f.committee("Full Council"),
            f.committee("Planning Board", publish_draft_minutes=True),
        ]
        # Ids, not rows: each count starts with nothing loaded.
        self.committee_ids = [c.id for c in committees]
        self.numbers = {c.id: 1 for c in committees}
        member, clerk = f.member_user(committees[0]), f.user(Role.CLERK)
        self.member_person_id = member.person_id
        self.readers = {"member": (member.email, member.id), "clerk": (clerk.email, clerk.id)}

    def grow(self, years: int) -> None:
        f = self.f
        committees = [self.db.session.get(Committee, cid) for cid in self.committee_ids]
        for _ in range(years):
            year = self.years
            self.years += 1
            for c in committees:
                person = f.person(f"Councillor {c.slug} {year}", organisation="Ward")
                f.membership(c, person, MembershipRole.MEMBER)
                f.user(Role.MEMBER, person=person)
                for half, state in enumerate((MinutesState.APPROVED, MinutesState.PUBLISHED)):
                    starts = PAST + timedelta(days=365 * year + 180 * half)
                    m = f.published_meeting(c, starts_at=starts, venue="Town Hall")
                    public = f.item(m, "Budget")
                    exempt = f.exempt_item(m, "Staffing")
                    sub = f.item(m, "Appendix", parent_id=exempt.id)
                    for item in (public, exempt, sub, None):
                        minute = f.minute(m, self._number(c), "Minute", item=item)
                        for n in range(2):
                            r = f.resolution(minute, f"That report {n} be agreed.")
                            owner = self.member_person_id if n else person.id
                            due = None if n else date(2027, 1, 1) + timedelta(days=year)
                            a = actions.create_from_resolution(r, f"Act on {n}", owner, due)
                            a.rag = Rag.RED if n else Rag.GREEN
                            if c.publish_draft_minutes:  # a plan in themes, some without
                                a.theme = f"Theme {year % 2}" if half else None
                    f.with_minutes_state(m, state)
                f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=30 + year))
        self.db.session.commit()

    def _number(self, c) -> int:
        self.numbers[c.id] += 1
        return self.numbers[c.id]


def _count(client, path: str, headers: dict) -> int:
    return counted_get(client, path, headers)[0]


def _reader(app, council, role):
    client, headers = app.test_client(), {}
    if role in council.readers:
        email, user_id = council.readers[role]
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302
        token = issue_token(ext.session.get(User, user_id))
        headers = {"Authorization": f"Bearer {token}"}
        ext.session.commit()
    return client, headers


@pytest.mark.parametrize("role", sorted(PAGES))
def test_list_pages_cost_the_same_queries_at_five_times_the_record(app, db, f, role):
    council = Council(db, f)
    council.grow(1)
    client, token = _reader(app, council, role)

    def counts():
        return {
            path: _count(client, path, token if path.startswith("/api/") else {})
            for path in PAGES[role]
        }

    few = counts()
    council.grow(4)
    many = counts()
    grew = {path: (few[path], many[path]) for path in few if many[path] > few[path]}
    assert not grew, f"more statements with more records, as {role}: {grew}"


NEXT = re.compile(r'href="([^"]+)" rel="next"')


def _length(client, path: str, headers: dict, council) -> int:
    """How many rows the reader has in the list at `path`: its API list's total."""
    base, _, query = path.partition("?")
    params = dict(parse_qsl(query))
    if base == "/actions/mine":
        params["owner"] = council.member_person_id
    api = API_OF.get(base, base)
    response = client.get(api, query_string={**params, "per_page": 200}, headers=headers)
    assert response.status_code == 200, (api, response.get_json())
    return response.get_json()["total"]


def _second_page(client, path: str, headers: dict, size: int) -> str:
    """The second page's URL as the first page of `size` rows leads to it: its next link, or
    for the API its Link header (the page number, for a list paged by number only)."""
    if path.startswith("/api/"):
        joiner = "&" if "?" in path else "?"
        response = client.get(f"{path}{joiner}per_page={size}", headers=headers)
        body = response.get_json()
        if "next_cursor" not in body:
            return f"{path}{joiner}per_page={size}&page=2"
        link = response.headers.get("Link")
        assert body["next_cursor"] and link, (path, size, body)
        url = urlsplit(re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1))
        return f"{url.path}?{url.query}"
    found = NEXT.search(client.get(path).get_data(as_text=True))
    assert found, (path, size)
    return html.unescape(found.group(1))


@pytest.mark.parametrize("role", sorted(SECOND_PAGES))
def test_second_pages_cost_the_same_queries_at_five_times_the_record(app, db, f, role, monkeypatch):
    """Each list's second page, followed from its first. Its page size is what leaves the
    second page part full over the small record (so it holds more rows over the larger one,
    and a row loaded one at a time shows). Over the small record it is measured against the
    dearer of its two pages: a relationship that no row of a page has is not loaded at all
    (nor an owner already loaded), so a page of one kind of row (the actions without a due
    date, say) is a statement or two short of a page of every kind."""
    council = Council(db, f)
    council.grow(1)
    client, token = _reader(app, council, role)

    def headers(path):
        return token if path.startswith("/api/") else {}

    sizes = {}
    for path in SECOND_PAGES[role]:
        length = _length(client, path, token, council)
        assert length >= 2, (path, length)
        sizes[path] = length // 2 + 1 if length >= 3 else 1

    def counts(pages):
        out = {}
        for path in SECOND_PAGES[role]:
            with monkeypatch.context() as patch:
                if (sized := PAGE_SIZE_OF.get(path.partition("?")[0])) is not None:
                    patch.setattr(*sized, sizes[path])
                url = _second_page(client, path, headers(path), sizes[path])
                first = _first_page(path, sizes[path])
                out[path] = max(_count(client, u, headers(path)) for u in (url, first)[:pages])
        return out

    few = counts(pages=2)
    council.grow(4)
    many = counts(pages=1)
    grew = {path: (few[path], many[path]) for path in few if many[path] > few[path]}
    assert not grew, f"more statements on a second page with more records, as {role}: {grew}"


def _first_page(path: str, size: int) -> str:
    """The first page of `size` rows (the web pages' size is set by the caller)."""
    if path.startswith("/api/"):
        return f"{path}{'&' if '?' in path else '?'}per_page={size}"
    return path
