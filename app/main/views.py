from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.committees.models import Committee
from app.core.db import utcnow
from app.extensions import db
from app.meetings.models import Meeting

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    now = utcnow()
    base = select(Meeting).options(selectinload(Meeting.committee))
    upcoming = db.session.scalars(
        base.where(Meeting.starts_at >= now).order_by(Meeting.starts_at).limit(20)
    ).all()
    recent = db.session.scalars(
        base.where(Meeting.starts_at < now).order_by(Meeting.starts_at.desc()).limit(10)
    ).all()
    committees = db.session.scalars(
        select(Committee).where(Committee.archived.is_(False)).order_by(Committee.name)
    ).all()
    week_end = now + timedelta(days=7)
    month_end = now + timedelta(days=31)
    this_week = [m for m in upcoming if m.starts_at < week_end]
    this_month = [m for m in upcoming if week_end <= m.starts_at < month_end]
    later = [m for m in upcoming if m.starts_at >= month_end]
    from flask_login import current_user

    from app.minutes.queries import decisions_page

    # Filtered in SQL: a run of decisions the reader may not see cannot hide the rest. The
    # register's first page of five: read newest first by index, so it stays cheap.
    decisions = decisions_page(current_user, per_page=5).rows
    return render_template(
        "main/home.html",
        this_week=this_week,
        this_month=this_month,
        later=later,
        recent=recent,
        committees=committees,
        decisions=decisions,
    )


@bp.route("/my-meetings")
@login_required
def my_meetings():
    """The meetings of the committees the signed-in member serves on."""
    from flask_login import current_user

    from app.committees.models import Membership, active_on

    person_id = current_user.person_id
    committee_ids = (
        list(
            db.session.scalars(
                select(Membership.committee_id).where(
                    Membership.person_id == person_id, active_on(date.today())
                )
            )
        )
        if person_id
        else []
    )
    now = utcnow()
    base = (
        select(Meeting)
        .where(Meeting.committee_id.in_(committee_ids))
        .options(selectinload(Meeting.committee))
    )
    upcoming = db.session.scalars(
        base.where(Meeting.starts_at >= now).order_by(Meeting.starts_at).limit(30)
    ).all()
    past = db.session.scalars(
        base.where(Meeting.starts_at < now).order_by(Meeting.starts_at.desc()).limit(10)
    ).all()
    return render_template(
        "main/my_meetings.html", upcoming=upcoming, past=past, has_person=person_id is not None
    )


@bp.route("/accessibility")
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/search")
def search():
    """Full-text search over agendas, papers, minutes and resolutions the reader may see."""
    from flask import request
    from flask_login import current_user

    from app.search.services import search as run_search

    query = (request.args.get("q") or "").strip()[:200]
    hits = run_search(query, current_user) if query else []
    return render_template("main/search.html", query=query, hits=hits)
