"""Unbound extension objects; `create_app` binds them."""

import http

import marshmallow as ma
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every API error is sent (see app/core/web.py)."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


PROBLEM_JSON = "application/problem+json"


class MinutebookApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"
    # Each operation lists the errors it can give (app/api/__init__.py), so no catch-all
    # "default" response hides an undocumented status from clients and from Schemathesis.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """The named responses flask-smorest refers to (422 for arguments that do not load),
        declared as sent: errors are problem+json, not JSON."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)


api = MinutebookApi()
