from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.forms import DateInput, GovDateField, TimeOfDayField

DATE = "%d %m %Y"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class MeetingForm(FlaskForm):
    day = GovDateField(
        "Date",
        widget=DateInput(),
        validators=[InputRequired("Enter the date as day, month and year")],
    )
    starts = TimeOfDayField(
        "Start time",
        description="For example, 14:00 or 2pm",
        validators=[InputRequired("Enter the start time")],
    )
    ends = TimeOfDayField("End time (optional)", description="For example, 16:00 or 4pm")
    venue = StringField("Venue", widget=GovTextInput(), validators=[Optional(), Length(max=300)])
    title = StringField(
        "Title (optional)",
        widget=GovTextInput(),
        description="For example, Extraordinary meeting",
        validators=[Optional(), Length(max=300)],
    )
    version = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


class SeriesForm(FlaskForm):
    first = GovDateField(
        "From",
        widget=DateInput(),
        validators=[InputRequired("Enter the first date of the series")],
    )
    until = GovDateField(
        "Until",
        widget=DateInput(),
        validators=[InputRequired("Enter the last date of the series")],
    )
    weekday = SelectField(
        "Day of the week",
        widget=GovSelect(),
        coerce=int,
        choices=list(enumerate(WEEKDAYS)),
        default=2,
    )
    unit = RadioField(
        "Repeat",
        widget=GovRadioInput(),
        default="months",
        choices=[("months", "Monthly, on a numbered weekday"), ("weeks", "Weekly")],
    )
    nth = SelectField(
        "Which one in the month",
        widget=GovSelect(),
        coerce=int,
        default=3,
        choices=[(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth"), (-1, "Last")],
    )
    every = IntegerField(
        "Every",
        widget=GovTextInput(),
        default=1,
        description="1 for every month (or week), 2 for every second one",
        validators=[
            InputRequired("Enter how often"),
            NumberRange(min=1, max=12, message="Enter 1 to 12"),
        ],
    )
    at = TimeOfDayField(
        "Start time",
        description="For example, 14:00 or 2pm",
        validators=[InputRequired("Enter the start time")],
    )
    venue = StringField("Venue", widget=GovTextInput(), validators=[Optional(), Length(max=300)])
    preview = SubmitField("Preview dates", widget=GovSubmitInput())
    confirm = SubmitField("Create these meetings", widget=GovSubmitInput())


class StatusForm(FlaskForm):
    status = RadioField(
        "Change the meeting's status",
        widget=GovRadioInput(),
        choices=[
            ("cancelled", "Cancel the meeting"),
            ("postponed", "Postpone the meeting"),
            ("scheduled", "Reinstate as scheduled"),
            ("held", "Mark as held"),
        ],
        validators=[InputRequired("Choose a status")],
    )
    status_reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        description="Shown on the meeting page and in calendars",
        validators=[Optional(), Length(max=2000)],
    )
    version = HiddenField()
    submit = SubmitField("Change status", widget=GovSubmitInput())


class PublishForm(FlaskForm):
    late_reason = TextAreaField(
        "Reason for late publication",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000)],
    )
    summary = TextAreaField(
        "A note for readers (optional)",
        description="Published after the list of changes, for example why an item was added",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Publish the agenda", widget=GovSubmitInput())
