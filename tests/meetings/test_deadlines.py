from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.committees.models import Regime
from app.meetings.deadlines import deadline_for, publication_deadline

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("meeting", "deadline"),
    [
        # Wednesday 17 July 2013: clear days Wed 10 .. Tue 16 skipping the weekend.
        (date(2013, 7, 17), date(2013, 7, 9)),
        # Monday: the clear days are Mon-Fri of the week before.
        (date(2026, 3, 16), date(2026, 3, 8)),
        # Thu 28 May 2026: Wed 27, Tue 26, (bank holiday Mon 25), Fri 22, Thu 21, Wed 20.
        (date(2026, 5, 28), date(2026, 5, 19)),
        # Wed 6 Jan 2027: Tue 5, Mon 4, (New Year's Day Fri 1), Thu 31, Wed 30, Tue 29.
        (date(2027, 1, 6), date(2026, 12, 28)),
        # Thu 9 Apr 2026: Wed 8, Tue 7, (Easter Monday, Good Friday), Thu 2, Wed 1, Tue 31.
        (date(2026, 4, 9), date(2026, 3, 30)),
    ],
)
def test_principal_five_clear_working_days(meeting, deadline):
    assert publication_deadline(meeting, Regime.PRINCIPAL) == deadline


@pytest.mark.parametrize(
    ("meeting", "deadline"),
    [
        # Thu 12 Mar 2026: Wed 11, Tue 10, Mon 9 are clear; publishing on Sunday 8th works.
        (date(2026, 3, 12), date(2026, 3, 8)),
        # Monday: Sat, Fri, Thu are clear (Sunday skipped).
        (date(2026, 3, 16), date(2026, 3, 11)),
        # Tue 7 Apr 2026: (Easter Monday, Sunday), Sat 4, (Good Friday), Thu 2, Wed 1.
        (date(2026, 4, 7), date(2026, 3, 31)),
    ],
)
def test_parish_three_clear_days(meeting, deadline):
    assert publication_deadline(meeting, Regime.PARISH) == deadline


def test_no_deadline_without_a_regime():
    assert publication_deadline(date(2026, 3, 16), Regime.NONE) is None
    assert (
        deadline_for(datetime(2026, 3, 16, 14, tzinfo=UTC), "Europe/London", Regime.NONE).is_late(
            datetime(2030, 1, 1, tzinfo=UTC)
        )
        is False
    )


def test_lateness_is_judged_in_the_meetings_timezone():
    starts = datetime(2013, 7, 17, 14, tzinfo=LONDON)
    deadline = deadline_for(starts, "Europe/London", Regime.PRINCIPAL)
    assert deadline.day == date(2013, 7, 9)
    # 11.30pm BST on the deadline day is 22:30 UTC: still on time.
    assert not deadline.is_late(datetime(2013, 7, 9, 22, 30, tzinfo=UTC))
    # 00:30 BST on the 10th is 23:30 UTC on the 9th: late.
    assert deadline.is_late(datetime(2013, 7, 9, 23, 30, tzinfo=UTC))
