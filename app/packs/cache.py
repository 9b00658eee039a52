"""Built packs kept under STORAGE_DIR by content key, so every app process shares them and a
pack is built once per content version. A lock file makes concurrent requests for the same
stale pack wait for one build instead of starting their own."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app

from app.meetings.models import Meeting
from app.packs import builder

LOCK_TIMEOUT = 300  # seconds: a lock older than this is from a build that died


def _dir() -> Path:
    path = Path(current_app.config["STORAGE_DIR"]) / "packs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _cached(key: str, build) -> Path:
    path = _dir() / f"{key}.pdf"
    if path.exists():
        return path
    lock = path.with_suffix(".lock")
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if path.exists():
                return path
            if time.time() - lock.stat().st_mtime > LOCK_TIMEOUT:
                lock.unlink(missing_ok=True)  # the builder died; take over
            elif time.monotonic() > deadline:
                raise TimeoutError("pack build did not finish") from None
            time.sleep(0.1)
            continue
        try:
            os.close(fd)
            if not path.exists():
                _write(path, build())
            return path
        finally:
            lock.unlink(missing_ok=True)


def _latest(meeting: Meeting, variant: str) -> Path:
    # By UID, which is never reused (a database may reuse a deleted meeting's id).
    safe = "".join(c for c in meeting.ical_uid if c.isalnum() or c in "-_")
    return _dir() / f"latest-{safe}-{variant}.txt"


def pack_file(meeting: Meeting, variant: str) -> Path:
    key = builder.content_key(meeting, variant)
    path = _cached(f"pack-{key}", lambda: builder.build_pack(meeting, variant).pdf)
    _write(_latest(meeting, variant), path.name.encode())
    return path


def last_good_pack(meeting: Meeting, variant: str) -> Path | None:
    """The most recent pack that was built successfully, to serve while a rebuild fails."""
    pointer = _latest(meeting, variant)
    if not pointer.exists():
        return None
    path = _dir() / pointer.read_text().strip()
    return path if path.exists() else None


def minutes_file(meeting: Meeting, include_restricted: bool) -> Path:
    key = builder.minutes_key(meeting, include_restricted)
    return _cached(f"minutes-{key}", lambda: builder.minutes_pdf(meeting, include_restricted))
