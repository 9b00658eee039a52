"""The action pages as a browser uses them: adding one with its due date, correcting it."""

from datetime import date

import pytest
from sqlalchemy import select

from app.actions import services
from app.models import Action, Role
from tests.web.test_record_pages import _form_fields


@pytest.fixture
def s(db, f):
    c = f.committee("Health Board")
    owner = f.member_user(c)
    clerk = f.user(Role.CLERK)
    other = f.person("Ruth Hayes")
    f.membership(c, other)
    db.session.commit()
    return {"c": c, "owner": owner, "clerk": clerk, "other": other}


def _as_the_browser_sends_it(fields, text: dict, selects: dict, dates: list[str]) -> dict:
    """Values by the names the rendered page gives its fields."""
    values, data = iter(dates), {}
    for tag, name, _id in fields:
        if name == "csrf_token":
            continue
        if tag == "select":
            value = selects[name]
        elif name in text:
            value = text[name]
        elif name == "version":
            continue
        else:
            value = next(values)
        data.setdefault(name, []).append(value)
    return data


def test_add_action_page_sent_as_the_browser_sends_it_keeps_the_due_date(client, db, s, sign_in):
    sign_in(s["clerk"])
    html = client.get(f"/actions/new?committee={s['c'].id}").get_data(as_text=True)
    fields = _form_fields(html, None)
    ids = [i for *_, i in fields if i]
    assert len(ids) == len(set(ids))
    data = _as_the_browser_sends_it(
        fields,
        {"title": "Send the plan", "reference": "1.2"},
        {"committee_id": str(s["c"].id), "owner_id": str(s["owner"].person_id)},
        ["14", "6", "2026"],
    )
    r = client.post("/actions/new", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    action = db.session.scalars(select(Action)).one()
    assert (action.due_date, action.reference) == (date(2026, 6, 14), "1.2")


def test_a_clerk_corrects_an_action_from_its_page(client, db, s, sign_in):
    action = services.create_action(s["c"], "Send the plan", s["owner"].person_id)
    db.session.commit()
    sign_in(s["clerk"])
    show = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert f'href="/actions/{action.id}/correct"' in show
    html = client.get(f"/actions/{action.id}/correct").get_data(as_text=True)
    fields = _form_fields(html, None)
    assert any(name == "version" for _, name, _ in fields)
    data = _as_the_browser_sends_it(
        fields,
        {"title": "Send the plan to all members", "reference": ""},
        {"owner_id": str(s["other"].id)},
        ["14", "6", "2026"],
    )
    data["version"] = ["1"]
    r = client.post(f"/actions/{action.id}/correct", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.expire_all()
    assert (action.title, action.owner, action.due_date) == (
        "Send the plan to all members",
        s["other"],
        date(2026, 6, 14),
    )
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "Corrected" in page and "Due date: none → 2026-06-14" in page
    assert f"Owner: {s['owner'].person.display_name} → Ruth Hayes" in page
    assert s["clerk"].name in page
    # The same form sent again (version 1) is stale now: 409 naming both versions.
    r = client.post(f"/actions/{action.id}/correct", data={**data, "title": ["Other"]})
    assert r.status_code == 409
    assert "version 1" in r.get_data(as_text=True) and "version 2" in r.get_data(as_text=True)
    db.session.expire_all()
    assert action.title == "Send the plan to all members"


def test_a_correction_refused_on_the_page_shows_why_and_changes_nothing(client, db, s, sign_in):
    action = services.create_action(s["c"], "Send the plan", s["owner"].person_id)
    db.session.commit()
    sign_in(s["clerk"])
    r = client.post(
        f"/actions/{action.id}/correct",
        data={
            "title": "Send the plan",
            "owner_id": str(s["owner"].person_id),
            "reference": "1..2",
            "version": "1",
        },
    )
    assert r.status_code == 400 and "Use a reference like 1.2.3." in r.get_data(as_text=True)
    db.session.expire_all()
    assert (action.reference, action.version) == (None, 1)


def test_owners_cannot_correct_their_actions(client, db, s, sign_in):
    action = services.create_action(s["c"], "Send the plan", s["owner"].person_id)
    db.session.commit()
    sign_in(s["owner"])
    assert "/correct" not in client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert client.get(f"/actions/{action.id}/correct").status_code == 403
    r = client.post(f"/actions/{action.id}/correct", data={"title": "Mine now", "version": "1"})
    assert r.status_code == 403


def test_the_correction_pages_are_valid_html(client, db, s, sign_in, tmp_path):
    """The correction form and a history with an update and a correction, through the Nu
    Html Checker (the crawl in tests/web/test_html_validity.py may pick other actions)."""
    from tests.web.test_html_validity import _checker, vnu_messages

    _checker()  # skip (or, in CI, fail) before building anything when there is no checker
    action = services.create_action(s["c"], "Send the plan", s["owner"].person_id)
    services.post_update(action, s["owner"], "Drafted the letter", "in_progress", "amber")
    services.correct_action(action, s["clerk"], due_date=date(2026, 6, 14), reference="1.2")
    db.session.commit()
    sign_in(s["clerk"])
    for name in ("show", "correct"):
        url = f"/actions/{action.id}" + ("/correct" if name == "correct" else "")
        (tmp_path / f"{name}.html").write_text(client.get(url).get_data(as_text=True))
    messages = vnu_messages(tmp_path.glob("*.html"))
    assert not [m for m in messages if m.get("type") == "error"], messages


def test_the_correction_offers_the_committees_people_and_others_when_found(
    client, db, f, s, sign_in
):
    outsider = f.person("Zed Outsider")
    action = services.create_action(s["c"], "Send the plan", s["owner"].person_id)
    db.session.commit()
    sign_in(s["clerk"])
    html = client.get(f"/actions/{action.id}/correct").get_data(as_text=True)
    assert "Ruth Hayes" in html and "Zed Outsider" not in html
    html = client.get(f"/actions/{action.id}/correct?q=Zed").get_data(as_text=True)
    assert f'<option value="{outsider.id}">Zed Outsider</option>' in html
    r = client.post(
        f"/actions/{action.id}/correct",
        data={"title": "Send the plan", "owner_id": str(outsider.id), "version": "1"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert action.owner == outsider
    # The owner stays on offer though not on the committee.
    assert "Zed Outsider" in client.get(f"/actions/{action.id}/correct").get_data(as_text=True)
