"""Dates typed by people: ISO (2013-06-14) or UK style (14/06/2013); and dates as action
plans write them (read_written_date)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime


def parse_date(value: str | None, label: str, errors: list[str]) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)  # UK style 14/06/2013
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
    errors.append(f"{label} {value!r} is not a date (use 2013-06-14 or 14/06/2013).")
    return None


MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# What plans write where there is no date to read.
NO_DATE_WORDS = {
    "ongoing", "on going", "tbc", "tba", "tbd", "n/a", "na", "none", "various",
    "monthly", "quarterly", "annually", "annual", "weekly", "continuous", "as required",
}  # fmt: skip
_WORDS_BEFORE = re.compile(r"^(?:(?:by|due|end of|end|before|from|on|deadline|target)\b[\s:]*)+")
_DAY_MONTH_YEAR = re.compile(
    r"(?:[a-z]+day\s+)?(\d{1,2})\s*(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{2}|\d{4})"
)
_MONTH_DAY_YEAR = re.compile(r"([a-z]+)\.?\s+(\d{1,2})\s*(?:st|nd|rd|th)?,?\s+(\d{4})")
_MONTH_YEAR = re.compile(r"([a-z]+)[\s\-/]+(\d{2}|\d{4})")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_FINANCIAL_YEAR = re.compile(r"(?:20)?(\d{2})\s*/\s*(?:20)?(\d{2})")


@dataclass(frozen=True)
class WrittenDate:
    """A date as a plan writes it: the day it names, or the last day of the month it names
    (approximated), or no date and why."""

    value: date | None
    approximated: bool = False
    problem: str | None = None  # why there is no date, said to the clerk


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def read_written_date(value) -> WrittenDate:
    """Read a date as people write one in a plan: "31 st July 2015", "31/07/2015",
    "2015-07-31", "July 31, 2015"; "July 2015" or "Mar-16" as the end of that month and
    "2015/16" as the end of that financial year (both approximated); "Ongoing" or "TBC" as no
    date. Anything else is no date, with the reason (never an exception)."""
    if isinstance(value, datetime):
        return WrittenDate(value.date())
    if isinstance(value, date):
        return WrittenDate(value)
    text = " ".join(str(value or "").split()).lower().strip(" .")
    if not text:
        return WrittenDate(None)
    if text in NO_DATE_WORDS:
        return WrittenDate(None, problem=f"{str(value).strip()!r} names no date")
    text = _WORDS_BEFORE.sub("", text).strip()
    try:
        return WrittenDate(date.fromisoformat(text))
    except ValueError:
        pass
    try:
        if match := _NUMERIC.fullmatch(text):  # UK order: day first
            return WrittenDate(date(_year(match[3]), int(match[2]), int(match[1])))
        if (match := _DAY_MONTH_YEAR.fullmatch(text)) and match[2] in MONTHS:
            return WrittenDate(date(_year(match[3]), MONTHS[match[2]], int(match[1])))
        if (match := _MONTH_DAY_YEAR.fullmatch(text)) and match[1] in MONTHS:
            return WrittenDate(date(_year(match[3]), MONTHS[match[1]], int(match[2])))
        if (match := _MONTH_YEAR.fullmatch(text)) and match[1] in MONTHS:
            return WrittenDate(_month_end(_year(match[2]), MONTHS[match[1]]), approximated=True)
        match = _FINANCIAL_YEAR.fullmatch(text)
        if match and (int(match[2]) - int(match[1])) % 100 == 1:
            return WrittenDate(date(_year(match[2]), 3, 31), approximated=True)
    except ValueError:
        return WrittenDate(None, problem=f"{str(value).strip()!r} is not a day of the calendar")
    return WrittenDate(None, problem=f"{str(value).strip()!r} is not a date that can be read")
