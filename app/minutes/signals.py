"""What the minutes tell the packages above them (blinker signals; receivers run at once,
inside the sender's transaction)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

removal_blockers = _signals.signal("minute-removal-blockers")
"""Sent with a draft minute about to be deleted and `resolution_ids` (its resolutions'); a
receiver returns the reasons, in words for the clerk, why what it keeps needs the minute."""

minutes_published = _signals.signal("minutes-published")
"""Sent with a meeting whose draft minutes have just been circulated (publish_minutes), and
the `user` who did it (the notifications tell the committee's members and officers)."""
