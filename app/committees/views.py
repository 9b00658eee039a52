from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from app.committees.models import Committee
from app.core.db import utcnow
from app.extensions import db
from app.meetings.models import Meeting

bp = Blueprint("committees", __name__, url_prefix="/committees")


def committee_or_404(slug: str) -> Committee:
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404)
    return committee


@bp.route("/")
def index():
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    return render_template("committees/index.html", committees=committees)


@bp.route("/<slug>/")
def show(slug: str):
    committee = committee_or_404(slug)
    memberships = committee.current_memberships()
    by_role = [(role, list(rows)) for role, rows in groupby(memberships, key=lambda m: m.role)]
    now = utcnow()
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.committee_id == committee.id).order_by(Meeting.starts_at)
    ).all()
    upcoming = [m for m in meetings if m.starts_at >= now]
    past = [m for m in reversed(meetings) if m.starts_at < now]
    return render_template(
        "committees/show.html", committee=committee, by_role=by_role, upcoming=upcoming, past=past
    )
