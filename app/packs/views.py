"""Serving packs and minutes: only to those who may see them, from the cache, with ETag,
Last-Modified and Range support."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, undefer

from app.agenda import pdfsafety, revisions
from app.api.auth import bearer_reader
from app.committees.services import slugify
from app.core import stamp
from app.core.errors import ServiceError
from app.core.permissions import is_staff
from app.extensions import db
from app.meetings.models import Meeting
from app.packs import cache
from app.packs.builder import MEMBERS, PUBLIC

bp = Blueprint("packs", __name__)


class ServiceUnavailable(ServiceError):
    status = 503
    title = "Agenda pack not available"


@bp.app_template_global()
def paper_problems(meeting: Meeting) -> list[dict]:
    """Papers the packs show as placeholder pages, and why: for staff only (a title may be
    exempt)."""
    return pdfsafety.paper_problems(meeting) if is_staff(current_user) else []


@bp.app_template_global()
def pack_problems(meeting: Meeting) -> list[dict]:
    """Why a meeting's pack is out of date, for staff on the meeting page."""
    return cache.pack_problems(meeting) if is_staff(current_user) else []


@functools.cache
def _download_statement():
    # Built once, on first use (the mappers are configured by then): building it again on
    # every download cost a fifth of the request.
    return (
        select(Meeting, stamp.as_column())
        .options(joinedload(Meeting.committee), undefer(Meeting.items_exist))
        .where(Meeting.id == bindparam("meeting_id"))
    )


def _meeting(meeting_id: int) -> tuple[Meeting, int | None]:
    """What a download asks, in one statement: the meeting, its committee (which names the
    file), whether it has items (whether there is a pack) and the change stamp (whether the
    pack worked out last still holds). A 404 unless the reader may see the meeting."""
    row = db.session.execute(_download_statement(), {"meeting_id": meeting_id}).first()
    if row is None or not row[0].can_view(current_user):
        abort(404)
    return row[0], row[1]


def _send(path, filename: str, restricted: bool):
    response = send_file(
        path,
        mimetype="application/pdf",
        download_name=filename,
        as_attachment=False,
        conditional=True,
        etag=path.stem,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache" if restricted else "no-cache"
    return response


@bp.app_template_global()
def pack_link(meeting: Meeting, **extra) -> dict | None:
    """The meeting page's "Download the pack": its address and whether it is the members'.
    `extra`: more of the pack's arguments (a revision, the supplement's new pages only)."""
    variant = meeting.pack_variant_for(current_user)
    if variant is None:
        return None
    args = {"variant": MEMBERS} if variant == MEMBERS else {}
    args.update(extra)
    return {
        "url": url_for("packs.pack", meeting_id=meeting.id, **args),
        "members": variant == MEMBERS,
    }


@bp.route("/meetings/<int:meeting_id>/pack.pdf")
@bearer_reader
def pack(meeting_id: int):
    meeting, now = _meeting(meeting_id)
    variant = request.args.get("variant", PUBLIC)
    part = request.args.get("part", "whole")
    if not meeting.may_fetch_pack(current_user, variant) or part not in ("whole", "supplement"):
        abort(404)
    try:
        revision = revisions.parse_revision(request.args.get("revision"))
        if revision == revisions.DRAFT and not revisions.reads_working_copy(current_user):
            raise revisions.NoSuchRevision(revision)
        # The last good pack if a rebuild fails.
        path = cache.pack_file(meeting, variant, revision, part == "supplement", now)
    except revisions.NoSuchRevision:
        abort(404)
    except cache.PackBeingPrepared as exc:
        raise ServiceUnavailable(
            "The agenda pack is being prepared. Please try again in a few seconds.",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except cache.PackUnavailable as exc:
        message = (
            f"The agenda pack could not be built: {exc.reason}"
            if is_staff(current_user)
            else "The agenda pack is not available just now."
        )
        raise ServiceUnavailable(message) from None
    name = f"{slugify(meeting.committee.name)}-{meeting.local_start:%Y-%m-%d}-agenda"
    if isinstance(revision, int):
        name += f"-revision-{revision}"
    if part == "supplement":
        name += "-new-pages"
    if variant == MEMBERS:
        name += "-members"
    return _send(path, f"{name}.pdf", variant == MEMBERS)


@bp.route("/meetings/<int:meeting_id>/minutes.pdf")
@bearer_reader
def minutes(meeting_id: int):
    meeting, _ = _meeting(meeting_id)
    if not meeting.can_see_minutes(current_user):
        abort(404)
    include_restricted = meeting.can_see_restricted(current_user)
    try:
        path = cache.minutes_file(meeting, include_restricted)
    except Exception:
        current_app.logger.exception("minutes PDF of meeting %s could not be built", meeting.id)
        raise ServiceUnavailable("The minutes PDF could not be produced just now.") from None
    name = f"{slugify(meeting.committee.name)}-{meeting.local_start:%Y-%m-%d}-minutes.pdf"
    return _send(path, name, include_restricted)
