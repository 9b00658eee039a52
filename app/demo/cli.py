from __future__ import annotations

import click
from flask.cli import AppGroup

from app.demo.loader import DEMO_LOGINS, load_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
def load():
    """Load the demo partnership (safe to run again: it changes nothing the second time)."""
    created = load_demo()
    db.session.commit()
    click.echo("Loaded the demo partnership." if created else "Demo data already loaded.")
    for login in DEMO_LOGINS:
        click.echo(f"Demo sign-in: {login.email} / {login.password} ({login.role.value})")
