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


def parse_reports(text: str | None = None) -> dict[str, list[str]]:
    """The reports that follow the minutes in the pack, as paragraphs, by agenda item."""
    text = text if text is not None else SOURCE.read_text(encoding="utf-8")
    out = {}
    for item_title, start_marker, end_marker in REPORT_MARKERS:
        start = text.index(start_marker)
        end = text.index(end_marker, start + 1) if end_marker else len(text)
        body = text[start:end].replace("**", "").replace("\t", " ")
        out[item_title] = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
    return out
