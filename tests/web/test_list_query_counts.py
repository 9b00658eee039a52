"""Every list page costs the same number of SQL statements after ten years of records as after
one (issue 17): each page and API list is counted over a small council's record and again
once the record is five times larger, for the public, a member and a clerk. A row loaded one
at a time (an N+1) makes the larger count larger."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import event

from app.actions import services as actions
from app.auth.models import User
from app.auth.services import issue_token
from app.committees.models import Committee
from app.extensions import db as ext
from app.models import MembershipRole, MinutesState, Role
from tests.factories import PASSWORD

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
        "/api/v1/meetings",
        "/api/v1/meetings?committee=full-council",
        "/api/v1/actions",
        "/api/v1/decisions",
        "/api/v1/committees/full-council/memberships",
        "/api/v1/people",
    ],
    "member": [
        "/",
        "/committees/full-council/",
        "/my-meetings",
        "/decisions/",
        "/actions/",
        "/actions/mine",
        "/api/v1/meetings",
        "/api/v1/actions",
        "/api/v1/decisions",
    ],
    "clerk": [
        "/",
        "/committees/full-council/",
        "/decisions/",
        "/actions/",
        "/people/",
        "/people/?q=Councillor",
        "/api/v1/meetings",
        "/api/v1/actions",
        "/api/v1/decisions",
    ],
}


class Council:
    """Two committees (one publishing its draft minutes) whose record grows by a year at a
    time: per committee and year, a member, two meetings (minutes approved, and draft minutes
    published) with minutes on a public item, an exempt one and a sub-item of it, and a
    standalone minute, two resolutions each with an action (one of them owned by the
    member), and a meeting to come."""

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
                            actions.create_from_resolution(r, f"Act on {n}", owner, due)
                    f.with_minutes_state(m, state)
                f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=30 + year))
        self.db.session.commit()

    def _number(self, c) -> int:
        self.numbers[c.id] += 1
        return self.numbers[c.id]


def _count(client, path: str, headers: dict) -> int:
    ext.session.expunge_all()  # nothing already loaded, as for a request of its own
    g.pop("_login_user", None)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split())[:200])

    event.listen(ext.engine, "before_cursor_execute", seen)
    try:
        response = client.get(path, headers=headers)
    finally:
        event.remove(ext.engine, "before_cursor_execute", seen)
    assert response.status_code == 200, (path, response.status_code)
    if os.environ.get("SHOW_QUERIES"):
        print(path, *statements, sep="\n  ")
    return len(statements)


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
