"""The JSON API under /api/v1: bearer tokens, problem+json errors, an OpenAPI document."""

from __future__ import annotations

from apispec import BasePlugin

# What every write can answer before its own checks run (app/api/auth.py guard_request).
WRITE_ERRORS = {
    "400": "The body cannot be read: not JSON, or nested too deeply",
    "401": "No token, or one that is not valid",
    "413": "The body is larger than the API accepts",
}


class WriteErrors(BasePlugin):
    """Declares the errors of the API's guard on every write operation, as problem+json."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for method, operation in (operations or {}).items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in WRITE_ERRORS.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/problem+json": problem}},
                )


def register(app) -> None:
    from app.api import writes  # noqa: F401  (adds the write routes to the blueprints)
    from app.api.reads import reads_bp
    from app.api.record import actions_bp, opendata_bp, record_bp
    from app.api.resources import BLUEPRINTS
    from app.extensions import api, csrf

    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `flask --app app users token`",
        },
    )
    api.spec.options["security"] = [{"bearerAuth": []}, {}]
    plugin = WriteErrors()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)
    for blueprint in (*BLUEPRINTS, record_bp, actions_bp, opendata_bp, reads_bp):
        csrf.exempt(blueprint)  # token-authenticated: no cookies, so no CSRF
        api.register_blueprint(blueprint)
