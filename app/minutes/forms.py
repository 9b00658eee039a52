from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.forms import DateInput, GovDateField, GroupedGovSelect

KIND_CHOICES = [
    ("resolved", "Resolved"),
    ("recommended", "Recommended to another body"),
    ("noted", "Noted"),
]
DECLARATION_CHOICES = [
    ("disclosable_pecuniary", "Disclosable pecuniary interest"),
    ("other_registrable", "Other registrable interest"),
    ("non_registrable", "Non-registrable interest"),
]


class MinuteForm(FlaskForm):
    title = StringField(
        "Title", widget=GovTextInput(), validators=[InputRequired("Enter a title"), Length(max=500)]
    )
    text = TextAreaField(
        "Minute",
        widget=GovTextArea(),
        description="Markdown: a blank line between paragraphs, - for bullets",
        validators=[Optional(), Length(max=200_000)],
    )
    version = HiddenField()
    submit = SubmitField("Save minute", widget=GovSubmitInput())
    save_next = SubmitField("Save and go to the next item", widget=GovSubmitInput())


class ResolutionForm(FlaskForm):
    text = TextAreaField(
        "Resolution",
        widget=GovTextArea(),
        description='Starting "That ..."',
        validators=[InputRequired("Enter the resolution"), Length(max=10_000)],
    )
    kind = SelectField("Kind", widget=GovSelect(), choices=KIND_CHOICES, default="resolved")
    recommended_to = StringField(
        "Recommended to (for recommendations)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=300)],
    )
    votes_for = IntegerField(
        "Votes for", widget=GovTextInput(), validators=[Optional(), NumberRange(min=0)]
    )
    votes_against = IntegerField(
        "Votes against", widget=GovTextInput(), validators=[Optional(), NumberRange(min=0)]
    )
    abstentions = IntegerField(
        "Abstentions", widget=GovTextInput(), validators=[Optional(), NumberRange(min=0)]
    )
    submit = SubmitField("Add resolution", widget=GovSubmitInput())


class ActionFromResolutionForm(FlaskForm):
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
    submit = SubmitField("Add action", widget=GovSubmitInput())


class DeclarationForm(FlaskForm):
    # Only offered when the minute's item has sub-items (they are minuted with it).
    agenda_item_id = SelectField("Item", widget=GovSelect(), validators=[Optional()])
    person_id = SelectField(
        "Who",
        widget=GroupedGovSelect(),
        validators=[InputRequired("Choose who declared the interest")],
    )
    kind = SelectField("Kind of interest", widget=GovSelect(), choices=DECLARATION_CHOICES)
    nature = TextAreaField(
        "Nature of the interest",
        widget=GovTextArea(),
        validators=[InputRequired("Describe the interest"), Length(max=5000)],
    )
    withdrew = BooleanField("Withdrew from the meeting for this item", widget=GovCheckboxInput())
    submit = SubmitField("Record the declaration", widget=GovSubmitInput())


class ApprovalForm(FlaskForm):
    at_meeting_id = SelectField(
        "Approved at the meeting on",
        widget=GovSelect(),
        validators=[InputRequired("Choose the meeting")],
    )
    amendments = TextAreaField(
        "Amendments (if any)",
        widget=GovTextArea(),
        description="For example: subject to the inclusion of Karen Smith's apologies",
        validators=[Optional(), Length(max=5000)],
    )
    chair_name = StringField(
        "Signed by the chair", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    signed_on = GovDateField("Date signed", widget=DateInput(), validators=[Optional()])
    submit = SubmitField("Approve the minutes", widget=GovSubmitInput())


class CorrectionForm(FlaskForm):
    text = TextAreaField(
        "Corrected minute",
        widget=GovTextArea(),
        validators=[InputRequired("Enter the corrected text"), Length(max=200_000)],
    )
    reason = TextAreaField(
        "Reason for the correction",
        widget=GovTextArea(),
        validators=[InputRequired("Give the reason for the correction"), Length(max=5000)],
    )
    submit = SubmitField("Record the correction", widget=GovSubmitInput())
