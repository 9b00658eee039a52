from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
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
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.committees.models import MembershipRole, Regime
from app.core.forms import DateInput, GovDateField, TimeOfDayField

REGIME_CHOICES = [
    (Regime.PRINCIPAL.value, "Principal council: five clear working days' notice"),
    (Regime.PARISH.value, "Parish or town council: three clear days' notice"),
    (Regime.NONE.value, "Partnership or board: no statutory notice period"),
]
ROLE_CHOICES = [(r.value, r.label) for r in MembershipRole]


class CommitteeForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the committee's name"), Length(max=200)],
    )
    description = TextAreaField(
        "Purpose", widget=GovTextArea(), validators=[Optional(), Length(max=5000)]
    )
    default_venue = StringField(
        "Usual venue", widget=GovTextInput(), validators=[Optional(), Length(max=300)]
    )
    default_start_time = TimeOfDayField("Usual start time", description="For example, 14:00 or 2pm")
    timezone = StringField(
        "Timezone",
        widget=GovTextInput(),
        default="Europe/London",
        validators=[InputRequired("Enter a timezone")],
    )
    regime = RadioField(
        "Access to information rules",
        widget=GovRadioInput(),
        choices=REGIME_CHOICES,
        default=Regime.PRINCIPAL.value,
    )
    first_minute_number = IntegerField(
        "First minute number",
        widget=GovTextInput(),
        default=1,
        description="Minutes are numbered from here and continue across meetings",
        validators=[
            InputRequired("Enter the first minute number"),
            NumberRange(min=1, message="Minute numbers start at 1 or more"),
        ],
    )
    minute_prefix = StringField(
        "Minute number prefix",
        widget=GovTextInput(),
        description="Optional, for example CAB",
        validators=[Optional(), Length(max=20)],
    )
    quorum = StringField(
        "Quorum",
        widget=GovTextInput(),
        description="A number of members (3) or a fraction of them (1/3)",
        validators=[Optional(), Length(max=20)],
    )
    publish_draft_minutes = BooleanField(
        "Publish draft minutes to the public before approval", widget=GovCheckboxInput()
    )
    sections = TextAreaField(
        "Agenda section headings",
        widget=GovTextArea(),
        description="One per line, for example For Decision",
        validators=[Optional(), Length(max=2000)],
    )
    agenda_template = TextAreaField(
        "Standard agenda items",
        widget=GovTextArea(),
        description="New agendas start with these items, in this order. One item a line: "
        "the kind, a colon, then the title, for example \u201capologies: Apologies for "
        "absence\u201d. Kinds: apologies, declarations, previous minutes, matters arising, "
        "business, any other business, next meeting. To put an item under a section heading, "
        "add a bar and the heading: \u201cbusiness: Budget monitoring | For Decision\u201d.",
        validators=[Optional(), Length(max=20000)],
    )
    clerk_name = StringField(
        "Clerk's name", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    clerk_email = StringField(
        "Clerk's email address", widget=GovTextInput(), validators=[Optional(), Length(max=254)]
    )
    clerk_phone = StringField(
        "Clerk's telephone number", widget=GovTextInput(), validators=[Optional(), Length(max=50)]
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def service_fields(self) -> dict:
        data = {
            name: field.data
            for name, field in self._fields.items()
            if name not in ("submit", "csrf_token")
        }
        sections = self.sections.data or ""
        # Not sent, the edit form keeps the committee's own list (its `obj`).
        data["sections"] = sections.splitlines() if isinstance(sections, str) else sections
        if not self.agenda_template.raw_data:
            # Not sent at all (an older page): keep the template rather than empty it.
            data.pop("agenda_template")
        return data


class MembershipForm(FlaskForm):
    person_id = SelectField("Person", widget=GovSelect(), coerce=str, validators=[Optional()])
    new_person_name = StringField(
        "Or add a new person: name", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    role = SelectField(
        "Role", widget=GovSelect(), choices=ROLE_CHOICES, default=MembershipRole.MEMBER.value
    )
    organisation = StringField(
        "Organisation represented", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    start_date = GovDateField("Start date", widget=DateInput(), validators=[Optional()])
    submit = SubmitField("Add member", widget=GovSubmitInput())


class EndMembershipForm(FlaskForm):
    end_date = GovDateField(
        "Last day of membership",
        widget=DateInput(),
        validators=[InputRequired("Enter the last day of the membership")],
    )
    submit = SubmitField("End membership", widget=GovSubmitInput())


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        widget=GovFileInput(),
        description="Columns: name, role (required); honorific, job_title, "
        "organisation, email, start_date, end_date (optional)",
    )
    csv_text = TextAreaField(widget=GovTextArea())  # carries the previewed file to the import
    preview = SubmitField("Preview", widget=GovSubmitInput())
    confirm = SubmitField("Import these rows", widget=GovSubmitInput())
