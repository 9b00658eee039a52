from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user

from app.agenda.documents import document_path
from app.agenda.models import Document
from app.extensions import db

bp = Blueprint("agenda", __name__)


@bp.route("/documents/<int:document_id>/<path:filename>")
def document(document_id: int, filename: str):
    """One paper. Anyone who may not see it gets the same 404 as for a paper that does not
    exist, so its existence is not revealed."""
    doc = db.session.get(Document, document_id)
    if doc is None or not doc.can_view(current_user):
        abort(404)
    path = document_path(doc)
    if not path.exists():
        current_app.logger.error("stored file missing for document %s", doc.id)
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        download_name=doc.filename,
        as_attachment=False,
        conditional=True,
        etag=doc.sha256,
        max_age=0,
    )
    # Restricted papers must not linger in shared caches.
    response.headers["Cache-Control"] = "private, no-cache" if doc.restricted else "no-cache"
    return response
