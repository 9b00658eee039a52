"""Counting the SQL statements one GET runs, as a request of its own would (nothing already
loaded in the session, the user read afresh): for the tests that a page costs the same
statements however large the record."""

from __future__ import annotations

import os

from flask import g
from sqlalchemy import event

from app.extensions import db


def counted_get(client, path: str, headers: dict | None = None):
    """(statements run, response) of GET path, which must answer 200. SHOW_QUERIES=1 prints
    them."""
    db.session.expunge_all()
    g.pop("_login_user", None)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split())[:200])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = client.get(path, headers=headers or {})
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert response.status_code == 200, (path, response.status_code)
    if os.environ.get("SHOW_QUERIES"):
        print(path, *statements, sep="\n  ")
    return len(statements), response
