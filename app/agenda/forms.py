from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.agenda.models import SCHEDULE_12A, ItemKind
from app.core.forms import GroupedGovSelect

KIND_LABELS = {
    ItemKind.BUSINESS: "Business item",
    ItemKind.APOLOGIES: "Apologies for absence",
    ItemKind.DECLARATIONS: "Declarations of interest",
    ItemKind.PREVIOUS_MINUTES: "Minutes of the previous meeting",
    ItemKind.MATTERS_ARISING: "Matters arising and action log",
    ItemKind.AOB: "Any other business",
    ItemKind.NEXT_MEETING: "Date of next meeting",
}
VISIBILITY_CHOICES = [
    ("public", "Public"),
    ("exempt", "Exempt under Schedule 12A (Part 2)"),
    ("confidential", "Confidential information"),
]
PARAGRAPH_CHOICES = [(str(n), f"Paragraph {n}: {text}") for n, text in SCHEDULE_12A.items()]


class ItemForm(FlaskForm):
    title = StringField(
        "Title", widget=GovTextInput(), validators=[InputRequired("Enter a title"), Length(max=500)]
    )
    kind = SelectField(
        "Kind of item",
        widget=GovSelect(),
        choices=[(k.value, v) for k, v in KIND_LABELS.items()],
        default=ItemKind.BUSINESS.value,
    )
    section = SelectField("Section", widget=GovSelect(), validators=[Optional()])
    presenter_id = SelectField("Presenter", widget=GroupedGovSelect(), validators=[Optional()])
    presenter_text = StringField(
        "Or presenter's name",
        widget=GovTextInput(),
        description="For someone not in the list, e.g. Officers",
        validators=[Optional(), Length(max=300)],
    )
    purpose = TextAreaField(
        "Purpose", widget=GovTextArea(), validators=[Optional(), Length(max=5000)]
    )
    visibility = RadioField(
        "Who may see the papers",
        widget=GovRadioInput(),
        choices=VISIBILITY_CHOICES,
        default="public",
    )
    exempt_paragraphs = SelectMultipleField(
        "Paragraphs of Part 1 of Schedule 12A",
        widget=GovCheckboxesInput(),
        choices=PARAGRAPH_CHOICES,
        validators=[Optional()],
    )
    public_interest_reason = TextAreaField(
        "Public interest statement",
        widget=GovTextArea(),
        description="Why the public interest in keeping the information exempt outweighs "
        "the public interest in disclosing it",
        validators=[Optional(), Length(max=5000)],
    )
    urgent = BooleanField("This is an urgent item", widget=GovCheckboxInput())
    urgent_reason = TextAreaField(
        "Special circumstances",
        widget=GovTextArea(),
        description="Why the item cannot wait until the next meeting",
        validators=[Optional(), Length(max=5000)],
    )
    version = HiddenField()
    submit = SubmitField("Save item", widget=GovSubmitInput())

    def service_fields(self) -> dict:
        return {
            "title": self.title.data,
            "kind": self.kind.data,
            "section": self.section.data or None,
            "presenter_id": int(self.presenter_id.data) if self.presenter_id.data else None,
            "presenter_text": self.presenter_text.data,
            "purpose": self.purpose.data,
            "visibility": self.visibility.data,
            "exempt_paragraphs": [int(p) for p in self.exempt_paragraphs.data or []],
            "public_interest_reason": self.public_interest_reason.data,
            "urgent_reason": self.urgent_reason.data,
        }


class DocumentForm(FlaskForm):
    title = StringField(
        "Title of the paper",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a title for the paper"), Length(max=500)],
    )
    file = FileField("PDF file", widget=GovFileInput())
    visibility = RadioField(
        "Who may see the paper",
        widget=GovRadioInput(),
        choices=VISIBILITY_CHOICES,
        default="public",
    )
    exempt_paragraphs = SelectMultipleField(
        "Paragraphs of Part 1 of Schedule 12A",
        widget=GovCheckboxesInput(),
        choices=PARAGRAPH_CHOICES,
        validators=[Optional()],
    )
    public_interest_reason = TextAreaField(
        "Public interest statement", widget=GovTextArea(), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField("Upload paper", widget=GovSubmitInput())
