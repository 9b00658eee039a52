"""The committee page after ten years: past meetings a page at a time, newest first; and a
member's committees read once a request, forgotten when a membership is written."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta

from app.committees.models import MembershipRole
from app.committees.views import PAST_MEETINGS


def _past_meeting_ids(page: str) -> list[int]:
    past = page.split("Past meetings", 1)[1].split("Get agendas by e-mail", 1)[0]
    return [int(n) for n in re.findall(r'href="/meetings/(\d+)/"', past)]


def test_past_meetings_page_newest_first_by_cursor(client, db, f):
    c = f.committee("Full Council")
    start = datetime(2015, 1, 14, 13, tzinfo=UTC)
    count = 2 * PAST_MEETINGS + 5
    past = [f.meeting(c, starts_at=start + timedelta(days=30 * n)) for n in range(count)]
    upcoming = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=10))
    db.session.commit()
    expected = [m.id for m in sorted(past, key=lambda m: m.starts_at, reverse=True)]

    url, seen, pages = f"/committees/{c.slug}/", [], 0
    while url:
        page = client.get(url).get_data(as_text=True)
        pages += 1
        assert f'href="/meetings/{upcoming.id}/"' in page  # upcoming meetings on every page
        seen += _past_meeting_ids(page)
        assert ("Latest meetings" in page) == (pages > 1)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = htmllib.unescape(found.group(1)) if found else None
    assert seen == expected and pages == 3


def test_an_unreadable_past_cursor_shows_the_latest_meetings(client, db, f):
    c = f.committee("Full Council")
    m = f.meeting(c, starts_at=datetime(2020, 5, 1, 13, tzinfo=UTC))
    db.session.commit()
    page = client.get(f"/committees/{c.slug}/?past=garbage").get_data(as_text=True)
    assert _past_meeting_ids(page) == [m.id]


def test_a_request_forgets_the_committees_served_when_a_membership_is_written(app, db, f):
    c = f.committee("Full Council")
    user = f.member_user(f.committee("Other Board"))
    with app.test_request_context("/"):
        assert not c.is_member_user(user)
        f.membership(c, user.person, MembershipRole.MEMBER)  # flushes
        assert c.is_member_user(user)
