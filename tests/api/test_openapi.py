"""The OpenAPI document, as the app serves it: valid OpenAPI 3, every error declared as the
problem+json it is sent as, and request bodies a generated client can send in full."""

import io

import pytest
from openapi_spec_validator import validate

from app.auth.services import issue_token
from app.models import Role
from tests.pdfs import make_pdf

WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get"}


@pytest.fixture
def spec(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, item, operation


def _resolve(spec, node):
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


def test_the_document_validates(spec):
    validate(spec)  # raises with the first error, naming where it is
    assert spec["openapi"].startswith("3.")
    assert len(list(_operations(spec))) >= 30


def test_every_error_is_declared_as_problem_json(spec):
    for path, method, _, operation in _operations(spec):
        assert "default" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = _resolve(spec, response)["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            schema = content["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys()


def test_each_operation_declares_the_errors_it_can_give(spec):
    for path, method, item, operation in _operations(spec):
        statuses = set(operation["responses"])
        parameters = item.get("parameters", []) + operation.get("parameters", [])
        expected = {"401", "503"}
        if method in WRITES:
            expected |= {"400", "403", "404", "409", "413", "422"}
        if any(p["in"] == "path" for p in parameters):
            expected.add("404")
        if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
            expected.add("422")
        assert expected <= statuses, (method, path, sorted(expected - statuses))


def test_a_token_refused_is_answered_as_declared(client, spec):
    """What the document says of a 401 is what a client gets, on a read as on a write."""
    response = _resolve(spec, spec["paths"]["/api/v1/meetings"]["get"]["responses"]["401"])
    assert "WWW-Authenticate" in response["headers"]
    for method in ("get", "post"):
        r = client.open("/api/v1/meetings", method=method, headers={"Authorization": "Bearer x"})
        assert r.status_code == 401 and r.mimetype == "application/problem+json"
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_parameters_are_openapi_3(spec):
    """No Swagger 2 `formData` or `body` parameters: bodies are requestBody."""
    for path, method, item, operation in _operations(spec):
        for parameter in item.get("parameters", []) + operation.get("parameters", []):
            assert parameter["in"] in {"path", "query", "header", "cookie"}, (method, path)


def test_the_upload_declares_every_field_it_reads(spec):
    operation = spec["paths"]["/api/v1/agenda-items/{item_id}/documents"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    schema = _resolve(spec, operation["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert set(schema["properties"]) == {
        "file",
        "title",
        "visibility",
        "exempt_paragraphs",
        "public_interest_reason",
    }
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["exempt_paragraphs"]["items"] == {"type": "integer"}
    assert set(schema["required"]) == {"file", "title"}


def test_a_client_built_from_the_document_uploads_an_exempt_paper(client, db, f, spec):
    """Every field the document names is read: a generated client can title the paper and make it
    exempt under a paragraph with its public-interest statement."""
    item = f.exempt_item(f.meeting(f.committee()), paragraphs=(3,))
    clerk = {"Authorization": f"Bearer {issue_token(f.user(Role.CLERK))}"}
    db.session.commit()
    operation = spec["paths"]["/api/v1/agenda-items/{item_id}/documents"]["post"]
    schema = _resolve(spec, operation["requestBody"]["content"]["multipart/form-data"]["schema"])
    values = {
        "file": (io.BytesIO(make_pdf(2, "valuation")), "valuation.pdf"),
        "title": "Valuation of the depot site",
        "visibility": "exempt",
        "exempt_paragraphs": ["3"],
        "public_interest_reason": "Negotiations are continuing.",
    }
    assert set(values) == set(schema["properties"])
    r = client.post(
        f"/api/v1/agenda-items/{item.id}/documents",
        headers=clerk,
        content_type="multipart/form-data",
        data=values,
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["title"] == "Valuation of the depot site" and body["visibility"] == "exempt"
    assert body["page_count"] == 2
    r = client.post(
        f"/api/v1/agenda-items/{item.id}/documents",
        headers=clerk,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(make_pdf(1)), "x.pdf")},
    )
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "title" in r.get_json()["errors"]


def test_patch_bodies_declare_that_they_need_a_change(spec):
    for path, method, _, operation in _operations(spec):
        if method != "patch":
            continue
        schema = _resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])
        assert schema["minProperties"] == 1, path
        named = {name for branch in schema["anyOf"] for name in branch["required"]}
        assert "version" not in named and named <= set(schema["properties"]), path
