"""Reading CSV files that clerks upload: one set of checks and messages for every import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from app.core.errors import ValidationError

MAX_ROWS = 2000


class CsvFileError(Exception):
    """A problem with the file as a whole (not one row)."""


def parse_csv(
    data: bytes | str, allowed: tuple[str, ...], required: tuple[str, ...], max_rows: int = MAX_ROWS
) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped value}) for each non-blank row. Headers are matched
    case-insensitively, with spaces read as underscores ("Start date" = start_date)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
        except UnicodeDecodeError:
            raise CsvFileError("The file is not UTF-8 text. Save it as CSV UTF-8.") from None
    if "\x00" in data:
        # No text a person types holds a NUL: the file is damaged or not text at all (and
        # PostgreSQL cannot store one), so nothing in it is to be trusted.
        line = data.count("\n", 0, data.index("\x00")) + 1
        raise CsvFileError(
            f"Line {line} of the file holds a NUL character, so it is not a text CSV file. "
            "Save it again as CSV UTF-8."
        )
    try:
        reader = csv.reader(io.StringIO(data), strict=True)
        header = next(reader, [])
        headers = [h.strip().lower().replace(" ", "_") for h in header]
        missing = [c for c in required if c not in headers]
        if missing:
            raise CsvFileError(
                f"The file needs the column(s): {', '.join(missing)}. "
                f"Allowed columns: {', '.join(allowed)}."
            )
        unknown = [h for h in headers if h and h not in allowed]
        if unknown:
            raise CsvFileError(f"Unknown column(s): {', '.join(unknown)}.")
        rows = []
        for line, cells in enumerate(reader, start=2):  # line 1 is the header
            values = {h: (v or "").strip() for h, v in zip(headers, cells, strict=False) if h}
            if not any(values.values()):
                continue
            if len(rows) == max_rows:
                raise CsvFileError(f"At most {max_rows} rows can be imported at once.")
            rows.append((line, values))
    except csv.Error as exc:
        raise CsvFileError(f"The file is not valid CSV: {exc}.") from None
    if not rows:
        raise CsvFileError("The file has no rows to import.")
    return rows


@dataclass
class CsvRow:
    line: int
    values: dict
    errors: list[str] = field(default_factory=list)


@dataclass
class CsvPreview:
    rows: list
    errors: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and all(not r.errors for r in self.rows)

    def refusal(self) -> ValidationError:
        errors = {f"line {r.line}": r.errors for r in self.rows if r.errors}
        if self.errors:
            errors["file"] = self.errors
        return ValidationError("Nothing was imported because some rows have errors.", errors)
