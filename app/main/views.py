from __future__ import annotations

from flask import Blueprint, render_template
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
    return render_template(
        "main/home.html", upcoming=upcoming, recent=recent, committees=committees
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
