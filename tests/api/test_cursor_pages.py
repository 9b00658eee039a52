"""The big API lists (meetings, actions, decisions, people) page by an opaque cursor as well as by
page number: following `next_cursor` (or the Link header) gives every row once, in the list's
order, with the filters kept; a page by cursor counts nothing. `page` and `per_page` work as
documented."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.actions import services as actions
from app.auth.services import issue_token
from app.models import MinutesState, Role

BASE = datetime(2024, 1, 10, 13, tzinfo=UTC)


@pytest.fixture
def council(db, f):
    """Two committees meeting at the same times (so the order needs its tie-break), minutes
    approved, two resolutions a minute and an action on each (some with no due date)."""
    committees = [f.committee("Full Council"), f.committee("Planning Board")]
    owner = f.person("Sam Owner")
    for k in range(7):
        for n, c in enumerate(committees):
            m = f.meeting(c, starts_at=BASE + timedelta(days=14 * k))
            minute = f.minute(m, 100 + k, f"Report {k}")
            for j in range(2):
                r = f.resolution(minute, f"That decision {k}.{n}.{j} be made.")
                due = None if (k + j) % 4 == 0 else date(2025, 1, 1) + timedelta(days=k % 3)
                actions.create_from_resolution(r, f"Do {k}.{n}.{j}", owner.id, due)
            f.with_minutes_state(m, MinutesState.APPROVED)
    clerk = f.user(Role.CLERK)
    db.session.commit()
    return {"clerk": {"Authorization": f"Bearer {issue_token(clerk)}"}}


def _walk(client, path, headers=None, **query):
    """Every page by next_cursor; also checks the Link header says the same."""
    ids, pages = [], 0
    response = client.get(f"/api/v1{path}", query_string=query, headers=headers)
    while True:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages += 1
        ids += [row["id"] for row in body["items"]]
        if pages > 1:
            assert "total" not in body and "page" not in body  # a cursor's page counts nothing
        link = response.headers.get("Link")
        if not body["next_cursor"]:
            assert link is None
            return ids, pages
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)
        args = parse_qs(urlsplit(url).query)
        assert args["cursor"] == [body["next_cursor"]] and "page" not in args
        for name, value in query.items():
            if name != "page":
                assert args[name] == [str(value)], name  # the filters are kept
        response = client.get(url, headers=headers)


LISTS = [
    ("/meetings", {}),
    ("/meetings", {"committee": "planning-board"}),
    ("/actions", {}),
    ("/actions", {"committee": "full-council", "status": "open"}),
    ("/decisions", {}),
    ("/decisions", {"committee": "full-council", "q": "decision"}),
]


@pytest.mark.parametrize(("path", "filters"), LISTS)
@pytest.mark.parametrize("per_page", [1, 3, 50])
def test_following_next_gives_every_row_once_in_order(client, council, path, filters, per_page):
    everything = client.get(f"/api/v1{path}", query_string={**filters, "per_page": 200})
    expected = [row["id"] for row in everything.get_json()["items"]]
    assert everything.get_json()["next_cursor"] is None and len(expected) >= 7
    ids, pages = _walk(client, path, per_page=per_page, **filters)
    assert ids == expected and pages == -(-len(expected) // per_page)


def test_decisions_by_cursor_are_newest_first_with_the_tie_broken(client, council):
    ids, _ = _walk(client, "/decisions", per_page=4)
    body = client.get("/api/v1/decisions", query_string={"per_page": 200}).get_json()
    starts = [row["meeting"]["starts_at"] for row in body["items"]]
    assert starts == sorted(starts, reverse=True) and ids == [r["id"] for r in body["items"]]


def test_page_numbers_work_as_documented_and_lead_on_by_cursor(client, council):
    first = client.get("/api/v1/decisions", query_string={"per_page": 5}).get_json()
    assert first["page"] == 1 and first["total"] == 28 and len(first["items"]) == 5
    third = client.get("/api/v1/decisions", query_string={"per_page": 5, "page": 3}).get_json()
    assert third["page"] == 3 and third["total"] == 28
    # The cursor from a numbered page carries on from its last row.
    fourth = client.get(
        "/api/v1/decisions", query_string={"per_page": 5, "cursor": third["next_cursor"]}
    ).get_json()
    by_page = client.get("/api/v1/decisions", query_string={"per_page": 5, "page": 4}).get_json()
    assert [r["id"] for r in fourth["items"]] == [r["id"] for r in by_page["items"]]
    last = client.get("/api/v1/decisions", query_string={"per_page": 5, "page": 6}).get_json()
    assert len(last["items"]) == 3 and last["next_cursor"] is None


@pytest.mark.parametrize("path", ["/meetings", "/actions", "/decisions"])
@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMl0", "eyJhIjoxfQ", "%F3%9A%9F%9A"])
def test_a_cursor_the_list_did_not_give_names_no_page(client, council, path, cursor):
    response = client.get(f"/api/v1{path}", query_string={"cursor": cursor})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "cursor" in response.get_json()["detail"]


def test_a_cursor_from_another_list_is_refused(client, council):
    """A decisions cursor holds four values, a meetings cursor two."""
    cursor = client.get("/api/v1/decisions", query_string={"per_page": 1}).get_json()["next_cursor"]
    assert client.get("/api/v1/meetings", query_string={"cursor": cursor}).status_code == 404


def test_with_a_cursor_the_page_number_is_ignored(client, council):
    first = client.get("/api/v1/meetings", query_string={"per_page": 2}).get_json()
    by_cursor = client.get(
        "/api/v1/meetings", query_string={"cursor": first["next_cursor"], "page": 5, "per_page": 2}
    ).get_json()
    second = client.get("/api/v1/meetings", query_string={"page": 2, "per_page": 2}).get_json()
    assert [m["id"] for m in by_cursor["items"]] == [m["id"] for m in second["items"]]
    assert "page" not in by_cursor


def test_the_document_describes_the_cursor_and_the_link(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, schema in (
        ("/api/v1/meetings", "MeetingPage"),
        ("/api/v1/actions", "ActionPage"),
        ("/api/v1/decisions", "DecisionPage"),
        ("/api/v1/people", "PersonPage"),
    ):
        get = doc["paths"][path]["get"]
        assert "cursor" in {p["name"] for p in get["parameters"]}, path
        assert "Link" in get["responses"]["200"]["headers"], path
        assert "next_cursor" in doc["components"]["schemas"][schema]["properties"], schema


def test_a_clerk_walks_every_action_by_cursor(client, council):
    clerk = council["clerk"]
    everything = client.get("/api/v1/actions", query_string={"per_page": 200}, headers=clerk)
    expected = [row["id"] for row in everything.get_json()["items"]]
    assert len(expected) == 28
    ids, pages = _walk(client, "/actions", headers=clerk, per_page=6)
    assert ids == expected and pages == 5


@pytest.mark.parametrize("query", [{}, {"q": "an"}])
@pytest.mark.parametrize("per_page", [1, 2, 50])
def test_people_by_cursor_in_name_order_with_the_search_kept(client, db, f, query, per_page):
    """People as the People pages list them: by name whatever its case, the id between two
    people of one name; `q` finds them by name."""
    for name in ("zoe Zed", "Ann Other", "ann other", "Dan Brown", "bob Brown", "Ann Other"):
        f.person(name)
    db.session.commit()
    everything = client.get("/api/v1/people", query_string={**query, "per_page": 200})
    rows = everything.get_json()["items"]
    expected = [row["id"] for row in rows]
    assert [r["name"] for r in rows] == sorted((r["name"] for r in rows), key=str.lower) and len(
        rows
    ) == (6 if not query else 4)
    ids, pages = _walk(client, "/people", per_page=per_page, **query)
    assert ids == expected and pages == -(-len(expected) // per_page)


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMl0", "WyJhIiwxLDJd"])
def test_a_cursor_the_people_list_did_not_give_names_no_page(client, cursor):
    response = client.get("/api/v1/people", query_string={"cursor": cursor})
    assert response.status_code == 404 and "cursor" in response.get_json()["detail"]
