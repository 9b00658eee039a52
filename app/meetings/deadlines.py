"""Publication deadlines under the access-to-information rules.

Principal councils must publish an agenda at least five clear working days before the meeting
(Local Government Act 1972 s.100B(3)); parish and town councils three clear days (Sch. 12
para 10). "Clear" days exclude the day of publication and the day of the meeting; working days
also exclude Saturdays, Sundays and bank holidays. For parish councils only Sundays and bank
holidays (Christmas Day and Good Friday are among them in England and Wales) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from app.committees.models import Regime

CLEAR_DAYS = {Regime.PRINCIPAL: 5, Regime.PARISH: 3}


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share one set of bank holidays; the library keeps it up to date.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def counts_as_clear_day(day: date, regime: Regime) -> bool:
    if is_bank_holiday(day):
        return False
    if regime == Regime.PRINCIPAL:
        return day.weekday() < 5  # Monday to Friday
    return day.weekday() != 6  # parish: every day but Sunday


def publication_deadline(meeting_day: date, regime: Regime) -> date | None:
    """The last day on which the agenda can be published on time, or None if the regime sets
    no deadline."""
    needed = CLEAR_DAYS.get(Regime(regime))
    if needed is None:
        return None
    day = meeting_day
    counted = 0
    while counted < needed:
        day -= timedelta(days=1)
        if counts_as_clear_day(day, regime):
            counted += 1
    # Publishing on the earliest clear day would make it the publication day, which does not
    # count, so the deadline is the day before it.
    return day - timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    day: date | None
    ends_at: datetime | None  # the end of the deadline day in the meeting's timezone
    clear_days: int | None

    def is_late(self, published_at: datetime) -> bool:
        return self.ends_at is not None and published_at > self.ends_at


def deadline_for(starts_at: datetime, timezone: str, regime: Regime) -> Deadline:
    tz = ZoneInfo(timezone)
    day = publication_deadline(starts_at.astimezone(tz).date(), regime)
    if day is None:
        return Deadline(None, None, None)
    ends_at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return Deadline(day, ends_at, CLEAR_DAYS[Regime(regime)])
