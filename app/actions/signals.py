"""What actions tell the packages above them (blinker signals; receivers run at once, inside
the sender's transaction)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

action_assigned = _signals.signal("action-assigned")
"""Sent with an action that has just been given an owner, when it is created or corrected to
someone new, and the `user` who did it (the notifications tell the owner)."""
