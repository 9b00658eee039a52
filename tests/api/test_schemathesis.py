"""Property-based API conformance: Schemathesis generates requests from /api/v1/openapi.json
and checks that nothing answers 5xx and every documented response matches its schema."""

import schemathesis
from hypothesis import HealthCheck, given, settings

from app.auth.services import issue_token
from app.demo.loader import load_demo
from app.extensions import db as _db
from app.models import Role
from tests import factories

CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]


def _exercise(app, operation, token, failures):
    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = case.call(app=app, headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{operation.label} {'staff' if headers else 'public'}: {exc}")
            _db.session.rollback()

    run()


def test_api_conforms_to_its_openapi_document(app, db):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(spec)
    load_demo()
    token = issue_token(factories.user(Role.CLERK))
    _db.session.commit()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        _exercise(app, operation, token, failures)
    assert not failures, "\n\n".join(failures[:5])
