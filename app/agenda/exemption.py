"""The grounds an exempt item or paper keeps: one rule for items (agenda.services) and papers
(agenda.documents), so the two cannot drift apart again.

Only exempt business has grounds under Schedule 12A: the paragraph(s) that apply and why the
public interest favours keeping it back. Public business has none, and confidential business
(s.100A(3) of the Local Government Act 1972) is withheld by law without either, so both are
cleared whatever was sent."""

from __future__ import annotations

from app.agenda.models import SCHEDULE_12A, Visibility
from app.core import text as rules


def exemption_grounds(
    visibility: Visibility | None, paragraphs, reason: str | None
) -> tuple[list[int], str | None, dict[str, list[str]]]:
    """The paragraphs and public-interest statement to keep for this visibility, and the
    errors by field (empty when there are none). `visibility` None (itself refused) checks
    what was sent without clearing it."""
    errors: dict[str, list[str]] = {}
    try:
        paragraphs = sorted({int(p) for p in paragraphs or []})
    except (TypeError, ValueError):
        errors["exempt_paragraphs"] = ["Paragraphs are numbers from 1 to 7."]
        paragraphs = []
    if any(p not in SCHEDULE_12A for p in paragraphs):
        errors["exempt_paragraphs"] = ["Paragraphs are numbers from 1 to 7."]
    try:
        reason = rules.clean_text(
            reason, rules.LONG_TEXT, multiline=True, label="The public interest statement"
        )
    except ValueError as exc:
        errors["public_interest_reason"] = [str(exc)]
        reason = None
    if visibility == Visibility.EXEMPT:
        if not paragraphs and "exempt_paragraphs" not in errors:
            errors["exempt_paragraphs"] = ["Choose the paragraph(s) of Schedule 12A that apply."]
        if not reason and "public_interest_reason" not in errors:
            errors["public_interest_reason"] = ["Say why the public interest favours exemption."]
        return paragraphs, reason, errors
    if visibility is None:
        return paragraphs, reason, errors
    return [], None, {}
