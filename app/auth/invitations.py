"""The e-mails of an invitation: the link to make an account, or, for an address that has
one already, a reminder of how to sign in (so the inviter is told the same either way)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.auth.models import Invitation
from app.core.web import format_local_datetime
from app.notifications.messages import render
from app.notifications.services import link, queue, sender_for
from app.people.models import Person


def queue_invitation(invitation: Invitation, signed_token: str) -> None:
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
        accept_url=link("auth.accept_invitation", token=signed_token),
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


def queue_sign_in_reminder(person: Person, email: str, now: datetime) -> None:
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
