"""The e-mails of an invitation: the link to make an account, or, for an address that has
one already, a reminder of how to sign in (so the inviter is told the same either way).
Receivers of the auth signals; app/auth/views.py imports this module so they are connected
wherever accounts can be managed."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.auth import signals as auth_signals
from app.auth.models import Invitation
from app.core.web import format_local_datetime
from app.notifications.messages import render
from app.notifications.services import link, queue, sender_for
from app.people.models import Person


@auth_signals.invitation_created.connect
def queue_invitation(invitation: Invitation, *, link_token: str, **_kw) -> None:
    person = invitation.person
    subject = "You are invited to make an account"
    text, html = render(
        "invitation",
        subject=subject,
        person=person,
        role=invitation.role.value,
        invited_by=invitation.invited_by.name if invitation.invited_by else None,
        expires=format_local_datetime(
            invitation.expires_at, current_app.config.get("DEFAULT_TIMEZONE", "Europe/London")
        ),
        accept_url=link("auth.accept_invitation", token=link_token),
    )
    queue(
        key=f"invitation:{invitation.id}",
        kind="invitation",
        recipient=invitation.email,
        recipient_name=person.display_name,
        person_id=person.id,
        sender=sender_for(None),
        subject=subject,
        body_text=text,
        body_html=html,
    )


@auth_signals.invited_with_an_account.connect
def queue_sign_in_reminder(person: Person, *, email: str, now: datetime, **_kw) -> None:
    subject = "You are invited to make an account"
    text, html = render(
        "invitation_existing",
        subject=subject,
        person=person,
        sign_in_url=link("auth.login"),
    )
    queue(
        key=f"invitation-existing:{person.id}:{now.strftime('%Y%m%dT%H%M%S%f')}",
        kind="invitation",
        recipient=email,
        recipient_name=person.display_name,
        person_id=person.id,
        sender=sender_for(None),
        subject=subject,
        body_text=text,
        body_html=html,
    )
