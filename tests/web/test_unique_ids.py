"""Every page type has unique ids, and every label names a field of its own: a repeated id
sends a label, an error summary link or a screen reader's description to the wrong field
(the committee members page draws one end-date form per membership, the minute page one
add-action form per resolution). The pages are drawn from realistic data, as a clerk, a
member and an anonymous visitor, and parsed with a real HTML parser."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from app.actions import services as actions
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.auth.models import ApiToken, Invitation, hash_token
from app.auth.services import invitation_serializer, issue_token
from app.core.db import utcnow
from app.minutes import services as minutes
from app.models import AttendanceStatus, MembershipRole, Minute
from app.notifications import preferences, subscriptions
from app.notifications.models import Subscription
from app.notifications.owner_links import make_link
from tests.pdfs import make_pdf
from tests.security.test_access_matrix import world  # noqa: F401  (a fixture)

# Endpoints that answer GET with something other than an HTML page, so have no ids to check.
NOT_HTML = {
    "static": "stylesheets, scripts and images",
    "agenda.document": "a paper as uploaded (PDF)",
    "packs.pack": "the agenda pack (PDF)",
    "packs.minutes": "the minutes (PDF)",
    "ical.all_meetings": "a calendar feed (text/calendar)",
    "ical.committee_meetings": "a calendar feed (text/calendar)",
    "ical.one_meeting": "a calendar file (text/calendar)",
    "ical.personal": "a calendar feed (text/calendar)",
    "ical.personal_actions": "a calendar feed (text/calendar)",
    "api-docs.openapi_json": "the API description (JSON)",
}
# The JSON API, all of it (api_meetings.get_meeting and so on).
NOT_HTML_PREFIXES = ("api_",)

# The pages anybody may see: the anonymous visitor must get each of them, not a sign-in page.
PUBLIC = {
    "main.home",
    "main.accessibility",
    "main.search",
    "auth.login",
    "committees.index",
    "committees.show",
    "meetings.show",
    "minutes.decisions",
    "actions.index",
    "actions.show",
    "owner_update.update",  # an owner's personal link works without signing in
    "auth.accept_invitation",  # reached by the link in the invitation, before any account
    # E-mail subscriptions, and the links in messages: none needs an account.
    "notifications.subscribe",
    "notifications.subscribe_sent",
    "notifications.confirm",
    "notifications.manage",
    "notifications.unsubscribe",
    "notifications.preferences_by_link",
}
# And the pages of anyone signed in, whatever their role.
SIGNED_IN = {
    "main.my_meetings",
    "actions.mine",
    "auth.change_password",
    "ical.account",
    "notifications.preferences",
}
# The pages of admins alone (a clerk gets a 404 for them).
ADMIN_ONLY = {"auth.users", "auth.user"}


def _cases(w) -> dict[str, list[str]]:
    """endpoint -> the URLs of its pages to check, several where the page repeats a form."""
    held, later, drafting = w["held"], w["later"], w["drafting"]
    slug = w["committee"].slug
    meeting_ids = [held.id, later.id, drafting.id, w["circulated"].id, w["uncirculated"].id]
    meeting_ids += [m.id for m in w["next"]]  # upcoming and published: members send apologies
    return {
        "main.home": ["/"],
        "main.accessibility": ["/accessibility"],
        "main.search": ["/search", "/search?q=budget", "/search?q=report"],
        "main.my_meetings": ["/my-meetings"],
        "auth.login": ["/sign-in"],
        "auth.change_password": ["/account/password"],
        "auth.tokens": ["/account/tokens"],
        "auth.revoke_token": [f"/account/tokens/{t}/revoke" for t in w["token_ids"]],
        "ical.account": ["/account/calendar"],
        "committees.index": ["/committees/"],
        "committees.new": ["/committees/new"],
        "committees.show": [f"/committees/{slug}/", f"/committees/{w['committee_c'].slug}/"],
        "committees.edit": [f"/committees/{slug}/edit"],
        "committees.members": [f"/committees/{slug}/members"],
        "committees.import_members": [f"/committees/{slug}/import"],
        "meetings.new": [f"/meetings/new/{slug}"],
        "meetings.new_series": [f"/meetings/series/{slug}"],
        "meetings.show": [f"/meetings/{m}/" for m in meeting_ids],
        "meetings.edit": [f"/meetings/{later.id}/edit", f"/meetings/{held.id}/edit"],
        "meetings.status": [f"/meetings/{later.id}/status"],
        "meetings.agenda": [f"/meetings/{m}/agenda" for m in (later.id, held.id, drafting.id)],
        "meetings.attendance": [f"/meetings/{drafting.id}/attendance"],
        "meetings.audit": [f"/meetings/{held.id}/audit"],
        "agenda.new_item": [f"/meetings/{later.id}/agenda/items/new"],
        "agenda.edit_item": [f"/agenda-items/{i}/edit" for i in w["later_items"]],
        "agenda.delete_item": [f"/agenda-items/{w['later_items'][0]}/delete"],
        "agenda.new_document": [f"/agenda-items/{w['later_items'][0]}/documents/new"],
        "agenda.remove_document": [f"/documents/{w['later_doc']}/remove"],
        "minutes.overview": [f"/meetings/{drafting.id}/minutes/edit"],
        "minutes.edit": [f"/minutes/{w['drafting_minute']}/edit"],
        "minutes.delete": [f"/minutes/{w['drafting_minute']}/delete"],
        "minutes.correct": [f"/minutes/{w['held_minute']}/correct"],
        "minutes.approve": [f"/meetings/{drafting.id}/minutes/approve"],
        "minutes.decisions": ["/decisions/", f"/decisions/?committee={slug}"],
        "actions.index": ["/actions/", f"/actions/?committee={slug}"],
        "actions.mine": ["/actions/mine"],
        "actions.new": ["/actions/new"],
        "actions.show": [f"/actions/{a}" for a in w["action_ids"]],
        "actions.correct": [f"/actions/{w['action'].id}/correct"],
        "actions.import_plan": [f"/actions/import/{slug}"],
        "owner_update.update": [w["owner_link"]],
        "owner_update.links": [f"/owner-update/actions/{w['action'].id}/links"],
        "people.index": ["/people/", "/people/?q=a", "/people/?q=nobody-at-all"],
        "people.new": ["/people/new"],
        "people.show": [f"/people/{p}" for p in w["person_ids"]],
        "people.edit": [f"/people/{p}/edit" for p in w["person_ids"]],
        "people.invite": [f"/people/{p}/invite" for p in w["person_ids"]],
        "auth.users": ["/admin/users"],
        "auth.user": [f"/admin/users/{u}" for u in w["account_ids"]],
        "auth.accept_invitation": [f"/invitation/{w['invitation_token']}"],
        "notifications.subscribe": [f"/committees/{slug}/subscribe"],
        "notifications.subscribe_sent": [f"/committees/{slug}/subscribe/sent"],
        "notifications.confirm": [f"/subscriptions/confirm/{w['subscription_confirm']}"],
        "notifications.manage": [f"/subscriptions/{t}" for t in w["subscription_tokens"]],
        "notifications.unsubscribe": [
            f"/subscriptions/{t}/unsubscribe" for t in w["subscription_tokens"]
        ],
        "notifications.preferences": ["/notifications/preferences"],
        "notifications.preferences_by_link": [
            f"/notifications/preferences/{w['preferences_token']}"
        ],
    }


@pytest.fixture
def pages_world(db, f, world):  # noqa: F811
    """The access matrix's world, with more of everything a page may repeat: several
    memberships (one ended), items with sub-items and papers, a register, minutes with
    several resolutions and actions, updates on an action, API tokens."""
    committee = world["committee"]
    clerk = world["users"]["clerk"]
    people = [f.person(n) for n in ("Dora Ellis", "Eric Shaw", "Fay Patel")]
    for person in people:
        f.membership(committee, person, MembershipRole.MEMBER, organisation="Health")
    f.membership(committee, f.person("Frank Old"), start_date=date(2012, 1, 1)).end_date = date(
        2013, 3, 31
    )
    later = world["later"]
    report = agenda.add_item(later, title="Budget report", purpose="To note the budget")
    add_document(report, io.BytesIO(make_pdf(1, "Budget")), "budget.pdf", "Budget report")
    add_document(report, io.BytesIO(make_pdf(1, "Annex")), "annex.pdf", "Annex A")
    sub = agenda.add_item(later, parent=report, title="Capital budget")
    agenda.add_item(later, title="Any other business")
    drafting = world["drafting"]
    for person, status in zip(
        people,
        (AttendanceStatus.PRESENT, AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES),
        strict=True,
    ):
        f.attendance(drafting, person, status)
    (minute,) = db.session.scalars(select(Minute).filter_by(meeting_id=drafting.id))
    first = minutes.add_resolution(minute, "That the report be noted.", "noted")
    second = minutes.add_resolution(minute, "That officers report back.", votes_for=3)
    extra = [
        actions.create_from_resolution(first, "Circulate the report", people[0].id),
        actions.create_from_resolution(second, "Report back in March", people[1].id),
    ]
    minutes.add_standalone_minute(drafting, "Date of next meeting", "To be confirmed.")
    actions.post_update(world["action"], clerk, "Started", "in_progress", "amber")
    actions.post_update(world["action"], clerk, "Waiting on finance", rag="red")
    issue_token(clerk, "Laptop")
    issue_token(clerk, "Phone", 30)
    held_minute = db.session.scalar(
        select(Minute).filter_by(meeting_id=world["held"].id).order_by(Minute.number)
    )
    owner_link = urlsplit(make_link(world["action"])).path
    db.session.commit()
    token_ids = db.session.scalars(select(ApiToken.id).filter_by(user_id=clerk.id)).all()
    # One person with an address and a committee, one with neither.
    people[0].email = "dora.ellis@example.org"
    deactivated = world["users"]["viewer"]
    deactivated.active = False
    plain = "pages-world-invitation"
    db.session.add(
        Invitation(
            person=f.person("Gita Invited", email="gita@example.org"),
            email="gita@example.org",
            token_hash=hash_token(plain),
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    subscriptions.subscribe(committee, "pending@example.org")
    subscriptions.subscribe(committee, "confirmed@example.org")
    pending, confirmed = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
    subscriptions.confirm(confirmed)
    db.session.commit()
    return {
        **world,
        "subscription_confirm": subscriptions.confirm_token(pending),
        "subscription_tokens": [subscriptions.manage_token(s) for s in (pending, confirmed)],
        "preferences_token": preferences.person_token(people[0].id),
        "later_items": [report.id, sub.id],
        "later_doc": report.documents[0].id,
        "drafting_minute": minute.id,
        "held_minute": held_minute.id,
        "action_ids": [world["action"].id] + [a.id for a in extra],
        "token_ids": token_ids,
        "owner_link": owner_link,
        "person_ids": [people[0].id, world["olive"].id],
        "account_ids": [clerk.id, deactivated.id, world["users"]["member_a"].id],
        "invitation_token": invitation_serializer().dumps(plain),
    }


class _Page(HTMLParser):
    """The ids of a page, and its references to ids: labels, ARIA and in-page links."""

    LABELABLE = {"button", "input", "meter", "output", "progress", "select", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.tags: dict[str, tuple[str, dict]] = {}
        self.refs: list[tuple[str, str, int]] = []  # (attribute, id, line)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if "id" in a:
            self.ids[a["id"]] += 1
            self.tags.setdefault(a["id"], (tag, a))
        if tag == "label" and "for" in a:
            self.refs.append(("label for", a["for"], line))
        for attr in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for ref in a.get(attr, "").split():
                self.refs.append((attr, ref, line))
        if tag == "a" and a.get("href", "").startswith("#") and len(a["href"]) > 1:
            self.refs.append(("href", a["href"][1:], line))


def id_problems(html: str) -> list[str]:
    """What is wrong with a page's ids: repeats, and references to no id (or, for a label,
    to something that is no field)."""
    page = _Page()
    page.feed(html)
    page.close()
    problems = [f"id {i!r} appears {n} times" for i, n in sorted(page.ids.items()) if n > 1]
    problems += [f"an empty id ({page.ids['']} times)"] if "" in page.ids else []
    for attr, ref, line in page.refs:
        if ref not in page.ids:
            problems.append(f"line {line}: {attr}={ref!r} names no id")
        elif attr == "label for":
            tag, attrs = page.tags[ref]
            if tag not in _Page.LABELABLE or attrs.get("type") == "hidden":
                problems.append(f"line {line}: label for={ref!r} names a <{tag}>, not a field")
    return problems


def test_the_checker_finds_what_it_is_for():
    good = (
        '<a href="#x">skip</a><label for="x">X</label><input id="x" aria-describedby="h">'
        '<p id="h">hint</p>'
    )
    assert id_problems(good) == []
    assert id_problems('<input id="a"><input id="a">') == ["id 'a' appears 2 times"]
    assert id_problems('<label for="b">B</label><input id="a">') == [
        "line 1: label for='b' names no id"
    ]
    assert id_problems('<label for="a">A</label><div id="a"></div>') == [
        "line 1: label for='a' names a <div>, not a field"
    ]
    assert id_problems('<input id="a" aria-describedby="a-hint">') == [
        "line 1: aria-describedby='a-hint' names no id"
    ]


def html_endpoints(app) -> set[str]:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    return {e for e in endpoints if e not in NOT_HTML and not e.startswith(NOT_HTML_PREFIXES)}


def test_every_html_page_type_has_a_case(app, db, pages_world):
    """A new page type fails here until it has a case (or a reason it serves no HTML)."""
    cases = _cases(pages_world)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert sorted(html_endpoints(app) - cases.keys()) == [], "page types without a case"
    assert sorted(cases.keys() - endpoints) == [], "cases for no page type"
    assert sorted(NOT_HTML.keys() - endpoints) == [], "exclusions of no page type"
    assert cases.keys() >= PUBLIC | SIGNED_IN


@pytest.mark.parametrize("role", ("anonymous", "member_a", "owner", "clerk", "admin"))
def test_every_page_type_has_unique_ids_and_labelled_fields(
    app, client, db, pages_world, sign_in, role
):
    cases = _cases(pages_world)
    user = pages_world["users"].get(role)
    if user is None:
        mine = PUBLIC
    else:
        sign_in(user)
        mine = (PUBLIC | SIGNED_IN) - {"auth.login"}
        if role == "clerk":
            mine = cases.keys() - {"auth.login"} - ADMIN_ONLY
        if role == "admin":
            # The tokens of the case are the clerk's, and nobody sees another's token.
            mine = cases.keys() - {"auth.login", "auth.revoke_token"}
    adapter = app.url_map.bind("localhost")
    problems, checked = [], set()
    for endpoint in sorted(mine):
        for url in cases[endpoint]:
            # The URL is the endpoint's, so a case cannot drift to another page type.
            assert adapter.match(url.split("?")[0], method="GET")[0] == endpoint, url
            response = client.get(url)
            if role not in ("clerk", "admin") and response.status_code == 404:
                continue  # a meeting or action this visitor may not see
            assert response.status_code == 200, (url, response.status_code)
            assert response.mimetype == "text/html", url
            checked.add(endpoint)
            problems += [f"{url}: {p}" for p in id_problems(response.get_data(as_text=True))]
    assert not problems, "\n".join(problems)
    assert checked == mine  # every page type seen at least once by this visitor


# The forms whose refusals redraw their page with an error summary (400): each is sent from
# the page that draws it, wrongly filled in (text left empty, 31 February for a date), and the
# redrawn page must keep its ids unique and its summary's links pointing at real fields.
REFUSED_FORMS = {
    "committees.new",
    "committees.edit",
    "committees.members",
    "meetings.new",
    "meetings.new_series",
    "meetings.edit",
    "agenda.new_item",
    "agenda.edit_item",
    "minutes.add_resolution",
    "minutes.add_action",
    "actions.new",
    "actions.correct",
    "auth.change_password",
    "people.new",
    "people.edit",
    "people.invite",
    "auth.accept_invitation",
}


class _Forms(HTMLParser):
    """The forms of a page that post: (action, [(name, value, id)]), with wrong values."""

    WRONG_DATE = {"day": "31", "month": "2", "year": "2026"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str, str]]]] = []
        self.current: list | None = None
        self.pressed = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self.current, self.pressed = [], False
                self.forms.append((a.get("action", ""), self.current))
            return
        if self.current is None or not a.get("name"):
            return
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        box = a.get("id", "").rsplit("-", 1)[-1]
        if kind == "hidden":
            value = a.get("value", "")
        elif kind == "submit":
            if self.pressed:
                return
            value, self.pressed = a.get("value", ""), True
        elif kind in ("checkbox", "radio", "file"):
            return
        elif box in self.WRONG_DATE and tag == "input":
            value = self.WRONG_DATE[box]
        else:
            value = ""
        self.current.append((a["name"], value, a.get("id", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


@pytest.mark.parametrize("role", ("owner", "clerk"))
def test_refused_forms_redraw_with_unique_ids_and_working_error_links(
    app, client, db, pages_world, sign_in, role
):
    cases = _cases(pages_world)
    sign_in(pages_world["users"][role])
    adapter = app.url_map.bind("localhost")
    problems, refused, sent = [], set(), set()
    for endpoint in sorted(cases if role == "clerk" else SIGNED_IN | {"actions.show"}):
        for url in cases[endpoint]:
            page = client.get(url)
            if page.status_code != 200:
                continue
            parser = _Forms()
            parser.feed(page.get_data(as_text=True))
            for action, fields in parser.forms:
                target = urljoin(url, action.replace("&amp;", "&")).split("#")[0]
                posted = adapter.match(target.split("?")[0], method="POST")[0]
                if posted not in REFUSED_FORMS or (posted, target) in sent:
                    continue
                sent.add((posted, target))
                data: dict[str, list[str]] = {}
                for name, value, _ in fields:
                    data.setdefault(name, []).append(value)
                response = client.post(target, data=data)
                if response.status_code != 400:
                    continue
                refused.add(posted)
                body = response.get_data(as_text=True)
                assert "govuk-error-summary" in body, (target, "no error summary")
                problems += [f"{url} -> POST {target}: {p}" for p in id_problems(body)]
    assert not problems, "\n".join(problems)
    if role == "clerk":
        assert refused == REFUSED_FORMS
    else:
        assert refused  # at least the password form


def test_a_refused_action_links_to_the_resolution_it_was_sent_for(client, db, pages_world, sign_in):
    """The minute page draws an add-action form per resolution: when one is refused, the
    summary's links go to that resolution's fields (a date to its day box), shown open."""
    sign_in(pages_world["users"]["clerk"])
    url = f"/minutes/{pages_world['drafting_minute']}/edit"
    parser = _Forms()
    parser.feed(client.get(url).get_data(as_text=True))
    sent = [(a, fields) for a, fields in parser.forms if a.endswith("/actions")]
    assert len(sent) == 2  # one per resolution
    action, fields = sent[1]
    resolution = action.split("/")[-2]
    data: dict[str, list[str]] = {}
    for name, value, _ in fields:
        data.setdefault(name, []).append(value)
    response = client.post(action, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = body[
        body.index("govuk-error-summary") : body.index("</ul>", body.index("govuk-error-summary"))
    ]
    assert f'href="#action-title-{resolution}"' in summary
    assert f'href="#action-due-{resolution}-day"' in summary
    assert id_problems(body) == []
    opened = body.index(f'action="{action}"')
    assert body.rindex("<details", 0, opened) == body.rindex(
        '<details class="govuk-details" open', 0, opened
    )


def test_ending_one_of_several_memberships_sends_its_own_date(client, db, pages_world, sign_in):
    """The end-date forms keep the field names the view reads, whatever their ids: submit
    one as the page draws it and only that membership ends, on the date typed."""
    committee = pages_world["committee"]
    sign_in(pages_world["users"]["clerk"])
    page = client.get(f"/committees/{committee.slug}/members").get_data(as_text=True)
    current = [m for m in committee.memberships if m.end_date is None]
    assert len(current) >= 4
    target = current[1]
    action = f"/committees/{committee.slug}/members/{target.id}/end"
    form = _form_fields(page, action)
    assert form, f"no form posting to {action}"
    typed = {"day": "30", "month": "4", "year": "2026"}
    filled: dict[str, list[str]] = {}
    for name, value, box in form:
        part = box.rsplit("-", 1)[-1]
        filled.setdefault(name, []).append(typed.get(part, value))
    assert sum(len(v) for v in filled.values()) >= 4, filled  # the date's boxes and the token
    response = client.post(action, data=filled)
    assert response.status_code == 302
    db.session.expire_all()
    assert target.end_date == date(2026, 4, 30)
    assert [m.id for m in committee.memberships if m.end_date == date(2026, 4, 30)] == [target.id]


def _form_fields(html: str, action: str) -> list[tuple[str, str, str]]:
    """The (name, value, id) of the inputs of the form that posts to `action`."""

    class Form(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.inside, self.fields = False, []

        def handle_starttag(self, tag, attrs):
            a = {k: v or "" for k, v in attrs}
            if tag == "form":
                self.inside = a.get("action", "").replace("&amp;", "&") == action
            elif tag == "input" and self.inside and a.get("name"):
                self.fields.append((a["name"], a.get("value", ""), a.get("id", "")))

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False

    parser = Form()
    parser.feed(html)
    return parser.fields
