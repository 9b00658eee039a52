from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.meetings.models import Meeting
from app.packs.builder import MEMBERS, PUBLIC, PackError, build_pack

packs_cli = AppGroup("packs", help="Agenda packs.")


@packs_cli.command("build")
@click.argument("meeting_id", type=int)
@click.option("--variant", type=click.Choice([PUBLIC, MEMBERS]), default=PUBLIC)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True)
def build(meeting_id: int, variant: str, output: str):
    """Write a meeting's agenda pack to FILE."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise click.ClickException(f"No meeting {meeting_id}")
    if not meeting.items:
        raise click.ClickException("The meeting's agenda has no items yet")
    try:
        pack = build_pack(meeting, variant)
    except PackError as exc:
        raise click.ClickException(str(exc)) from None
    with open(output, "wb") as fh:
        fh.write(pack.pdf)
    click.echo(f"Wrote {output}: {pack.pages} pages ({pack.agenda_pages} agenda pages)")
