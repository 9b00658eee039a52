"""What meetings tell the packages above them (blinker signals; receivers run at once, inside
the sender's transaction)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

apologies_sent = _signals.signal("apologies-sent")
"""Sent with the meeting, the `attendance` row of the member who sent their own apologies,
and the `user` who sent them (the notifications tell the clerk and thank the sender)."""
