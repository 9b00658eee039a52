from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional


class PersonForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the person's name"), Length(max=200)],
    )
    honorific = StringField(
        "Honorific",
        description="For example Cllr, Dr or Ms; leave empty for none",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=50)],
    )
    job_title = StringField(
        "Job title", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    organisation = StringField(
        "Organisation", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    email = StringField(
        "Email address",
        description="Where their papers, actions and any invitation to make an account are sent",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=254)],
    )
    version = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())

    def service_fields(self) -> dict:
        return {
            name: getattr(self, name).data or None
            for name in ("name", "honorific", "job_title", "organisation", "email")
        }
