"""What the agenda tells the packages above it, which react without the agenda importing them
(blinker signals; receivers run at once, inside the sender's transaction)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

paper_stored = _signals.signal("paper-stored")
"""Sent with `path`, `pages` and `sha256` once an uploaded paper's file is kept (the packs
look once at where their page stamps would go)."""

removal_blockers = _signals.signal("agenda-item-removal-blockers")
"""Sent with the item about to be removed and `ids` (its own and its sub-items'); a receiver
returns the reasons, in words for the clerk, why the record it keeps needs those items."""

agenda_published = _signals.signal("agenda-published")
"""Sent with the meeting and its new `publication` (the packs ask for their builds)."""
