"""The pages of e-mail subscriptions and preferences: subscribing from a committee's page,
confirming by the link sent, managing and ending a subscription (with the one-click
unsubscribe of RFC 8058, which needs no session or CSRF token), and the preference page where
a person chooses which kinds of message they receive (signed in, or by the link in each
message to them)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput, GovTextInput
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from app.committees.models import Committee
from app.core.errors import ValidationError
from app.extensions import csrf, db
from app.notifications import preferences, subscriptions
from app.notifications.models import Kind

bp = Blueprint("notifications", __name__)


def _private(response):
    # The page's address carries a token: keep it out of caches and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(template: str, status: int = 200, **context):
    return _private(make_response(render_template(template, **context), status))


def _committee_or_404(slug: str) -> Committee:
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    return committee or abort(404)


class SubscribeForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your e-mail address"), Length(max=254)],
    )
    submit = SubmitField("Subscribe", widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


# --- subscribing -------------------------------------------------------------------------


@bp.route("/committees/<slug>/subscribe", methods=["GET", "POST"])
def subscribe(slug: str):
    committee = _committee_or_404(slug)
    form = SubscribeForm()
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            subscriptions.subscribe(committee, form.email.data)
        except ValidationError:
            form.email.errors = ["Enter an e-mail address in the right form, like name@example.org"]
        else:
            return redirect(url_for(".subscribe_sent", slug=committee.slug))
    status = 400 if form.errors else 200
    page = render_template(
        "notifications/subscriptions/subscribe.html",
        committee=committee,
        form=form,
        messages=messages,
    )
    return make_response(page, status)


@bp.route("/committees/<slug>/subscribe/sent")
def subscribe_sent(slug: str):
    committee = _committee_or_404(slug)
    return render_template("notifications/subscriptions/sent.html", committee=committee)


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """A button to press, not a confirmation on opening: mail scanners open links too."""
    subscription, expired = subscriptions.from_confirm_token(token)
    if subscription is None:
        title = "This link has expired" if expired else "This link does not work"
        text = (
            "Confirmation links work for a limited time. Subscribe again from the "
            "committee's page to be sent a new one."
            if expired
            else "Check that you copied the whole link from the message, or subscribe again "
            "from the committee's page."
        )
        return _page(
            "notifications/subscriptions/refused.html",
            410 if expired else 404,
            title=title,
            text=text,
        )
    form = ButtonForm()
    form.submit.label.text = "Confirm my subscription"
    committee = db.session.get(Committee, subscription.committee_id)
    if form.validate_on_submit():
        subscriptions.confirm(subscription)
        flash(f"You are subscribed to {committee.name}'s agendas", "success")
        return _private(
            redirect(url_for(".manage", token=subscriptions.manage_token(subscription)))
        )
    return _page(
        "notifications/subscriptions/confirm.html",
        400 if form.errors else 200,
        committee=committee,
        subscription=subscription,
        form=form,
    )


@bp.route("/subscriptions/<token>")
def manage(token: str):
    """A subscriber's page, reached by the link in each message: what they receive, and a
    way to stop it."""
    if not subscriptions.valid_manage_token(token):
        abort(404)
    subscription = subscriptions.from_manage_token(token)
    committee = db.session.get(Committee, subscription.committee_id) if subscription else None
    return _page(
        "notifications/subscriptions/manage.html",
        subscription=subscription,
        committee=committee,
        token=token,
        kinds=[(k, preferences.LABELS[k]) for k in preferences.SUBSCRIBER_KINDS],
    )


@bp.route("/subscriptions/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program POSTs here with no session and no form of ours
def unsubscribe(token: str):
    if not subscriptions.valid_manage_token(token):
        abort(404)
    subscription = subscriptions.from_manage_token(token)
    if request.method == "POST":
        if subscription is not None:
            subscriptions.unsubscribe(subscription)
        # The same answer whether or not it was still subscribed: a second press, or a
        # mail program's one-click after the page's, is not an error.
        return _page("notifications/subscriptions/unsubscribed.html")
    committee = db.session.get(Committee, subscription.committee_id) if subscription else None
    return _page(
        "notifications/subscriptions/unsubscribe.html",
        subscription=subscription,
        committee=committee,
    )


# --- a person's preferences ----------------------------------------------------------------


class PreferencesForm(FlaskForm):
    kinds = SelectMultipleField(
        "Send me",
        widget=GovCheckboxesInput(),
        choices=[(k.value, label) for k, label in preferences.LABELS.items()],
    )
    submit = SubmitField("Save my choices", widget=GovSubmitInput())


def _preferences(person, *, by_link: bool):
    form = PreferencesForm()
    if person is not None and form.validate_on_submit():
        preferences.choose(person.id, form.kinds.data or [])
        flash("Your choices are saved", "success")
        return redirect(request.path)
    if person is not None and not form.is_submitted():
        form.kinds.data = [k.value for k in Kind if k in preferences.chosen(person.id)]
    page = render_template(
        "notifications/subscriptions/preferences.html", form=form, person=person, by_link=by_link
    )
    response = make_response(page, 400 if form.errors else 200)
    return _private(response) if by_link else response


@bp.route("/notifications/preferences", methods=["GET", "POST"], endpoint="preferences")
@login_required
def preferences_page():
    person = current_user.person if current_user.person_id else None
    return _preferences(person, by_link=False)


@bp.route("/notifications/preferences/<token>", methods=["GET", "POST"])
def preferences_by_link(token: str):
    person = preferences.person_from_token(token)
    if person is None:
        abort(404)
    return _preferences(person, by_link=True)
