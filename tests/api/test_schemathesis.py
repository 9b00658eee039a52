"""Property-based API conformance: Schemathesis runs every check it has (`--checks all`: server
errors, response schemas, status codes, content types and headers, `Allow` on 405, negative data
rejected and valid data accepted, ...) in all its phases, against /api/v1/openapi.json, as the
public, a member and a clerk."""

import time

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished
from sqlalchemy import select

from app.auth.services import issue_token
from app.committees.models import Committee
from app.demo.loader import load_demo
from app.extensions import db as _db
from app.models import Role
from tests import factories

# Examples per operation and phase: enough to reach each operation's branches in the demo's data,
# few enough that the three runs take about a minute or two in CI.
MAX_EXAMPLES = 12
MAX_ID = 2**31 - 1
WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _run(app, headers: dict[str, str]) -> tuple[list[str], int]:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 14,  # the same requests each run: a failure can be repeated
            "headers": headers,
            "workers": 1,  # one database session at a time: SQLite's one writer
            "suppress-health-check": ["all"],
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
            # A write whose body fits the schema can still be refused with 422 for what a JSON
            # Schema cannot say: an id that names nobody, a file that is not a PDF, a late
            # agenda without its reason. Reads have no such rules: a valid query is answered.
            "operations": [
                {
                    "include-method": WRITES,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                        }
                    },
                }
            ],
        }
    )
    config.projects.default.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    failures: list[str] = []
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            scenarios += 1
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status != Status.FAILURE or check.failure_info is None:
                        continue
                    case = event.recorder.cases[case_id].value
                    interaction = event.recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    failure = check.failure_info.failure
                    body = response.content[:300] if response is not None else b""
                    failures.append(
                        f"{case.operation.label} [{event.phase.value}] {check.name}: "
                        f"{failure.title}\n{failure.message}\n"
                        f"{check.failure_info.code_sample}\n-> {body!r}"
                    )
        elif isinstance(event, NonFatalError | FatalError):
            failures.append(f"error: {event.info.format()}")
        elif isinstance(event, EngineFinished):
            failures.extend(f"after the run: {failure.title}" for failure in event.failures)
    return failures, scenarios


@pytest.fixture
def tokens(db):
    load_demo()
    committee = _db.session.scalars(select(Committee).order_by(Committee.id)).first()
    out = {
        "anonymous": None,
        "member": issue_token(factories.member_user(committee)),
        "clerk": issue_token(factories.user(Role.CLERK)),
    }
    _db.session.commit()
    return out


@pytest.mark.parametrize("role", ["anonymous", "member", "clerk"])
def test_api_conforms_to_its_openapi_document(app, tokens, role):
    token = tokens[role]
    started = time.monotonic()
    failures, scenarios = _run(app, {"Authorization": f"Bearer {token}"} if token else {})
    assert scenarios >= 20, "Schemathesis found too few operations"
    unique = list(dict.fromkeys(failures))
    assert not unique, f"{len(unique)} failures as {role} (first 5):\n\n" + "\n\n".join(unique[:5])
    assert time.monotonic() - started < 600


def test_an_id_beyond_the_maximum_is_not_found(client):
    assert client.get(f"/api/v1/minutes/{MAX_ID + 1}").status_code == 404
    assert client.get(f"/api/v1/minutes/{10**30}").status_code == 404
    assert client.get(f"/meetings/{MAX_ID + 1}/").status_code == 404
