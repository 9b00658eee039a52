"""Where packs and their parts are kept (under STORAGE_DIR, shared by every app process), and
the cache of rendered parts. Both the builder and the pack cache use it; it uses neither."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from pathlib import Path

from flask import current_app


def packs_dir() -> Path:
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


# How often each template was rendered or taken from the part cache, in this process: the
# benchmark and the tests read it to see what a rebuild actually re-rendered.
part_stats: Counter = Counter()


def parts_dir() -> Path:
    """Rendered parts and other results kept by the hash of their inputs."""
    return packs_dir() / "parts"


def strips_dir() -> Path:
    """Which pages of each uploaded file have something where the page stamp goes, kept by
    the file's hash: a property of the upload, worked out once when it is uploaded."""
    return packs_dir() / "strips"


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
