"""What accounts tell the packages above them (blinker signals; receivers run at once, inside
the sender's transaction)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

invitation_created = _signals.signal("invitation-created")
"""Sent with an Invitation just made and `link_token`, the signed token of its link (which
exists nowhere else: the notifications put it in the e-mail)."""

invited_with_an_account = _signals.signal("invited-with-an-account")
"""Sent with a Person invited whose address (or who) has an account already, with `email`
and `now`: they are told how to sign in instead, so the inviter is answered the same."""
