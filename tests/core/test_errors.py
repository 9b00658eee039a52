"""Broken constraints reach people as validation errors, never as 500s."""

import pytest
from flask import Blueprint

from app import create_app
from app.core.errors import ValidationError, constraint_errors
from app.extensions import db
from app.models import Committee
from config import TestingConfig


def test_constraint_errors_names_the_field_and_keeps_the_transaction(f):
    f.committee("Audit Committee")
    kept = f.person("Still here")
    with pytest.raises(ValidationError) as info, constraint_errors(db.session):
        db.session.add(Committee(name="Audit Committee", slug="audit-committee-2"))
    assert info.value.errors == {"name": ["A committee with that name already exists."]}
    # The outer transaction survives the refusal.
    db.session.commit()
    assert kept.id is not None


def test_integrity_error_in_a_view_is_a_validation_error_not_500(tmp_path):
    # A separate app: blueprints cannot be added to one that has served requests.
    app = create_app(TestingConfig, STORAGE_DIR=str(tmp_path))
    bp = Blueprint("boom", __name__)

    @bp.route("/_test/duplicate-committee")
    def duplicate():
        db.session.add(Committee(name="Dup", slug="dup"))
        db.session.add(Committee(name="Dup", slug="dup-2"))
        db.session.flush()
        return "unreachable"

    @bp.route("/api/v1/_test/duplicate-committee")
    def duplicate_api():
        return duplicate()

    app.register_blueprint(bp)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    page = client.get("/_test/duplicate-committee")
    assert page.status_code == 422
    assert "already exists" in page.get_data(as_text=True)
    assert "IntegrityError" not in page.get_data(as_text=True)
    api = client.get("/api/v1/_test/duplicate-committee")
    assert api.status_code == 422
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["errors"] == {"name": ["A committee with that name already exists."]}
