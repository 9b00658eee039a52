"""The People pages: who may use them, adding, finding and editing people, a stale edit
refused, and each change audited with the user who made it."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.committees import services
from app.core.permissions import Role
from app.people import queries
from app.people.models import Person


@pytest.fixture
def people_world(db, f):
    users = {
        "member": f.user(Role.MEMBER, person=f.person("Mia Member")),
        "clerk": f.user(Role.CLERK),
        "admin": f.user(Role.ADMIN),
    }
    committee = f.committee("Health and Wellbeing Board")
    ann = f.person("Ann Archer", honorific="Cllr", email="ann.archer@example.org")
    f.membership(committee, ann)
    f.person("Bill Baker", organisation="NHS Kent")
    f.person("Ann-Marie Cole")
    db.session.commit()
    return {"users": users, "ann": ann}


def _pages(w):
    ann = w["ann"].id
    return [
        "/people/",
        "/people/?q=ann",
        "/people/new",
        f"/people/{ann}",
        f"/people/{ann}/edit",
        f"/people/{ann}/invite",
    ]


@pytest.mark.parametrize("role", ["anonymous", "member", "clerk", "admin"])
def test_who_may_see_the_people_pages(client, sign_in, people_world, role):
    if role != "anonymous":
        sign_in(people_world["users"][role])
    for url in _pages(people_world):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302, url
            assert "/sign-in" in response.headers["Location"], url
        elif role == "member":
            assert response.status_code == 404, url
        else:
            assert response.status_code == 200, url
            assert response.mimetype == "text/html"


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_those_who_may_not_see_them_cannot_write_through_them(
    client, sign_in, db, people_world, role
):
    if role != "anonymous":
        sign_in(people_world["users"][role])
    ann = people_world["ann"]
    posts = [
        ("/people/new", {"name": "Eve Intruder"}),
        (f"/people/{ann.id}/edit", {"name": "Changed", "version": "1"}),
        (f"/people/{ann.id}/invite", {"role": "member"}),
    ]
    for url, data in posts:
        # The test config turns CSRF off, so a refusal here is the access check's own.
        response = client.post(url, data=data)
        assert response.status_code == (302 if role == "anonymous" else 404), url
    db.session.expire_all()
    assert db.session.get(Person, ann.id).name == "Ann Archer"
    assert db.session.scalar(select(Person).filter_by(name="Eve Intruder")) is None


def test_an_unknown_person_is_not_found(client, sign_in, people_world):
    sign_in(people_world["users"]["clerk"])
    assert client.get("/people/999999").status_code == 404
    assert client.get("/people/999999/edit").status_code == 404


def test_the_list_finds_people_by_name_literally(client, sign_in, people_world):
    sign_in(people_world["users"]["clerk"])
    body = client.get("/people/?q=ANN").get_data(as_text=True)
    assert "Cllr Ann Archer" in body and "Ann-Marie Cole" in body
    assert "Bill Baker" not in body
    # A wildcard typed is a character, not "anything".
    body = client.get("/people/?q=%25").get_data(as_text=True)
    assert "Bill Baker" not in body and "Nobody's name contains" in body


def test_a_clerk_adds_a_person_and_it_is_audited(client, sign_in, db, people_world):
    clerk = people_world["users"]["clerk"]
    sign_in(clerk)
    response = client.post(
        "/people/new",
        data={
            "name": "  Dev Patel ",
            "honorific": "Dr",
            "job_title": "Director of Public Health",
            "organisation": "Kent County Council",
            "email": "Dev.Patel@Example.org",
        },
    )
    assert response.status_code == 302
    person = db.session.scalar(select(Person).filter_by(name="Dev Patel"))
    assert person.honorific == "Dr" and person.organisation == "Kent County Council"
    assert response.headers["Location"].endswith(f"/people/{person.id}")
    event = db.session.scalar(select(AuditEvent).filter_by(verb="person_created"))
    assert event.entity_id == person.id and event.user_id == clerk.id
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Director of Public Health" in page


def test_a_person_without_a_name_is_refused_on_the_page(client, sign_in, db, people_world):
    sign_in(people_world["users"]["clerk"])
    before = db.session.scalar(select(Person.id).order_by(Person.id.desc()))
    response = client.post("/people/new", data={"name": "   ", "email": "not an address"})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert db.session.scalar(select(Person.id).order_by(Person.id.desc())) == before


def test_an_edit_is_saved_with_its_changes_in_the_audit(client, sign_in, db, people_world):
    admin = people_world["users"]["admin"]
    ann = people_world["ann"]
    sign_in(admin)
    form = client.get(f"/people/{ann.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    response = client.post(
        f"/people/{ann.id}/edit",
        data={
            "name": "Ann Archer",
            "honorific": "Cllr",
            "job_title": "Cabinet Member for Health",
            "email": "ann.archer@example.org",
            "version": "1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    ann = db.session.get(Person, ann.id)
    assert ann.job_title == "Cabinet Member for Health" and ann.version == 2
    event = db.session.scalar(select(AuditEvent).filter_by(verb="person_updated"))
    assert event.user_id == admin.id
    assert event.data["changes"] == {"job_title": [None, "Cabinet Member for Health"]}


def test_a_stale_edit_is_a_conflict_and_changes_nothing(client, sign_in, db, people_world):
    ann = people_world["ann"]
    sign_in(people_world["users"]["clerk"])
    assert client.get(f"/people/{ann.id}/edit").status_code == 200  # loaded at version 1
    # Meanwhile another clerk saves a change.
    services.update_person(ann, 1, organisation="Kent County Council")
    db.session.commit()
    response = client.post(
        f"/people/{ann.id}/edit",
        data={"name": "Ann Archer-Smith", "version": "1"},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    db.session.expire_all()
    ann = db.session.get(Person, ann.id)
    assert ann.name == "Ann Archer" and ann.organisation == "Kent County Council"
    assert ann.version == 2
    # A tampered version is no version at all: refused the same way.
    response = client.post(f"/people/{ann.id}/edit", data={"name": "X", "version": "abc"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("role", "people", "accounts"),
    [
        ("anonymous", False, False),
        ("member", False, False),
        ("clerk", True, False),
        ("admin", True, True),
    ],
)
def test_the_main_navigation_offers_what_the_reader_may_use(
    client, sign_in, people_world, role, people, accounts
):
    if role != "anonymous":
        sign_in(people_world["users"][role])
    page = client.get("/committees/").get_data(as_text=True)
    nav = page[page.index('aria-label="Main"') : page.index("</nav>")]
    assert ('href="/people/"' in nav) is people
    assert ('href="/admin/users"' in nav) is accounts


def _names(body: str) -> list[str]:
    return re.findall(r'href="/people/\d+">([^<]+)</a>', body)


def _link(body: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', body)
    return htmllib.unescape(found.group(1)) if found else None


@pytest.fixture
def many_people(db, f, monkeypatch):
    """Names whose order ignores case, two people of one name (the id between them), and names
    SQLite lowers differently from Python (ASCII only): on SQLite the sixth, ending a page, is
    Émile, and a cursor holding Python's "émile" would skip Ölaf after it."""
    monkeypatch.setattr(queries, "PEOPLE_PAGE", 3)
    clerk = f.user(Role.CLERK)
    for name in ("zoe Zed", "Ann Other", "ann other", "Émile Dupont", "bob Brown", "Ölaf Berg"):
        f.person(name)
    f.person("Ann Other", organisation="Second of the name")
    db.session.commit()
    everyone = db.session.scalars(queries.people_query()).all()
    return clerk, [p.display_name for p in everyone]


def test_the_list_pages_by_cursor_everyone_once_in_name_order(client, sign_in, many_people):
    clerk, everyone = many_people
    sign_in(clerk)
    assert len(everyone) == 7
    assert everyone[:3] == ["Ann Other", "ann other", "Ann Other"]
    assert everyone.index("bob Brown") < everyone.index("zoe Zed")
    url, seen, pages, bodies = "/people/", [], 0, []
    while url:
        body = client.get(url).get_data(as_text=True)
        bodies.append(body)
        seen += _names(body)
        pages += 1
        assert ">People, by name</caption>" in body  # no count of everyone
        url = _link(body, "next")
    assert seen == everyone and pages == -(-len(everyone) // 3)
    # Previous leads back to the page before, as it was.
    back = _link(bodies[-1], "prev")
    assert _names(client.get(back).get_data(as_text=True)) == _names(bodies[-2])
    assert _link(bodies[0], "prev") is None


def test_a_search_pages_by_cursor_with_the_query_kept(client, sign_in, many_people):
    clerk, everyone = many_people
    sign_in(clerk)
    body = client.get("/people/?q=OTHER").get_data(as_text=True)
    assert _names(body) == [n for n in everyone if "other" in n.lower()]
    assert _link(body, "next") is None  # three, one page
    body = client.get("/people/?q=o").get_data(as_text=True)
    following = _link(body, "next")
    assert "q=o" in following
    rest = _names(client.get(following).get_data(as_text=True))
    assert _names(body) + rest == [n for n in everyone if "o" in n.lower()][: 3 + len(rest)]


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMl0", "2", "x" * 400])
def test_a_cursor_the_list_did_not_give_shows_the_first_page(client, sign_in, many_people, cursor):
    clerk, everyone = many_people
    sign_in(clerk)
    for name in ("after", "before"):
        response = client.get("/people/", query_string={name: cursor})
        assert response.status_code == 200
        assert _names(response.get_data(as_text=True)) == everyone[:3]
