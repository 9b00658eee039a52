"""The JSON API under /api/v1: bearer tokens, problem+json errors, an OpenAPI document."""

from __future__ import annotations

from apispec import BasePlugin
from flask_smorest import Blueprint
from werkzeug.datastructures import CombinedMultiDict

# A multipart body is one schema, its file and its text fields together, read and documented
# as one requestBody: with a schema for "form" and another for "files", flask-smorest makes the
# second a list of Swagger 2 `formData` parameters, which OpenAPI 3 does not have. So "files"
# reads both (a schema of files alone finds its files as before).
_parser = Blueprint.ARGUMENTS_PARSER
_parser.__location_map__ = {
    **_parser.__location_map__,
    "files": lambda request, schema: _parser._makeproxy(
        CombinedMultiDict([request.form, request.files]), schema
    ),
}

WRITE_METHODS = ("post", "put", "patch", "delete")

# Each domain's API module (app/<domain>/api.py) adds its routes to its blueprints; this is the
# order they are registered in, and so the order of the document's tags.
DOMAINS = (
    "app.committees.api",
    "app.meetings.api",
    "app.agenda.api",
    "app.minutes.api",
    "app.actions.api",
    "app.opendata.api",
    "app.search.api",
    "app.auth.api",
)
BLUEPRINTS: list[Blueprint] = []


def api_blueprint(import_name: str, name: str, description: str) -> Blueprint:
    """A blueprint of the API: under /api/v1, every request through the token guard."""
    from app.api.auth import guard_request

    blueprint = Blueprint(name, import_name, url_prefix="/api/v1", description=description)
    blueprint.before_request(guard_request)
    BLUEPRINTS.append(blueprint)
    return blueprint


# Every error the API sends is problem+json (app/core/web.py); these are the statuses, with
# what each means wherever it is given.
ERRORS = {
    "400": "The body cannot be read: not JSON, or nested too deeply.",
    "401": "The token is not valid, has expired or has been revoked; or none was sent where one "
    "is needed (every write, and /me).",
    "403": "The token's user may not do this.",
    "404": "Nothing with that id or slug (in the path, the query or the body), or nothing the "
    "token's user may see.",
    "409": "A conflict with the record as it is: a stale `version`, approved (locked) minutes, "
    "or a state that does not allow the change.",
    "413": "The body is larger than the API accepts.",
    "422": "Some values are not valid; `errors` names each field.",
    "503": "The database is busy; try again after `Retry-After`.",
}
HEADERS = {
    "401": {
        "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
    },
    "503": {
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
    },
}


def errors_of(method: str, path: str, operation: dict) -> list[str]:
    """The error statuses an operation can answer with, from what it is and what it takes:
    any token may be refused and the database may be busy; a write may be unreadable, too
    large, forbidden, invalid, in conflict, or name something that is not there; whatever
    takes an id, a slug or any argument may find nothing, or be sent an invalid one."""
    statuses = {"401", "503"}
    queries = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if method in WRITE_METHODS:
        statuses |= {"400", "403", "404", "409", "413", "422"}
    if "{" in path or queries:
        statuses.add("404")
    if queries or "requestBody" in operation:
        statuses.add("422")
    return sorted(statuses)


class ErrorResponses(BasePlugin):
    """Declares on every operation, as problem+json, each error it can give; endpoints added
    later get theirs too."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            if method not in ("get", *WRITE_METHODS):
                continue
            # flask-smorest keys statuses as numbers; one key each, as the document has.
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            if responses.get("422") == "UNPROCESSABLE_ENTITY":
                del responses["422"]  # flask-smorest's, for arguments: ours says more
            for status in errors_of(method, path or "", operation):
                responses.setdefault(status, error_response(status))
            operation["responses"] = responses


def error_response(status: str) -> dict:
    """Written out in each operation, as a reader of one operation wants it."""
    from app.extensions import PROBLEM_JSON

    response = {
        "description": ERRORS[status],
        # ProblemSchema, registered with the named responses (app/extensions.py)
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


class PatchBodies(BasePlugin):
    """A PATCH body's schema says it needs a change (app/api/schemas.py PatchSchema), so that
    clients and generated requests know `{}` is refused."""

    def schema_helper(self, name, definition, **kwargs):
        from app.api.schemas import PatchSchema

        schema = kwargs.get("schema")
        kind = schema if isinstance(schema, type) else type(schema)
        if not (isinstance(kind, type) and issubclass(kind, PatchSchema)):
            return None
        return {"minProperties": 1, "anyOf": [{"required": [n]} for n in kind.changes()]}


def register(app) -> None:
    import importlib

    from app.extensions import api, csrf

    for module in DOMAINS:
        importlib.import_module(module)

    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `flask --app app users token`",
        },
    )
    api.spec.options["security"] = [{"bearerAuth": []}, {}]
    for plugin in (ErrorResponses(), PatchBodies()):
        plugin.init_spec(api.spec)
        api.spec.plugins.append(plugin)
    for blueprint in BLUEPRINTS:
        csrf.exempt(blueprint)  # token-authenticated: no cookies, so no CSRF
        api.register_blueprint(blueprint)
