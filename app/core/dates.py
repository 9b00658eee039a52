"""Dates typed by people: ISO (2013-06-14) or UK style (14/06/2013)."""

from __future__ import annotations

import re
from datetime import date


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
