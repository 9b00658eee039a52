"""Built packs kept under STORAGE_DIR by content key, so every app process shares them and a
pack is built once per content version. A lock (flock, released by the kernel when its holder
dies) makes concurrent requests for the same stale pack wait for one build instead of starting
their own.

A build that fails leaves nothing behind; the last good pack keeps being served, the failure
is recorded once per content key (audit trail, and a note staff see on the meeting page), and
it is not retried on every request."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from app.agenda import revisions
from app.agenda import signals as agenda_signals
from app.audit.services import record
from app.core import stamp, storage
from app.core.db import on_commit
from app.extensions import db
from app.meetings.models import Meeting
from app.packs import background, builder
from app.packs.inputs import SHOWN_KINDS, canonical, identities, minutes_inputs, pack_inputs
from app.packs.store import packs_dir as _dir

# Also reached through this module by the tests.
from app.packs.store import (  # noqa: F401
    part_stats,
    parts_dir,
    rendered_part,
    strips_dir,
    write_atomic,
)

LOCK_WAIT = 120  # seconds a request waits for another's build of the same pack
RETRY_AFTER = 60  # seconds before a failed build is tried again (a fault may be passing)


class PackUnavailable(Exception):
    """The current pack cannot be built and there is no earlier one to serve."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PackBeingPrepared(Exception):
    """The pack asked for is being built off the request: ask again after `retry_after`."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class _KnownFailure(Exception):
    """This content already failed to build a moment ago; not worth trying again yet."""


@dataclass
class Failure:
    reason: str
    at: datetime  # when it last failed


@contextlib.contextmanager
def build_lock(lock: Path, wait: float | None = None, ready=lambda: False):
    """Hold the build lock for one pack (an flock on `lock`): the kernel releases it when its
    holder dies, even by SIGKILL, so a crashed build never holds anyone up. Waits at most
    `wait` seconds (LOCK_WAIT), or until `ready()` says another holder has finished the work
    (then yields False: nothing to do); raises TimeoutError after that."""
    deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
    while True:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if ready():
                        yield False
                        return
                    if time.monotonic() > deadline:
                        raise TimeoutError("pack build did not finish") from None
                    time.sleep(0.05)
            try:
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                continue  # its holder finished and removed it meanwhile: take the new one
            try:
                yield True
            finally:
                # Removed while still held, so a waiter holding the old file sees it went.
                lock.unlink(missing_ok=True)
            return
        finally:
            os.close(fd)


def _cached(name: str, build) -> Path:
    path = _dir() / f"{name}.pdf"
    if path.exists():
        return path
    with build_lock(path.with_suffix(".lock"), ready=path.exists) as mine:
        if mine and not path.exists():
            write_atomic(path, build())
    return path


def _file_uid(meeting: Meeting) -> str:
    """The meeting's UID as it names its files: never reused, unlike a database id (a database
    may reuse a deleted meeting's id)."""
    return "".join(c for c in meeting.ical_uid if c.isalnum() or c in "-_")


def _latest(meeting: Meeting, variant: str) -> Path:
    safe = _file_uid(meeting)
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


def _failures_marker(meeting: Meeting, variant: str) -> Path:
    """There whenever a build of this meeting's pack has failed (at any content): without it
    the clerk's page need not work out the content key to look for a failure."""
    return _dir() / f"failures-{_file_uid(meeting)}-{variant}"


def _record_failure(meeting: Meeting, variant: str, key: str, reason: str) -> None:
    """Note the failure; the audit entry is written only the first time this content fails,
    however many requests (or workers) run into it."""
    _failures_marker(meeting, variant).touch()
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
        # Kept although the reader is answered with an error, which keeps nothing else.
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("could not record the failed pack build")


def _kept_path(meeting: Meeting, revision: int, variant: str, supplement_only=False) -> Path:
    safe = _file_uid(meeting)
    part = "-supplement" if supplement_only else ""
    return _dir() / f"revision-{safe}-{revision}-{variant}{part}.pdf"


def _layout_path(pack: Path) -> Path:
    return pack.with_suffix(".layout.json")


def kept_pack(
    meeting: Meeting, revision: int, variant: str, supplement_only: bool = False
) -> Path | None:
    """The pack of a published revision as first built, if it has been: served byte for byte
    ever after, found without reading the database (a cheap validator at any age)."""
    path = _kept_path(meeting, revision, variant, supplement_only)
    return path if path.exists() else None


def _keeps(agenda) -> bool:
    """Whether this copy's packs are kept for good once superseded: a revision published with
    a snapshot (the draft, and revisions published before snapshots, follow their content)."""
    return not agenda.reads_live


def _superseded(meeting: Meeting, agenda) -> bool:
    return _keeps(agenda) and agenda.revision < meeting.agenda_revision


def _current_path(meeting: Meeting, revision: int, variant: str, supplement_only=False) -> Path:
    """Names the pack last built for a revision while it was the latest: the one kept when
    the next revision is published."""
    kept = _kept_path(meeting, revision, variant, supplement_only)
    return kept.with_name(kept.name.replace("revision-", "current-", 1)).with_suffix(".txt")


def _keep(meeting: Meeting, revision: int, variant: str, path: Path, supplement_only) -> None:
    """Keep a revision's pack for good: a link to the content-keyed file, with its layout."""
    kept = _kept_path(meeting, revision, variant, supplement_only)
    if kept.exists() or not path.exists():
        return
    for beside in (_layout_path, _manifest_path):
        if beside(path).exists():
            write_atomic(beside(kept), beside(path).read_bytes())
    staging = kept.with_name(f".{kept.name}.{os.getpid()}")
    try:
        os.link(path, staging)  # the content-keyed file may be shared with other revisions
    except OSError:
        staging.write_bytes(path.read_bytes())
    os.replace(staging, kept)


@agenda_signals.agenda_published.connect
def keep_superseded(meeting: Meeting, publication=None, **_kw) -> None:
    """When a supplement is published, the packs of the revision it supersedes are kept as
    they were last served, byte for byte (after the commit: a publication rolled back
    supersedes nothing)."""
    if publication is None or publication.revision < 2:
        return
    revision = publication.revision - 1
    targets = []
    for variant in builder.VARIANTS:
        for supplement_only in (False, True):
            pointer = _current_path(meeting, revision, variant, supplement_only)
            targets.append((variant, supplement_only, pointer))

    def keep() -> None:
        for variant, supplement_only, pointer in targets:
            try:
                built = _dir() / pointer.read_text().strip()
            except FileNotFoundError:
                continue
            _keep(meeting, revision, variant, built, supplement_only)

    on_commit(db.session(), keep, key=("packs", "keep", meeting.id, revision))


def _fits_kept(meeting: Meeting, variant: str, agenda, kept: Path) -> bool:
    """A kept pack is served only while everything it shows is still shown to its audience
    (see _still_fit): a paper withdrawn or made exempt since does not live on in it."""
    manifest = canonical(pack_inputs(meeting, variant, agenda))
    return _still_fit(manifest, kept)


def _previous_layout(meeting: Meeting, agenda, variant: str, build: bool = True) -> dict | None:
    """The page numbers of the previous revision's pack, which this revision's keeps (built
    first if it has not been, unless `build` is false: then PackBeingPrepared says it is not
    there). None for the first revision, the draft, or after a revision published before
    snapshots were kept."""
    if not _keeps(agenda) or agenda.revision < 2:
        return None
    before = revisions.published(meeting, agenda.revision - 1)
    if not _keeps(before):
        return None
    # The numbers it was published with, even if it may no longer be served as it is (its
    # pack kept, or the last built while it was the latest): its pages keep them.
    path = kept_pack(meeting, before.revision, variant)
    if path is None:
        try:
            path = _dir() / _current_path(meeting, before.revision, variant).read_text().strip()
        except FileNotFoundError:
            path = None
    if path is None or not _layout_path(path).exists():
        if not build:
            raise PackBeingPrepared(0)
        path = pack_file(meeting, variant, before.revision)
    try:
        return json.loads(_layout_path(path).read_text())
    except (FileNotFoundError, ValueError):
        return None


def agenda_of(meeting: Meeting, revision=None):
    """The copy of the agenda a pack prints: revision N, the draft (revisions.DRAFT), or by
    default the latest revision (the draft before the first)."""
    if revision == revisions.DRAFT:
        return revisions.working_copy(meeting)
    if revision is None:
        if not meeting.agenda_revision:
            return revisions.working_copy(meeting)
        revision = meeting.agenda_revision
    if revision > meeting.agenda_revision:
        raise revisions.NoSuchRevision(revision)
    return revisions.published(meeting, revision)


def _pack_key(
    meeting: Meeting, variant: str, agenda, supplement_only: bool = False, build: bool = True
):
    """A pack's inputs, their canonical form, the page numbers it keeps and its content key
    (see _previous_layout for `build`)."""
    previous = _previous_layout(meeting, agenda, variant, build)
    inputs = pack_inputs(meeting, variant, agenda)
    manifest = canonical(inputs)
    serialised = manifest
    if previous is not None or supplement_only:  # numbered after an earlier revision
        numbering = canonical({"previous": previous, "supplement_only": supplement_only})
        serialised += b"\0" + numbering
    key = builder.content_key(meeting, variant, serialised)
    return inputs, manifest, previous, key


def _memo_path(meeting: Meeting, revision, variant: str, supplement_only: bool) -> Path:
    safe = _file_uid(meeting)
    label = "latest" if revision is None else str(revision)
    part = "-supplement" if supplement_only else ""
    return _dir() / f"memo-{safe}-{label}-{variant}{part}.json"


def _remembered(memo: Path, now: int | None) -> Path | None:
    """The pack worked out for this request's arguments when the change stamp stood where it
    stands now: still the right one, found without reading the pack's inputs."""
    if now is None:
        return None
    try:
        seen = json.loads(memo.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if seen.get("stamp") != now or seen.get("salt") != list(builder._salt()):
        return None
    path = _dir() / str(seen.get("pack", ""))
    return path if path.name.startswith(("pack-", "revision-")) and path.exists() else None


def pack_file(
    meeting: Meeting, variant: str, revision=None, supplement_only=False, now: int | None = None
) -> Path:
    """The pack of a revision (see agenda_of), or just its supplement's new pages. A
    published revision's pack is kept and served as it was once superseded (kept_pack).
    Otherwise the pack for the current content; when that cannot be built, the last good
    one. Raises PackUnavailable when there is none, and revisions.NoSuchRevision for a
    supplement-only pack of a revision that is not a kept supplement.

    While nothing changes (core.stamp), the answer is remembered: a request costs a query
    for the stamp, not the work of the pack's content key, however large the record. `now`:
    the stamp as the caller read it with the meeting (asked here when not given)."""
    memo = _memo_path(meeting, revision, variant, supplement_only)
    if now is None:
        now = stamp.current()
    remembered = _remembered(memo, now)
    if remembered is not None:
        return remembered
    path, settled = _pack_file(meeting, variant, revision, supplement_only)
    if settled and now is not None:
        data = {"stamp": now, "salt": list(builder._salt()), "pack": path.name}
        write_atomic(memo, json.dumps(data).encode())
    return path


def _pack_file(meeting: Meeting, variant: str, revision, supplement_only) -> tuple[Path, bool]:
    """pack_file's work, and whether its answer is settled (to be remembered): not a last
    good pack served in place of a failed build, nor one with placeholder pages for a paper
    whose checked copy was not ready."""
    agenda = agenda_of(meeting, revision)
    if supplement_only and not (_keeps(agenda) and agenda.revision > 1):
        raise revisions.NoSuchRevision(revision)
    if _superseded(meeting, agenda):
        kept = kept_pack(meeting, agenda.revision, variant, supplement_only)
        if kept is not None and _fits_kept(meeting, variant, agenda, kept):
            return kept, True
    inputs, manifest, previous, key = _pack_key(meeting, variant, agenda, supplement_only)
    if not supplement_only:
        _note_attempt(meeting, agenda, variant, key)

    def build() -> bytes:
        failure = _failure(key)
        if failure and (datetime.now(UTC) - failure.at).total_seconds() < RETRY_AFTER:
            raise _KnownFailure(failure.reason)
        pack = builder.build_pack(meeting, variant, inputs, previous, supplement_only)
        # The pack's inputs, kept beside it: what it shows (see _still_fit); and the page
        # numbers it gave, for the next revision to keep.
        built = _dir() / f"pack-{key}.pdf"
        write_atomic(_manifest_path(built), manifest)
        write_atomic(_layout_path(built), canonical(pack.layout))
        return pack.pdf

    if background.off_request() and not (_dir() / f"pack-{key}.pdf").exists():
        failure = _failure(key)
        if not failure or (datetime.now(UTC) - failure.at).total_seconds() >= RETRY_AFTER:
            background.start(key, meeting.id, variant, revision, supplement_only)
            raise PackBeingPrepared(background.retry_after())
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
        # Most requests find it unchanged: no write at all. A supplement's new pages alone
        # are never what is served in place of a whole pack.
        if current != path.name and not supplement_only:
            write_atomic(pointer, path.name.encode())
        if _keeps(agenda):
            if _superseded(meeting, agenda):
                # First asked for after it was superseded (or after a withdrawal): kept now.
                if not kept_pack(meeting, agenda.revision, variant, supplement_only):
                    _keep(meeting, agenda.revision, variant, path, supplement_only)
            else:
                current_path = _current_path(meeting, agenda.revision, variant, supplement_only)
                if not current_path.exists() or current_path.read_text() != path.name:
                    write_atomic(current_path, path.name.encode())
        return path, all(p.checked for p in inputs.papers if p.kind == "document")
    last = last_good_pack(meeting, variant)
    if last is None:
        raise PackUnavailable(reason)
    if not _still_fit(manifest, last):
        raise PackUnavailable(
            f"{reason}; the last pack built shows papers or items that have since been "
            "removed or withdrawn from this version, so it is not served either"
        )
    return last, False


def _manifest_path(pack: Path) -> Path:
    return pack.with_suffix(".json")


def _still_fit(current: bytes, path: Path) -> bool:
    """Whether an older pack may still be served while a rebuild fails: only if everything it
    shows in full, by its manifest (its inputs), is still shown to this audience by the
    current inputs: its items and papers, the previous meeting with its minutes, declarations
    and actions, and the action log. A paper made exempt, a minute made exempt, draft minutes
    unpublished again or a wrong upload removed must not live on in a stale pack. A manifest
    that cannot be read as inputs (from an older version) does not fit."""
    try:
        was = identities(json.loads(_manifest_path(path).read_text()))
    except (FileNotFoundError, ValueError, TypeError, KeyError, AttributeError):
        return False
    now = identities(json.loads(current))
    return all(was[kind] <= now[kind] for kind in SHOWN_KINDS)


def last_good_pack(meeting: Meeting, variant: str) -> Path | None:
    """The most recent pack that was built successfully, to serve while a rebuild fails."""
    pointer = _latest(meeting, variant)
    try:
        path = _dir() / pointer.read_text().strip()
    except FileNotFoundError:
        return None
    return path if path.exists() else None


def _attempt_path(meeting: Meeting, agenda, variant: str) -> Path:
    safe = _file_uid(meeting)
    label = "draft" if agenda.is_working_copy else str(agenda.revision)
    return _dir() / f"attempt-{safe}-{label}-{variant}.txt"


def _note_attempt(meeting: Meeting, agenda, variant: str, key: str) -> None:
    """The content key last asked for of a copy's pack: where pack_problems looks when it
    cannot work the key out without building (see _previous_layout)."""
    path = _attempt_path(meeting, agenda, variant)
    try:
        if path.read_text() == key:
            return
    except FileNotFoundError:
        pass
    write_atomic(path, key.encode())


def _last_attempt(meeting: Meeting, agenda, variant: str) -> str | None:
    """The content key last asked for of this copy's pack; or, when none was (its request
    stopped at building the previous revision's pack first, for the page numbers it keeps),
    that previous revision's."""
    copies = [agenda]
    if _keeps(agenda) and agenda.revision > 1:
        copies.append(revisions.published(meeting, agenda.revision - 1))
    for copy in copies:
        try:
            return _attempt_path(meeting, copy, variant).read_text().strip()
        except FileNotFoundError:
            continue
    return None


def pack_problems(meeting: Meeting) -> list[dict]:
    """For staff: each variant whose current content failed to build, why, and when the pack
    served meanwhile (if any) was built."""
    problems = []
    now = stamp.current()
    # Nothing to work out for a pack that never failed to build, or one built and served for
    # the content as it stands: a clerk's every view of the page asks.
    variants = [
        v
        for v in builder.VARIANTS
        if _failures_marker(meeting, v).exists()
        and _remembered(_memo_path(meeting, None, v, False), now) is None
    ]
    agenda = agenda_of(meeting) if variants else None
    for variant in variants:
        if _keeps(agenda) and kept_pack(meeting, agenda.revision, variant):
            continue
        label = "members' agenda pack" if variant == builder.MEMBERS else "agenda pack"
        try:
            # Never builds on the way: a page view is not the place for it.
            key = _pack_key(meeting, variant, agenda, build=False)[3]
        except PackBeingPrepared:
            # The previous revision's pack, whose numbers it keeps, was never built: the key
            # last asked for tells whether that request failed (nothing asked: no problem).
            key = _last_attempt(meeting, agenda, variant)
            if key is None:
                continue
        except PackUnavailable as exc:
            # The previous revision's pack cannot be had either, so neither can this one: a
            # problem to tell staff, not an error on their meeting page.
            problems.append({"label": label, "reason": exc.reason, "served_since": None})
            continue
        if (_dir() / f"pack-{key}.pdf").exists():
            continue
        failure = _failure(key)
        if failure is None:
            continue
        last = last_good_pack(meeting, variant)
        problems.append(
            {
                "label": label,
                "reason": failure.reason,
                "served_since": (
                    datetime.fromtimestamp(last.stat().st_mtime, UTC) if last else None
                ),
            }
        )
    return problems


def minutes_file(meeting: Meeting, include_restricted: bool) -> Path:
    record = minutes_inputs(meeting, include_restricted)
    key = builder.minutes_key(meeting, include_restricted, record)
    return _cached(
        f"minutes-{key}", lambda: builder.minutes_pdf(meeting, include_restricted, record=record)
    )


@agenda_signals.paper_stored.connect
def note_stamp_strips(_item, *, path: Path, pages: int, sha256: str) -> None:
    """Look once, on upload, at which pages have something where a pack's page stamp goes, so
    building a pack need not (the answer is kept by the file's hash; without poppler there is
    no answer and packs pad every page of the file)."""
    from app.packs import merge

    answer = strips_dir() / f"strip-{merge.STRIP_VERSION}-{sha256}.json"
    if answer.exists():
        return
    check = merge.StripCheck([(path, pages)], strips_dir())
    try:
        check.results(path, pages)
    finally:
        check.close()
    if answer.exists():
        # Like the stored paper itself, it goes if the upload is rolled back.
        storage.remove_on_rollback(db.session, answer)
