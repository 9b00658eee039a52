"""The action tracker through the pages and the API: every filter, the action page's
history, adding an action (importing an action plan: test_plan_import.py)."""

import html as htmllib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.actions import services
from app.auth.services import issue_token
from app.models import Action, Role

TODAY = date.today()


@pytest.fixture
def t(db, f):
    health, schools = f.committee("Health Board"), f.committee("Schools Forum")
    sue, raj = f.person("Sue Wilson"), f.person("Raj Patel")
    clerk = f.user(Role.CLERK)
    rows = {
        # title: (committee, owner, due, status, rag)
        "Late red": (health, sue, TODAY - timedelta(days=3), "open", "red"),
        "Future amber": (health, raj, TODAY + timedelta(days=30), "in_progress", "amber"),
        "Done grey": (schools, sue, TODAY - timedelta(days=60), "complete", "grey"),
        "Schools green": (schools, raj, None, "open", "green"),
    }
    for title, (c, owner, due, status, rag) in rows.items():
        action = services.create_action(c, title, owner.id, due)
        if status != "open" or rag:
            services.post_update(action, clerk, f"Set {status}", status, rag)
    db.session.commit()
    return {"health": health, "schools": schools, "sue": sue, "raj": raj, "clerk": clerk}


def _titles(html: str) -> set[str]:
    return set(re.findall(r'href="/actions/\d+">([^<]+)</a>', html))


FILTERS = [
    ({}, {"Late red", "Future amber", "Done grey", "Schools green"}),
    ({"status": "open"}, {"Late red", "Schools green"}),
    ({"status": "complete"}, {"Done grey"}),
    ({"rag": "amber"}, {"Future amber"}),
    ({"rag": "grey"}, {"Done grey"}),
    ({"committee": "schools-forum"}, {"Done grey", "Schools green"}),
    ({"owner": "sue"}, {"Late red", "Done grey"}),
    ({"owner": "sue", "status": "open"}, {"Late red"}),
    # Overdue: open and past its date; the complete action past its date is not overdue.
    ({"overdue": "1"}, {"Late red"}),
]


def _query(t, params: dict) -> dict:
    out = dict(params)
    if out.get("owner"):
        out["owner"] = t[out["owner"]].id
    return out


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_tracker_page_filters(client, db, t, sign_in, params, expected):
    sign_in(t["clerk"])
    r = client.get("/actions/", query_string=_query(t, params))
    assert r.status_code == 200
    assert _titles(r.get_data(as_text=True)) == expected


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_api_action_filters(client, db, t, params, expected):
    query = _query(t, params)
    if "overdue" in query:
        query["overdue"] = "true"
    r = client.get(
        "/api/v1/actions",
        query_string=query,
        headers={"Authorization": f"Bearer {issue_token(t['clerk'])}"},
    )
    assert r.status_code == 200
    body = r.get_json()
    assert {a["title"] for a in body["items"]} == expected and body["total"] == len(expected)


def test_action_page_shows_its_history(client, db, f, t, sign_in):
    action = db.session.scalar(select(Action).where(Action.title == "Future amber"))
    owner = f.user(Role.MEMBER, person=t["raj"])
    db.session.commit()
    sign_in(owner)
    r = client.post(
        f"/actions/{action.id}",
        data={"note": "Slipping: waiting for data", "status": "", "rag": "red", "version": 2},
    )
    assert r.status_code == 302
    html = client.get(f"/actions/{action.id}").get_data(as_text=True)
    history = html.split('<h2 class="govuk-heading-m">History</h2>')[1].split("</ol>")[0]
    entries = re.findall(r"<li.*?</li>", history, re.S)
    # Newest first, each with its status and RAG as posted.
    assert len(entries) == 2
    assert "Slipping: waiting for data" in entries[0] and "Red" in entries[0]
    assert "Set in_progress" in entries[1] and "in progress" in entries[1]
    assert "Amber" in entries[1]


def test_add_an_action_through_the_page(client, db, f, t, sign_in):
    sign_in(t["clerk"])
    # Owners are offered from the chosen committee's people, others when searched for.
    page = client.get(f"/actions/new?committee={t['schools'].id}&q=Raj").get_data(as_text=True)
    assert "Schools Forum" in page and "Raj Patel" in page
    data = {
        "committee_id": t["schools"].id,
        "title": "Publish the school places plan",
        "owner_id": t["raj"].id,
        "due_date": ["31", "3", "2027"],
        "reference": "3.1.2",
    }
    for bad, message in (
        ({"owner_id": ""}, "Choose who owns the action"),
        ({"due_date": ["31", "2", "2027"]}, "date"),
        ({"reference": "3..1"}, "Use a reference like 1.2.3"),
    ):
        r = client.post("/actions/new", data={**data, **bad})
        assert r.status_code == 400 and message in r.get_data(as_text=True), bad
    assert db.session.scalar(select(func.count()).select_from(Action)) == 4
    r = client.post("/actions/new", data=data)
    assert r.status_code == 302
    action = db.session.scalar(select(Action).where(Action.reference == "3.1.2"))
    assert r.headers["Location"] == f"/actions/{action.id}"
    assert (action.owner, action.due_date, action.committee) == (
        t["raj"],
        date(2027, 3, 31),
        t["schools"],
    )
    # Members cannot add actions.
    client.post("/sign-out")
    sign_in(f.user(Role.MEMBER, person=t["sue"]))
    assert client.get("/actions/new").status_code in (403, 404)


def test_visible_actions_in_sql_agree_with_the_predicate(db, f):
    from flask_login import AnonymousUserMixin

    from app.core.permissions import CommitteeReader
    from app.models import MinutesState

    c, other = f.committee(), f.committee()
    owner = f.member_user(other)  # owns actions of a committee they do not serve on
    for n, state in enumerate(MinutesState):
        m = f.meeting(c)
        minute = f.minute(m, 10 + n, "Minute")
        r = f.resolution(minute, "That something be done.")
        # Actions arise while the minutes are open; approval then locks them in.
        services.create_action(c, f"From resolution {state}", owner.person_id, resolution=r)
        services.create_action(c, f"From narrative {state}", f.person().id, minute=minute)
        f.with_minutes_state(m, state)
    services.create_action(c, "Standalone", f.person().id)
    services.create_action(c, "Standalone, owned", owner.person_id)
    readers = [
        AnonymousUserMixin(),
        f.user(Role.VIEWER),
        owner,
        f.member_user(c),
        f.member_user(other),
        f.user(Role.CLERK),
        CommitteeReader(c.id),
    ]
    db.session.flush()
    everything = db.session.scalars(select(Action)).all()
    sizes = set()
    for reader in readers:
        in_sql = db.session.scalars(services.tracker_query(user=reader, for_reader=True)).all()
        expected = {a.id for a in everything if a.can_view(reader)}
        assert {a.id for a in in_sql} == expected, reader
        sizes.add(len(expected))
        # One committee's (the action log's question): its minutes alone are looked through.
        for committee in (c, other):
            of_one = db.session.scalars(
                services.tracker_query(committee.id, user=reader, for_reader=True)
            ).all()
            assert {a.id for a in of_one} == {
                a.id for a in everything if a.committee_id == committee.id and a.can_view(reader)
            }, (reader, committee)
    assert len(sizes) >= 3  # the readers really do see different things


def test_the_tracker_pages_past_what_the_reader_may_not_see(client, db, f, t, monkeypatch):
    """The API's total and pages count only what the reader may see."""
    member = f.member_user(t["health"])
    for n in range(7):
        services.create_action(t["schools"], f"Not for this member {n}", t["raj"].id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {issue_token(member)}"}
    body = client.get("/api/v1/actions?per_page=1&page=2", headers=headers).get_json()
    # The member sees the Health Board's two standalone actions only.
    assert body["total"] == 2 and len(body["items"]) == 1
    assert body["items"][0]["committee"] == "health-board"


def _actions(db, f, name: str, count: int):
    """Actions on nine due dates (three on each, so a page can end inside a date) and some
    without a due date, which come last; a third arise from resolutions, each of its own
    minute, so their rows show a minute too."""
    c = f.committee(name)
    owner = f.person(f"Owner of {name}")
    meeting = f.meeting(c)
    made = []
    for n in range(count):
        due = None if n % 9 == 8 else TODAY + timedelta(days=n % 9)
        source = None
        if n % 3 == 0:
            minute = f.minute(meeting, 300 + n, f"Minute {n}")
            source = f.resolution(minute, f"That item {n} be agreed.")
        made.append(
            services.create_action(c, f"Numbered action {n:02d}", owner.id, due, resolution=source)
        )
    db.session.commit()
    due_order = sorted(made, key=lambda a: (a.due_date is None, a.due_date or TODAY, a.id))
    return c, [a.id for a in due_order]


@pytest.fixture
def many(db, f):
    return _actions(db, f, "Full Council", 27)


def test_the_tracker_pages_by_keyset_every_action_once_in_due_order(db, f, many):
    _c, expected = many
    clerk = f.user(Role.CLERK)
    seen, after, pages = [], None, 0
    while True:
        page = services.tracker_page(clerk, after, per_page=4)
        seen += [a.id for a in page.actions]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected and pages == 7
    # A page further on costs no more: its cursor is a place in the order, not an offset.
    assert services.tracker_page(clerk, "not-a-cursor", per_page=4).actions[0].id == expected[0]


def test_the_tracker_pages_follow_their_next_links_with_filters_kept(
    client, db, f, many, sign_in, monkeypatch
):
    monkeypatch.setattr(services, "TRACKER_PAGE", 10)
    c, expected = many
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    url, titles, pages = f"/actions/?committee={c.slug}", [], 0
    while url:
        pages += 1
        page = client.get(url).get_data(as_text=True)
        titles += re.findall(r">(Numbered action \d\d)</a>", page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = htmllib.unescape(found.group(1)) if found else None
        if url:
            assert "committee=full-council" in url
    assert len(titles) == len(expected) == len(set(titles)) and pages == 3


def test_a_tracker_page_costs_the_same_queries_however_many_rows(client, db, f, many, sign_in):
    from flask import g
    from sqlalchemy import event

    from app.extensions import db as ext

    few, _ = _actions(db, f, "Parish Council", 3)
    c, _expected = many
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    counts = []
    for slug in (few.slug, c.slug):
        db.session.expunge_all()
        g.pop("_login_user", None)
        seen = []
        listener = lambda *_a, seen=seen: seen.append(1)  # noqa: E731
        event.listen(ext.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/actions/?committee={slug}").status_code == 200
        finally:
            event.remove(ext.engine, "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[1] <= counts[0], counts
