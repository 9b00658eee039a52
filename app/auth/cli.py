from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from app.auth import services
from app.core.errors import ValidationError
from app.core.permissions import Role
from app.extensions import db

users_cli = AppGroup("users", help="Manage accounts and API tokens.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None)
@click.option("--password", default=None, help="Omit to have one generated and printed.")
@click.option("--person-id", type=int, default=None, help="Link the account to this person.")
def create(email, role, name, password, person_id):
    """Create an account."""
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    try:
        user = services.create_user(email, role, name, password, person_id)
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}), id {user.id}")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default=None, help="A label for the token.")
def token(email, name):
    """Issue an API token; it is printed once, as the last line."""
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}")
    plain = services.issue_token(user, name)
    db.session.commit()
    click.echo(f"API token for {user.email} (keep it secret; it is not shown again):")
    click.echo(plain)
