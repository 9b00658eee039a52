"""Content-addressed file storage under STORAGE_DIR.

Files are named by their sha256, so the same paper uploaded twice is stored once and a stored
file never changes. A file written during a transaction that is then rolled back is removed
again, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy.orm import Session

from app.core.db import on_rollback
from app.core.errors import ServiceError

CHUNK = 1024 * 1024


class TooLarge(Exception):
    pass


class StorageFull(ServiceError):
    status = 507
    title = "Insufficient storage"


FULL = (
    "There is no room left to store this file, so nothing was saved. Please tell the site's "
    "administrators that the file store is full, and upload the file again once it has room."
)
# A full disk and a full quota look the same to the person uploading.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def disk_space() -> Iterator[None]:
    """Turn a write that found the disk full into a StorageFull the front doors answer with
    507; whatever was written in the meantime is removed by the writers themselves."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise StorageFull(FULL, {"file": [FULL]}) from None
        raise


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def blob_path(sha256: str, suffix: str = ".pdf", kind: str = "papers") -> Path:
    return storage_root() / kind / sha256[:2] / f"{sha256}{suffix}"


@contextmanager
def spooled_upload(stream: BinaryIO, limit: int) -> Iterator[tuple[Path, str, int]]:
    """Copy an upload to a temporary file while hashing it, stopping as soon as it passes the
    limit; yields (path, sha256, size) and always removes the temporary file afterwards."""
    tmp_dir = storage_root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=".upload")
    path = Path(name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                digest.update(chunk)
                out.write(chunk)
        yield path, digest.hexdigest(), size
    finally:
        path.unlink(missing_ok=True)


def keep(
    session: Session, source: Path, sha256: str, suffix: str = ".pdf", kind: str = "papers"
) -> Path:
    """Move a checked temporary file into the store (atomically) unless it is there already.
    Remembers new files on the session so a rollback removes them."""
    target = blob_path(sha256, suffix, kind)
    existed = target.exists()
    if existed and file_sha256(target) == sha256:
        return target
    # Missing, or damaged since it was stored (a disk fault, a hand edit): the upload in hand
    # has the right bytes, so it replaces the stored copy rather than being trusted to it.
    place(source, target)
    if not existed:  # a repaired copy is kept even if this upload is rolled back
        remove_on_rollback(session, target)
    return target


def place(source: Path, target: Path) -> None:
    """Copy source to target atomically: readers see the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique staging name: two uploads of the same bytes at once never write one file, and
    # a write that fails (disk full) leaves no partial file behind.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    staging = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def remove_on_rollback(session: Session, path: Path) -> None:
    """A file written for rows this transaction adds goes if the rows are not kept."""
    on_rollback(session, lambda: path.unlink(missing_ok=True), key=("file", str(path)))
