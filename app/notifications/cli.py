"""`flask --app app notifications send [--now ISO8601]`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.extensions import db
from app.notifications.due import queue_due
from app.notifications.services import send_due

notifications_cli = AppGroup("notifications", help="Send e-mail notifications.")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "give a date and time like 2026-12-01T09:00 or 2026-12-01T09:00:00+00:00",
            param_hint="--now",
        ) from None
    if not 1900 <= moment.year <= 2200:
        raise click.BadParameter("the year must be between 1900 and 2200", param_hint="--now")
    # A time without an offset is taken as UTC, as every stored time is.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@notifications_cli.command("send")
@click.option("--now", "now", metavar="ISO8601", help="Send what is due at this moment.")
def send_command(now: str | None) -> None:
    """Queue the reminders, overdue notices and weekly digests due at this moment, then send
    every queued message that is due, once each, and print how many were sent."""
    moment = _moment(now)
    queue_due(db.session, now=moment)
    count = send_due(db.session, now=moment)
    click.echo(f"{count} message{'' if count == 1 else 's'} sent")
