"""Cold packs built off the request: a reader who asks for a pack that is not built yet is told
it is being prepared (503 with Retry-After) while it is built on a Celery worker (when a broker
is set) or on a thread of this process, so a night of requests never ties up the web workers.
Concurrent requests for the same pack start one build (and the build lock makes processes
share it)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import current_app, has_request_context

from app.extensions import db

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_building: set[str] = set()


def off_request() -> bool:
    """Whether a cold pack asked for now is built elsewhere instead (see the module)."""
    return has_request_context() and bool(current_app.config.get("PACK_BUILDS_OFF_REQUEST"))


def retry_after() -> int:
    return int(current_app.config.get("PACK_RETRY_AFTER", 10))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # One at a time: a build is CPU-bound, and the web workers need the rest.
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-build")
        return _pool


def start(key: str, meeting_id: int, variant: str, revision, supplement_only: bool) -> None:
    """Have the pack built, once however often it is asked for meanwhile."""
    if current_app.config.get("CELERY_BROKER_URL"):
        from app.packs.tasks import build_pack_task

        build_pack_task.delay(meeting_id, variant, revision, supplement_only)
        return
    with _pool_lock:
        if key in _building:
            return
        _building.add(key)
    app = current_app._get_current_object()
    _executor().submit(_build, app, key, meeting_id, variant, revision, supplement_only)


def _build(app, key: str, meeting_id: int, variant: str, revision, supplement_only) -> None:
    from app.meetings.models import Meeting
    from app.packs import cache

    try:
        with app.app_context():
            try:
                meeting = db.session.get(Meeting, meeting_id)
                if meeting is not None:
                    # Outside a request, so built here; a failure is recorded by the cache.
                    cache.pack_file(meeting, variant, revision, supplement_only)
            except cache.PackUnavailable:
                pass
            except Exception:
                app.logger.exception("background build of meeting %s's pack failed", meeting_id)
            finally:
                db.session.remove()
    finally:
        with _pool_lock:
            _building.discard(key)


def wait_for_builds(timeout: float = 60) -> None:
    """Wait until the builds started so far have finished (for tests and the CLI)."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        pool.submit(lambda: None).result(timeout=timeout)
