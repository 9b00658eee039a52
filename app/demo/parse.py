"""Reading the minutes of 22 May 2013 out of the published agenda pack (a text export).

The pack's text has page headers inside minutes and paragraphs broken across pages; the parser
drops the headers and re-joins the broken paragraphs, then splits each minute into its
narrative (as Markdown) and its resolutions ("Resolved:- (1) That ... (2) That ...")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).parent / "data" / "rotherham-cypf-partnership-2013-agenda-and-minutes.txt"

PAGE_HEADER = re.compile(r"^CHILDREN, YOUNG PEOPLE AND FAMILIES PARTNERSHIP - \d\d/\d\d/\d\d$")
MINUTE_HEADING = re.compile(r"^(2[01]\d)\. (.+)$")
RESOLVED = re.compile(r"^Resolved:-\s*(.*)$")
NUMBERED = re.compile(r"^(?:- )?\((\d+)\)\s+(.*)$")
BULLET = re.compile(r"^(?:- |· |• )\s*(.*)$")


@dataclass
class ParsedMinute:
    number: int
    title: str
    paragraphs: list[str] = field(default_factory=list)
    resolutions: list[str] = field(default_factory=list)

    @property
    def markdown(self) -> str:
        """Paragraphs as Markdown: a run of bullets is one list; a short line without closing
        punctuation that introduces a list is a sub-heading, as in the printed minutes."""
        out: list[str] = []
        for i, para in enumerate(self.paragraphs):
            is_bullet = para.startswith("- ")
            next_is_bullet = i + 1 < len(self.paragraphs) and self.paragraphs[i + 1].startswith(
                "- "
            )
            if is_bullet and out and out[-1].startswith("- "):
                out[-1] += "\n" + para
            elif not is_bullet and next_is_bullet and len(para) < 70 and para[-1] not in ".:-":
                out.append(f"**{para}**")
            else:
                out.append(para)
        return "\n\n".join(out)


def _minutes_lines(text: str) -> list[str]:
    start = text.index("\n208. ")
    end = text.index("\nROTHERHAM\n", start)  # the protocol report that follows the minutes
    return text[start:end].strip().splitlines()


def _join_broken(blocks: list[str]) -> list[str]:
    """Re-join paragraphs split by a page break: a block ending without closing punctuation
    continued by one starting in lower case, or a bullet list item cut mid-sentence."""
    out: list[str] = []
    for block in blocks:
        if out:
            prev = out[-1]
            first = block.lstrip("- ")
            continues = (
                bool(prev)
                and prev[-1] not in ".:!?\"')"
                and (first[:1].islower() or prev.endswith((" and", "\u2013", "-", ",")))
            )
            if continues and not block.startswith("- ") and not NUMBERED.match(block):
                out[-1] = f"{prev} {block}"
                continue
            if continues and block.startswith("- ") and first[:1].islower():
                out[-1] = f"{prev} {first}"
                continue
        out.append(block)
    return out


def _blocks(lines: list[str]) -> list[str]:
    blocks, current = [], []
    for line in lines:
        line = line.strip()
        if PAGE_HEADER.match(line):
            continue
        if not line:
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        if BULLET.match(line) and current:
            blocks.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        blocks.append(" ".join(current))
    return _join_broken(blocks)


def _as_markdown(block: str) -> str:
    bullet = BULLET.match(block)
    if bullet:
        # Some bullets were exported twice over ("- · Learning from complaints").
        return "- " + BULLET.sub(r"\1", bullet.group(1))
    return block


def parse_minutes(text: str | None = None) -> list[ParsedMinute]:
    text = text if text is not None else SOURCE.read_text(encoding="utf-8")
    minutes: list[ParsedMinute] = []
    in_resolution = False
    for block in _blocks(_minutes_lines(text)):
        heading = MINUTE_HEADING.match(block)
        if heading and (not minutes or int(heading.group(1)) == minutes[-1].number + 1):
            minutes.append(ParsedMinute(int(heading.group(1)), heading.group(2).rstrip(".")))
            in_resolution = False
            continue
        minute = minutes[-1]
        resolved = RESOLVED.match(block)
        if resolved:
            in_resolution = True
            rest = resolved.group(1)
            numbered = NUMBERED.match(rest)
            minute.resolutions.append(numbered.group(2) if numbered else rest)
            continue
        if in_resolution:
            numbered = NUMBERED.match(block)
            if numbered:
                minute.resolutions.append(numbered.group(2))
                continue
            # Sub-points such as "(a) they nominate a lead" belong to the resolution above.
            minute.resolutions[-1] += "\n" + BULLET.sub(r"\1", block)
            continue
        minute.paragraphs.append(_as_markdown(block))
    return minutes


def _bulleted_names(line: str) -> list[str]:
    line = re.sub(r"\s+", " ", line).strip().rstrip(".")
    parts = re.split(r",\s*|\s+and\s+", line)
    return [p.strip() for p in parts if p.strip()]


def parse_attendance(text: str | None = None) -> tuple[str, list[str], list[str]]:
    """(chair, others present, apologies) as recorded at 22 May 2013."""
    text = text if text is not None else SOURCE.read_text(encoding="utf-8")
    present = re.search(r"Present:- (.+?)\n", text).group(1)
    chair_part, others = present.split(";", 1)
    chair = chair_part.replace("(in the Chair)", "").strip()
    apologies = re.search(r"Apologies were received from (.+?)\n", text).group(1)
    return chair, _bulleted_names(others), _bulleted_names(apologies)


REPORT_MARKERS = [
    # (agenda item title starts with, where the report starts, where it ends)
    (
        "Memorandum of Understanding",
        "\nROTHERHAM\n\nJune 2013",
        "ROTHERHAM BOROUGH COUNCIL \u2013 CHILDREN, YOUNG PEOPLE AND FAMILIES PARTNERSHIP\n\n1.",
    ),
    (
        "Commissioning/delivery of Emergency Hormonal",
        "ROTHERHAM BOROUGH COUNCIL \u2013 CHILDREN, YOUNG PEOPLE AND FAMILIES PARTNERSHIP\n\n1.",
        "Rotherham Children and Young People's Action Plan 2013",
    ),
    (
        "Children and Young People's Services Action Plan",
        "Rotherham Children and Young People's Action Plan 2013",
        None,
    ),
]


PAGE_NUMBER = re.compile(r"^Page \d+$")  # the source pack's own page numbers


@dataclass
class Table:
    """A table of a report: column headings (if the source had them) and rows of cells.
    A row whose first cell is empty continues the action above (a spanned cell in print)."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    cells = [" ".join(c.split()) for c in line.rstrip("\t ").split("\t")]
    # The export sometimes breaks a word across a tab ("Ro\ttherham"): mend it.
    out: list[str] = []
    for cell in cells:
        if out and out[-1][-1:].islower() and cell[:1].islower():
            out[-1] += cell
        else:
            out.append(cell)
    return out


def _is_head(cells: list[str]) -> bool:
    return len(cells) > 2 and all(c and c.upper() == c for c in cells)


def _report_blocks(body: str) -> list[str | Table]:
    """Paragraphs (bullets start "- ") and tables, from one report's text. Tab-separated rows
    are tables; a heading row repeated after a page break carries on the same table."""
    blocks: list[str | Table] = []
    for chunk in re.split(r"\n\s*\n", body):
        lines = [
            ln for ln in chunk.splitlines() if ln.strip() and not PAGE_NUMBER.match(ln.strip())
        ]
        if not lines:
            continue
        rows = [_cells(ln) for ln in lines]
        if all("\t" in ln for ln in lines) and max(len(r) for r in rows) > 2:
            table = blocks[-1] if blocks and isinstance(blocks[-1], Table) else None
            if _is_head(rows[0]):
                if table is None or table.head != rows[0]:
                    table = Table(rows[0])
                    blocks.append(table)
                rows = rows[1:]
            elif table is None:
                table = Table([])
                blocks.append(table)
            width = max([len(table.head), *(len(r) for r in rows)])
            for row in rows:
                table.rows.append((row + [""] * width)[:width])
            continue
        # Not a table (a tab here is layout, as in the signature lines, each its own line):
        # paragraphs, one per bullet point; other lines carry on the one before.
        paragraphs: list[str] = []
        for ln in lines:
            text = " ".join(c for c in _cells(ln) if c)
            if BULLET.match(text):
                paragraphs.append(_as_markdown(text))
            elif paragraphs and "\t" not in ln:
                paragraphs[-1] += " " + text
            else:
                paragraphs.append(text)
        for n, text in enumerate(paragraphs):
            _add_paragraph(blocks, text, may_continue=n == 0)
    return blocks


FOOTNOTE = re.compile(r"^[\u00b9\u00b2\u00b3\u2070-\u2079]")


ENUMERATED = re.compile(r"^\(?[a-z]{1,4}\)\s")  # "a) ...", "(iv) ...": a list item


def _add_paragraph(blocks: list, text: str, may_continue: bool) -> None:
    """Add a paragraph, re-joining one that a page break split: the continuation opens a
    chunk in lower case, and the page's footnotes may stand between the two halves."""
    first = text[2:] if text.startswith("- ") else text
    if may_continue and first[:1].islower() and not ENUMERATED.match(first):
        for i in range(len(blocks) - 1, -1, -1):
            block = blocks[i]
            if isinstance(block, str) and FOOTNOTE.match(block):
                continue
            if isinstance(block, str) and block[-1:] not in ".:;!?\"')":
                blocks[i] = f"{block} {first}"
                return
            break
    blocks.append(text)


def parse_reports(text: str | None = None) -> dict[str, list[str | Table]]:
    """The reports that follow the minutes in the pack, as paragraphs and tables, by agenda
    item; the source pack's page numbers are left out (the agenda pack stamps its own)."""
    text = text if text is not None else SOURCE.read_text(encoding="utf-8")
    out = {}
    for item_title, start_marker, end_marker in REPORT_MARKERS:
        start = text.index(start_marker)
        end = text.index(end_marker, start + 1) if end_marker else len(text)
        out[item_title] = _report_blocks(text[start:end].replace("**", ""))
    return out
