from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from app.auth import services
from app.core.errors import ServiceError, ValidationError
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
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, services.MAX_TOKEN_DAYS),
    default=None,
    help="Stop working after this many days (default: until revoked).",
)
def token(email, name, expires_in_days):
    """Issue an API token; it is printed once, as the last line."""
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}")
    try:
        plain = services.issue_token(user, name, expires_in_days)
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    if expires_in_days:
        click.echo(f"It stops working after {expires_in_days} days.")
    click.echo(f"API token for {user.email} (keep it secret; it is not shown again):")
    click.echo(plain)


tokens_cli = AppGroup("tokens", help="List and revoke API tokens.")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@tokens_cli.command("list")
@click.argument("email")
def list_tokens(email):
    """An account's tokens: id, status, created, last used, expires, name."""
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}")
    tokens = services.tokens_of(user)
    if not tokens:
        click.echo(f"{user.email} has no API tokens")
        return
    click.echo("id\tstatus\tcreated\tlast used\texpires\tname")
    for t in tokens:
        click.echo(
            "\t".join(
                [
                    str(t.id),
                    t.status,
                    _when(t.created_at),
                    _when(t.last_used_at),
                    _when(t.expires_at),
                    t.name or "",
                ]
            )
        )


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id):
    """Revoke a token by its id (from `tokens list`); it stops working at once."""
    try:
        token = services.revoke_token(token_id)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(f"Revoked token {token.id} of {token.user.email}")
