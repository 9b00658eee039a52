"""The JSON API under /api/v1: bearer tokens, problem+json errors, an OpenAPI document."""

from __future__ import annotations


def register(app) -> None:
    from app.api import writes  # noqa: F401  (adds the write routes to the blueprints)
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
    for blueprint in (*BLUEPRINTS, record_bp, actions_bp, opendata_bp):
        csrf.exempt(blueprint)  # token-authenticated: no cookies, so no CSRF
        api.register_blueprint(blueprint)
