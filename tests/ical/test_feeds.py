"""Calendar feeds, parsed back by three independent libraries."""

import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.ical.models import IcalEventCache
from app.ical.services import calendar_token, reset_calendar_token
from app.meetings import services as meetings
from app.models import AttendanceStatus, Role

LONDON = ZoneInfo("Europe/London")
CANARY = "CANARY-ICAL-9f2b"
NOW = datetime.now(UTC)


def next_year(month: int) -> datetime:
    return datetime(NOW.year + 1, month, 15, 14, 0, tzinfo=LONDON)


@pytest.fixture
def world(db, f):
    c = f.committee("Health and Wellbeing Board", default_venue="Town Hall")
    july = meetings.schedule_meeting(c, next_year(7), next_year(7) + timedelta(hours=2))
    december = meetings.schedule_meeting(c, next_year(12))
    agenda.add_item(july, title="Budget")
    agenda.add_item(
        july,
        title=f"Land {CANARY}",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Negotiations continue.",
    )
    agenda.add_item(december, title=f"Draft {CANARY}")
    agenda_publication.publish_agenda(july, now=NOW)
    person = f.person("Sue Wilson", email="sue@example.org")
    f.membership(c, person)
    user = f.user(Role.MEMBER, person=person, email="sue@example.org")
    db.session.commit()
    return {"c": c, "july": july, "december": december, "user": user, "person": person}


def parse_all(body: bytes):
    """(uid, start instant, summary) per event, as each parser sees them."""
    text = body.decode()
    by_icalendar = sorted(
        (str(e["UID"]), e.decoded("DTSTART").astimezone(UTC), str(e["SUMMARY"]))
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
    )
    by_vobject = sorted(
        (e.uid.value, e.dtstart.value.astimezone(UTC), e.summary.value)
        for e in getattr(vobject.readOne(text), "vevent_list", [])
    )
    cal = icalendar.Calendar.from_ical(body)
    by_recurring = sorted(
        (str(e["UID"]), e["DTSTART"].dt.astimezone(UTC), str(e["SUMMARY"]))
        for e in recurring_ical_events.of(cal).between(
            NOW - timedelta(days=800), NOW + timedelta(days=800)
        )
    )
    assert by_icalendar == by_vobject == by_recurring
    return by_icalendar


def test_feeds_agree_across_three_parsers_and_times_are_london(client, world):
    for url in (
        "/meetings.ics",
        "/committees/health-and-wellbeing-board/meetings.ics",
        f"/meetings/{world['july'].id}/meeting.ics",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        parse_all(response.data)
    events = parse_all(client.get("/meetings.ics").data)
    starts = sorted(start for _uid, start, _s in events)
    assert starts[0].hour == 13 and starts[1].hour == 14  # 14:00 BST and 14:00 GMT
    cal = icalendar.Calendar.from_ical(client.get("/meetings.ics").data)
    for event in cal.walk("VEVENT"):
        local = event.decoded("DTSTART")
        assert (local.hour, str(local.tzinfo)) == (14, "Europe/London")
        assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]


def test_calendar_properties(client, world):
    body = client.get("/committees/health-and-wellbeing-board/meetings.ics").data
    cal = icalendar.Calendar.from_ical(body)
    assert cal["METHOD"] == "PUBLISH" and cal["VERSION"] == "2.0"
    assert cal["NAME"] == cal["X-WR-CALNAME"] == "Health and Wellbeing Board"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body.decode()
    assert "X-PUBLISHED-TTL:PT1H" in body.decode()
    july = next(e for e in cal.walk("VEVENT") if e["UID"] == world["july"].ical_uid)
    assert july["STATUS"] == "CONFIRMED" and july["LOCATION"] == "Town Hall"
    assert july["SUMMARY"] == "Health and Wellbeing Board"
    assert july["URL"].endswith(f"/meetings/{world['july'].id}/")
    assert f"/meetings/{world['july'].id}/pack.pdf" in july["DESCRIPTION"]
    december = next(e for e in cal.walk("VEVENT") if e["UID"] == world["december"].ical_uid)
    assert "pack.pdf" not in december["DESCRIPTION"]  # not published yet
    for stamp in ("DTSTAMP", "LAST-MODIFIED"):
        assert july.decoded(stamp).utcoffset() == timedelta(0)
    raw = body.decode()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in raw.split("\r\n"))


def test_reschedule_keeps_uid_raises_sequence_and_rebuilds_the_event(client, db, world):
    url = "/committees/health-and-wellbeing-board/meetings.ics"
    client.get(url)
    dec_before = db.session.get(IcalEventCache, world["december"].id)
    dec_key, built = dec_before.key, dec_before.built_at
    meetings.reschedule(world["july"], starts_at=next_year(7) + timedelta(days=7))
    db.session.commit()
    cal = icalendar.Calendar.from_ical(client.get(url).data)
    july = next(e for e in cal.walk("VEVENT") if e["UID"] == world["july"].ical_uid)
    assert july["SEQUENCE"] == 1 and july.decoded("DTSTART").day == 22
    dec_after = db.session.get(IcalEventCache, world["december"].id)
    assert (dec_after.key, dec_after.built_at) == (dec_key, built)  # unchanged: reused


def test_cancelled_meeting_stays_cancelled(client, db, world):
    meetings.set_status(world["december"], "cancelled", "No business")
    db.session.commit()
    cal = icalendar.Calendar.from_ical(client.get("/meetings.ics").data)
    event = next(e for e in cal.walk("VEVENT") if e["UID"] == world["december"].ical_uid)
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert "No business" in event["DESCRIPTION"]


def test_conditional_get(client, world):
    url = "/meetings.ics"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_no_exempt_or_draft_titles_and_no_emails_in_any_feed(client, db, world):
    token = calendar_token(world["user"])
    world["user"].actions_feed_enabled = True
    db.session.commit()
    for url in (
        "/meetings.ics",
        "/committees/health-and-wellbeing-board/meetings.ics",
        f"/meetings/{world['july'].id}/meeting.ics",
        f"/meetings/{world['december'].id}/meeting.ics",
        f"/calendar/{token}.ics",
        f"/calendar/{token}/actions.ics",
    ):
        body = client.get(url).get_data(as_text=True)
        assert CANARY not in body, url
        assert not re.search(r"[\w.]+@(?!minutebook)[\w.]+\.\w+", body), url


def test_personal_feed_notes_attendance_and_token_can_be_reset(client, db, f, world):
    f.attendance(world["july"], world["person"], AttendanceStatus.APOLOGIES)
    token = calendar_token(world["user"])
    db.session.commit()
    body = client.get(f"/calendar/{token}.ics").data
    events = parse_all(body)
    assert len(events) == 2
    assert "COMMENT:You sent apologies" in body.decode()
    new = reset_calendar_token(world["user"])
    db.session.commit()
    gone = client.get(f"/calendar/{token}.ics")
    unknown = client.get("/calendar/not-a-real-token.ics")
    assert gone.status_code == unknown.status_code == 404
    assert gone.data == unknown.data
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_actions_feed_is_opt_in_with_todos_or_events(client, db, f, world):
    from app.models import Action

    action = Action(
        committee=world["c"],
        title="Send the plan",
        owner=world["person"],
        due_date=(NOW + timedelta(days=5)).date(),
    )
    db.session.add(action)
    token = calendar_token(world["user"])
    db.session.commit()
    assert client.get(f"/calendar/{token}/actions.ics").status_code == 404
    world["user"].actions_feed_enabled = True
    db.session.commit()
    todo = icalendar.Calendar.from_ical(client.get(f"/calendar/{token}/actions.ics").data)
    (item,) = todo.walk("VTODO")
    assert item["SUMMARY"] == "Send the plan" and item.decoded("DUE") == action.due_date
    events = icalendar.Calendar.from_ical(
        client.get(f"/calendar/{token}/actions.ics?format=events").data
    )
    (event,) = events.walk("VEVENT")
    assert event["SUMMARY"] == "Action due: Send the plan"
    assert event.decoded("DTSTART") == action.due_date  # an all-day event


def test_unknown_committee_is_404(client, world):
    assert client.get("/committees/nope/meetings.ics").status_code == 404
    assert client.get("/meetings/999999/meeting.ics").status_code == 404


def test_account_page_and_api_show_the_feed_urls(client, db, world, sign_in):
    from app.auth.services import issue_token

    sign_in(world["user"])
    page = client.get("/account/calendar").get_data(as_text=True)
    token = calendar_token(world["user"])
    assert f"/calendar/{token}.ics" in page and "webcal://" in page
    assert "Google" in page and "many hours" in page
    client.post("/account/calendar", data={"action": "reset"})
    db.session.refresh(world["user"])
    assert calendar_token(world["user"]) != token
    plain = issue_token(world["user"])
    db.session.commit()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).get_json()
    assert me["calendar_feed_url"].endswith(f"/calendar/{calendar_token(world['user'])}.ics")
    committee_page = client.get("/committees/health-and-wellbeing-board/").get_data(as_text=True)
    assert "webcal://" in committee_page


# --- each feed its own, and following every change ------------------------------------------


def uids(body: bytes) -> list[str]:
    return [uid for uid, _start, _summary in parse_all(body)]


def test_one_meeting_feeds_each_carry_their_own_meeting(client, world):
    july_url = f"/meetings/{world['july'].id}/meeting.ics"
    december_url = f"/meetings/{world['december'].id}/meeting.ics"
    # Twice each, interleaved, so a whole-feed memo shared by the wrong key would show.
    responses = [client.get(url) for url in (july_url, december_url, july_url, december_url)]
    july, december, july_again, december_again = responses
    assert july.headers["ETag"] != december.headers["ETag"]
    assert july.data != december.data
    assert (july_again.data, december_again.data) == (july.data, december.data)
    assert uids(july.data) == [world["july"].ical_uid]
    assert uids(december.data) == [world["december"].ical_uid]
    # 14:00 in London in summer (BST) and in winter (GMT), by all three parsers.
    for response, hour in ((july, 13), (december, 14)):
        ((_uid, start, _summary),) = parse_all(response.data)
        assert start.hour == hour and start.astimezone(LONDON).hour == 14


def test_two_committees_and_two_people_get_their_own_feeds(client, db, f, world):
    planning = f.committee("Planning Committee")
    appeal = meetings.schedule_meeting(planning, next_year(3))
    person = f.person("Ali Khan")
    f.membership(planning, person)
    other = f.user(Role.MEMBER, person=person, email="ali@example.org")
    db.session.commit()
    health_url = "/committees/health-and-wellbeing-board/meetings.ics"
    planning_url = "/committees/planning-committee/meetings.ics"
    sue_url = f"/calendar/{calendar_token(world['user'])}.ics"
    ali_url = f"/calendar/{calendar_token(other)}.ics"
    db.session.commit()
    for _ in range(2):
        health, planning_feed = client.get(health_url), client.get(planning_url)
        assert health.headers["ETag"] != planning_feed.headers["ETag"]
        assert sorted(uids(health.data)) == sorted(
            [world["july"].ical_uid, world["december"].ical_uid]
        )
        assert uids(planning_feed.data) == [appeal.ical_uid]
        sue, ali = client.get(sue_url), client.get(ali_url)
        assert sue.headers["ETag"] != ali.headers["ETag"]
        assert sorted(uids(sue.data)) == sorted(uids(health.data))
        assert uids(ali.data) == [appeal.ical_uid]
        assert "Ali Khan" not in sue.get_data(as_text=True)


def next_second() -> None:
    """HTTP dates have whole seconds; wait for the next one so a change is datable."""
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


def test_personal_feed_follows_membership_changes_with_no_stale_304(client, db, f, world):
    from app.committees.services import end_membership

    planning = f.committee("Planning Committee")
    appeal = meetings.schedule_meeting(planning, next_year(3))
    url = f"/calendar/{calendar_token(world['user'])}.ics"
    db.session.commit()
    before = client.get(url)
    assert appeal.ical_uid not in uids(before.data)
    etag, modified = before.headers["ETag"], before.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    next_second()
    membership = f.membership(planning, world["person"])
    db.session.commit()
    by_etag = client.get(url, headers={"If-None-Match": etag})
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_etag.status_code == by_date.status_code == 200
    assert appeal.ical_uid in uids(by_etag.data) and by_date.data == by_etag.data
    assert by_etag.headers["ETag"] != etag

    # Ended as from yesterday: the membership row keeps no time of the edit, yet the feed
    # changes and old validators no longer match.
    joined = client.get(url)
    next_second()
    end_membership(membership, date.today() - timedelta(days=1))
    db.session.commit()
    for headers in (
        {"If-None-Match": joined.headers["ETag"]},
        {"If-Modified-Since": joined.headers["Last-Modified"]},
    ):
        after = client.get(url, headers=headers)
        assert after.status_code == 200
        assert appeal.ical_uid not in uids(after.data)


def test_attendance_and_committee_renames_change_the_feeds(client, db, f, world):
    personal = f"/calendar/{calendar_token(world['user'])}.ics"
    committee = "/committees/health-and-wellbeing-board/meetings.ics"
    db.session.commit()
    first = {url: client.get(url) for url in (personal, committee)}
    f.attendance(world["december"], world["person"], AttendanceStatus.APOLOGIES)
    world["c"].name = "Health Board"
    db.session.commit()
    for url, response in first.items():
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 200
        assert "SUMMARY:Health Board" in again.get_data(as_text=True)
    assert "You sent apologies" in client.get(personal).get_data(as_text=True)


def test_called_off_meeting_stays_90_days_after_cancellation_whatever_its_date(
    client, db, f, world, monkeypatch
):
    from app.ical import views

    url = "/committees/health-and-wellbeing-board/meetings.ics"
    long_ago = f.meeting(world["c"], starts_at=NOW - timedelta(days=400))
    db.session.commit()
    assert long_ago.ical_uid not in uids(client.get(url).data)  # outside the year's window
    # Called off long after its date (a clerk tidying up): it must still reach calendars.
    meetings.set_status(long_ago, "cancelled", "Never held")
    meetings.set_status(world["december"], "cancelled", "No business")
    db.session.commit()
    for days, kept in ((0, True), (89, True), (90, True), (91, False)):
        monkeypatch.setattr(views, "today", lambda days=days: date.today() + timedelta(days=days))
        body = client.get(url).data
        assert (long_ago.ical_uid in uids(body)) is kept, days
        assert world["december"].ical_uid in uids(body), days  # still ahead: always shown
        cal = icalendar.Calendar.from_ical(body)
        for event in cal.walk("VEVENT"):
            if event["UID"] in (long_ago.ical_uid, world["december"].ical_uid):
                assert event["STATUS"] == "CANCELLED"


def test_every_feed_names_its_page_and_its_own_address(client, db, world):
    token = calendar_token(world["user"])
    world["user"].actions_feed_enabled = True
    db.session.commit()
    july = world["july"].id
    feeds = {
        "/meetings.ics": "/",
        "/committees/health-and-wellbeing-board/meetings.ics": (
            "/committees/health-and-wellbeing-board/"
        ),
        f"/meetings/{july}/meeting.ics": f"/meetings/{july}/",
        f"/calendar/{token}.ics": "/my-meetings",
        f"/calendar/{token}/actions.ics": "/actions/",
        f"/calendar/{token}/actions.ics?format=events": "/actions/",
    }
    for feed, page in feeds.items():
        body = client.get(feed).data
        cal = icalendar.Calendar.from_ical(body)
        assert str(cal["SOURCE"]) == f"http://localhost{feed}", feed
        assert str(cal["URL"]) == f"http://localhost{page}", feed
        assert vobject.readOne(body.decode()).source.value == f"http://localhost{feed}"
        assert client.get(feed).data == body  # a second (memo) answer says the same


def test_actions_feeds_agree_across_three_parsers(client, db, world):
    from app.models import Action

    due = (NOW + timedelta(days=5)).date()
    db.session.add_all(
        [
            Action(
                committee=world["c"], title="Send the plan", owner=world["person"], due_date=due
            ),
            Action(committee=world["c"], title="Ring the venue", owner=world["person"]),
        ]
    )
    world["user"].actions_feed_enabled = True
    url = f"/calendar/{calendar_token(world['user'])}/actions.ics"
    db.session.commit()

    def parsed(body: bytes, kind: str):
        cal = icalendar.Calendar.from_ical(body)
        prop = "DUE" if kind == "VTODO" else "DTSTART"
        by_icalendar = sorted(
            (str(c["UID"]), str(c["SUMMARY"]), c.decoded(prop) if prop in c else None)
            for c in cal.walk(kind)
        )
        items = getattr(vobject.readOne(body.decode()), f"{kind.lower()}_list", [])
        by_vobject = sorted(
            (
                c.uid.value,
                c.summary.value,
                getattr(c, prop.lower()).value if prop.lower() in c.contents else None,
            )
            for c in items
        )
        # recurring-ical-events gives an undated to-do a placeholder DUE; compare the rest.
        found = recurring_ical_events.of(cal, components=[kind]).between(
            NOW - timedelta(days=800), NOW + timedelta(days=8000)
        )
        undated = {uid for uid, _summary, when in by_icalendar if when is None}
        by_recurring = sorted(
            (
                str(c["UID"]),
                str(c["SUMMARY"]),
                None if str(c["UID"]) in undated else c[prop].dt,
            )
            for c in found
        )
        assert by_icalendar == by_vobject == by_recurring
        return by_icalendar

    todos = parsed(client.get(url).data, "VTODO")
    assert sorted((summary, when) for _uid, summary, when in todos) == [
        ("Ring the venue", None),
        ("Send the plan", due),
    ]
    events = parsed(client.get(url + "?format=events").data, "VEVENT")
    assert [(summary, when) for _uid, summary, when in events] == [
        ("Action due: Send the plan", due)
    ]
    assert events[0][0] == next(uid for uid, summary, _when in todos if summary == "Send the plan")


def test_subscribe_instructions_on_committee_and_personal_pages(client, db, world, sign_in):
    sign_in(world["user"])
    for path in ("/committees/health-and-wellbeing-board/", "/account/calendar"):
        page = client.get(path).get_data(as_text=True)
        assert "webcal://" in page, path
        for words in ("Outlook", "Google Calendar", "many hours", "Apple Calendar"):
            assert words in page, (path, words)


def test_personal_feed_of_someone_on_no_committee_is_empty_but_valid(client, db, f, world):
    loner = f.user(Role.MEMBER, email="loner@example.org")
    url = f"/calendar/{calendar_token(loner)}.ics"
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 200 and parse_all(response.data) == []
    cal = icalendar.Calendar.from_ical(response.data)
    assert cal["X-WR-CALNAME"] == "My meetings (Test User)"
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
