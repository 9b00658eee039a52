from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import IntegerField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from app.auth.services import MAX_TOKEN_DAYS


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=1000)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class TokenForm(FlaskForm):
    name = StringField(
        "Name of the token",
        description="What will use it, so you know which to revoke, for example 'Reporting script'",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message="Use at most 200 characters")],
    )
    expires_in_days = IntegerField(
        "Expires after (days)",
        description="Leave empty for a token that lasts until it is revoked",
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_TOKEN_DAYS, message=f"Enter 1 to {MAX_TOKEN_DAYS} days"),
        ],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password"), Length(max=1000)],
    )
    new = PasswordField(
        "New password",
        description="At least 10 characters; several uncommon words are easiest to remember",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password"), Length(max=1000)],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter the new password again"),
            EqualTo("new", message="The passwords do not match"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class AcceptInvitationForm(FlaskForm):
    password = PasswordField(
        "Choose a password",
        description="At least 10 characters; several uncommon words are easiest to remember",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a password"), Length(max=1000)],
    )
    confirm = PasswordField(
        "Confirm your password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter the password again"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )
    submit = SubmitField("Make my account", widget=GovSubmitInput())


class InviteForm(FlaskForm):
    role = RadioField("Their role", widget=GovRadioInput(), validators=[InputRequired()])
    submit = SubmitField("Send the invitation", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = SelectField("Role", widget=GovSelect(), validators=[InputRequired()])
    submit = SubmitField("Change role", widget=GovSubmitInput())
