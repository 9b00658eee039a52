"""Built packs kept under STORAGE_DIR by content key, so every app process shares them and a
pack is built once per content version. A lock file makes concurrent requests for the same
stale pack wait for one build instead of starting their own.

A build that fails leaves nothing behind; the last good pack keeps being served, the failure
is recorded once per content key (audit trail, and a note staff see on the meeting page), and
it is not retried on every request."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from app.audit.services import record
from app.extensions import db
from app.meetings.models import Meeting
from app.packs import builder

LOCK_TIMEOUT = 300  # seconds: a lock older than this is from a build that died
RETRY_AFTER = 60  # seconds before a failed build is tried again (a fault may be passing)


class PackUnavailable(Exception):
    """The current pack cannot be built and there is no earlier one to serve."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _KnownFailure(Exception):
    """This content already failed to build a moment ago; not worth trying again yet."""


@dataclass
class Failure:
    reason: str
    at: datetime  # when it last failed


def _dir() -> Path:
    path = Path(current_app.config["STORAGE_DIR"]) / "packs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a uniquely named temporary file next to `path`, then rename: readers see the
    old file or the new one, never part of one, and concurrent writers never collide."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _break_stale_lock(lock: Path) -> None:
    # Move it aside under a unique name first, so that of several waiters only one takes it,
    # and a fresh lock taken meanwhile by another process is put back rather than broken.
    aside = lock.with_name(f"{lock.name}.{uuid.uuid4().hex}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    try:
        if time.time() - aside.stat().st_mtime <= LOCK_TIMEOUT:
            with contextlib.suppress(FileExistsError):
                os.link(aside, lock)
    finally:
        aside.unlink(missing_ok=True)


def _cached(name: str, build) -> Path:
    path = _dir() / f"{name}.pdf"
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
            try:
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:
                continue  # the builder finished (or failed) between our two looks
            if age > LOCK_TIMEOUT:
                _break_stale_lock(lock)  # the builder died; take over
            elif time.monotonic() > deadline:
                raise TimeoutError("pack build did not finish") from None
            time.sleep(0.05)
            continue
        try:
            os.close(fd)
            if not path.exists():
                write_atomic(path, build())
            return path
        finally:
            lock.unlink(missing_ok=True)


# How often each template was rendered or taken from the part cache, in this process: the
# benchmark and the tests read it to see what a rebuild actually re-rendered.
part_stats: Counter = Counter()


def parts_dir() -> Path:
    """Rendered parts and other results kept by the hash of their inputs."""
    return _dir() / "parts"


def strips_dir() -> Path:
    """Which pages of each uploaded file have something where the page stamp goes, kept by
    the file's hash: a property of the upload, worked out once when it is uploaded."""
    return _dir() / "strips"


def rendered_part(template: str, inputs: list, render) -> bytes:
    """A generated part (agenda, minutes, action log, withheld page, stamps) by the hash of
    its inputs: a rebuild after one paper changes renders again only the parts that differ."""
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()
    path = parts_dir() / f"{digest}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        pass
    else:
        part_stats[("reused", template)] += 1
        return data
    data = render()
    part_stats[("rendered", template)] += 1
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, data)
    return data


def _latest(meeting: Meeting, variant: str) -> Path:
    # By UID, which is never reused (a database may reuse a deleted meeting's id).
    safe = "".join(c for c in meeting.ical_uid if c.isalnum() or c in "-_")
    return _dir() / f"latest-{safe}-{variant}.txt"


def _failure_path(key: str) -> Path:
    return _dir() / f"failed-{key}.json"


def _failure(key: str) -> Failure | None:
    path = _failure_path(key)
    try:
        data = json.loads(path.read_text())
        at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (FileNotFoundError, ValueError):
        return None
    return Failure(data.get("reason", ""), at)


def _reason(exc: Exception) -> str:
    if isinstance(exc, builder.PackError):
        return str(exc)
    return f"an unexpected error stopped the build ({type(exc).__name__}: {exc})"[:500]


def _record_failure(meeting: Meeting, variant: str, key: str, reason: str) -> None:
    """Note the failure; the audit entry is written only the first time this content fails,
    however many requests (or workers) run into it."""
    path = _failure_path(key)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        os.utime(path)  # failed again: wait another RETRY_AFTER before the next attempt
        return
    with os.fdopen(fd, "w") as fh:
        json.dump({"reason": reason, "variant": variant, "meeting": meeting.ical_uid}, fh)
    record("pack_build_failed", meeting, summary=reason, user=False, variant=variant, key=key)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("could not record the failed pack build")


def pack_file(meeting: Meeting, variant: str) -> Path:
    """The pack for the meeting's current content; when that cannot be built, the last good
    one. Raises PackUnavailable when there is none."""
    key = builder.content_key(meeting, variant)

    def build() -> bytes:
        failure = _failure(key)
        if failure and (datetime.now(UTC) - failure.at).total_seconds() < RETRY_AFTER:
            raise _KnownFailure(failure.reason)
        pack = builder.build_pack(meeting, variant)
        write_atomic(_manifest_path(_dir() / f"pack-{key}.pdf"), _manifest(meeting, variant, pack))
        return pack.pdf

    try:
        path = _cached(f"pack-{key}", build)
    except _KnownFailure as exc:
        reason = str(exc)
    except TimeoutError:
        reason = "another build of this pack is taking too long"
    except Exception as exc:
        reason = _reason(exc)
        if isinstance(exc, builder.PackError):  # bad input, not a fault of ours
            # The reason names the paper, which may be exempt: it goes to the staff-only
            # audit trail and the clerk's page, never to the logs.
            current_app.logger.warning(
                "%s pack for meeting %s could not be built (see its audit trail)",
                variant,
                meeting.id,
            )
        else:
            current_app.logger.exception("pack for meeting %s could not be built", meeting.id)
        _record_failure(meeting, variant, key, reason)
    else:
        pointer = _latest(meeting, variant)
        try:
            current = pointer.read_text()
        except FileNotFoundError:
            current = None
        if current != path.name:  # most requests find it unchanged: no write at all
            write_atomic(pointer, path.name.encode())
        return path
    last = last_good_pack(meeting, variant)
    if last is None:
        raise PackUnavailable(reason)
    if not _still_fit(meeting, variant, last):
        raise PackUnavailable(
            f"{reason}; the last pack built shows papers or items that have since been "
            "removed or withdrawn from this version, so it is not served either"
        )
    return last


def _manifest_path(pack: Path) -> Path:
    return pack.with_suffix(".json")


def _manifest(meeting: Meeting, variant: str, pack) -> bytes:
    """What the pack shows in full (builder.shown), kept beside it. The papers are taken from
    the pack as built, so the manifest cannot claim less than the pack carries."""
    shows = builder.shown(meeting, variant)
    carried = {p.document.id for p in pack.papers if p.kind == "document"}
    shows["documents"] = sorted(carried | set(shows["documents"]))
    return json.dumps(shows).encode()


def _still_fit(meeting: Meeting, variant: str, path: Path) -> bool:
    """Whether an older pack may still be served while a rebuild fails: only if everything it
    shows in full is still shown to this audience now: its items and papers, the previous
    minutes (with their declarations and actions) and the action log. A paper made exempt, a
    minute made exempt, draft minutes unpublished again or a wrong upload removed must not
    live on in a stale pack. A manifest that does not say all of this (from an older version)
    does not fit."""
    try:
        was = json.loads(_manifest_path(path).read_text())
    except (FileNotFoundError, ValueError):
        return False
    if not isinstance(was, dict) or any(
        not isinstance(was.get(kind), list) for kind in builder.SHOWN_KINDS
    ):
        return False
    now = builder.shown(meeting, variant)
    return all(set(was[kind]) <= set(now[kind]) for kind in builder.SHOWN_KINDS)


def last_good_pack(meeting: Meeting, variant: str) -> Path | None:
    """The most recent pack that was built successfully, to serve while a rebuild fails."""
    pointer = _latest(meeting, variant)
    try:
        path = _dir() / pointer.read_text().strip()
    except FileNotFoundError:
        return None
    return path if path.exists() else None


def pack_problems(meeting: Meeting) -> list[dict]:
    """For staff: each variant whose current content failed to build, why, and when the pack
    served meanwhile (if any) was built."""
    problems = []
    for variant in builder.VARIANTS:
        key = builder.content_key(meeting, variant)
        if (_dir() / f"pack-{key}.pdf").exists():
            continue
        failure = _failure(key)
        if failure is None:
            continue
        last = last_good_pack(meeting, variant)
        problems.append(
            {
                "label": "members' agenda pack" if variant == builder.MEMBERS else "agenda pack",
                "reason": failure.reason,
                "served_since": (
                    datetime.fromtimestamp(last.stat().st_mtime, UTC) if last else None
                ),
            }
        )
    return problems


def minutes_file(meeting: Meeting, include_restricted: bool) -> Path:
    key = builder.minutes_key(meeting, include_restricted)
    return _cached(f"minutes-{key}", lambda: builder.minutes_pdf(meeting, include_restricted))
