from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core.forms import DateInput, GovDateField, GroupedGovSelect

STATUS_CHOICES = [
    ("", "No change"),
    ("open", "Open"),
    ("in_progress", "In progress"),
    ("complete", "Complete"),
    ("cancelled", "Cancelled"),
]
RAG_CHOICES = [
    ("", "No change"),
    ("red", "Red: not done or at risk"),
    ("amber", "Amber: in progress, slipping"),
    ("green", "Green: on target"),
    ("grey", "Grey: complete and evidenced"),
]


class UpdateForm(FlaskForm):
    note = TextAreaField(
        "Progress note", widget=GovTextArea(), validators=[Optional(), Length(max=10_000)]
    )
    status = SelectField(
        "Status", widget=GovSelect(), choices=STATUS_CHOICES, validators=[Optional()]
    )
    rag = RadioField(
        "RAG rating",
        widget=GovRadioInput(),
        choices=RAG_CHOICES,
        default="",
        validators=[Optional()],
    )
    version = HiddenField()
    submit = SubmitField("Post the update", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    committee_id = SelectField(
        "Committee", widget=GovSelect(), validators=[InputRequired("Choose the committee")]
    )
    title = StringField(
        "Action",
        widget=GovTextInput(),
        validators=[InputRequired("Say what is to be done"), Length(max=2000)],
    )
    owner_id = SelectField(
        "Owner",
        widget=GroupedGovSelect(),
        validators=[InputRequired("Choose who owns the action")],
    )
    due_date = GovDateField("Due date", widget=DateInput(), validators=[Optional()])
    reference = StringField(
        "Reference (optional)",
        widget=GovTextInput(),
        description="For example 1.2.3",
        validators=[Optional(), Length(max=50)],
    )
    submit = SubmitField("Add the action", widget=GovSubmitInput())


class PlanImportForm(FlaskForm):
    file = FileField(
        "CSV or XLSX file",
        widget=GovFileInput(),
        description="The plan as you keep it: your own headings (they are matched, and you "
        "can say what the others are), a theme line above each group of rows, RAG as letters "
        "or words, several leads in one cell.",
    )
    # Names the file previewed, kept under the instance's storage (app/actions/plan.py).
    upload_token = HiddenField()
    preview = SubmitField("Preview", widget=GovSubmitInput())
    remap = SubmitField("Preview again with these columns", widget=GovSubmitInput())
    confirm = SubmitField("Import the plan", widget=GovSubmitInput())


class CorrectionForm(ActionForm):
    """What an action is, corrected: the same fields as adding one, but an action stays with
    its committee."""

    committee_id = None
    version = HiddenField()
    submit = SubmitField("Save the correction", widget=GovSubmitInput())
