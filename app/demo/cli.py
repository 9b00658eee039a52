from __future__ import annotations

import click
from flask.cli import AppGroup

from app.demo.loader import DEMO_LOGINS, load_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Only into a database with no committees and no users (make serve), so a real "
    "site never gains the demo or its known passwords.",
)
def load(if_empty):
    """Load the demo partnership (safe to run again: it changes nothing the second time)."""
    if if_empty and _has_records():
        click.echo("The database has records: the demo is not loaded.")
        return
    created = load_demo()
    db.session.commit()
    click.echo("Loaded the demo partnership." if created else "Demo data already loaded.")
    for login in DEMO_LOGINS:
        click.echo(f"Demo sign-in: {login.email} / {login.password} ({login.role.value})")


def _has_records() -> bool:
    from sqlalchemy import exists, select

    from app.auth.models import User
    from app.committees.models import Committee

    return bool(db.session.scalar(select(exists().where(Committee.id.is_not(None))))) or bool(
        db.session.scalar(select(exists().where(User.id.is_not(None))))
    )
