"""Static files for a production server: fingerprinted URLs cached for a year, and files sent
from disk handed to a reverse proxy when one is in front (USE_X_SENDFILE)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

# A year: the longest max-age worth sending (RFC 9111 caches may cap it there anyway).
LONG_CACHE_SECONDS = 365 * 24 * 3600


def init_static(app: Flask) -> None:
    """`url_for('static', ...)` carries `v`, a digest of the file, so a changed file has a new
    URL and the old one may be kept by browsers and proxies as long as they like. A request
    whose `v` is not the file's current digest (a page from before a deploy) is answered with
    the current file and no long caching, so an old URL never pins new content."""
    digests: dict[str, tuple[tuple[int, int], str]] = {}
    folder = Path(app.static_folder or "")

    def fingerprint(filename: str) -> str | None:
        try:
            path = (folder / filename).resolve()
            path.relative_to(folder.resolve())
            stat = path.stat()
        except (OSError, ValueError):
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        known = digests.get(filename)
        if known is None or known[0] != key:
            known = (key, hashlib.sha256(path.read_bytes()).hexdigest()[:16])
            digests[filename] = known
        return known[1]

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = fingerprint(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_static(response):
        if request.endpoint != "static":
            return _accel_redirect(app, response)
        filename = (request.view_args or {}).get("filename", "")
        wanted = request.args.get("v")
        if wanted and response.status_code in (200, 304) and wanted == fingerprint(filename):
            response.cache_control.public = True
            response.cache_control.max_age = LONG_CACHE_SECONDS
            response.cache_control.immutable = True
        else:
            response.cache_control.no_cache = True
            response.cache_control.max_age = None
        return _accel_redirect(app, response)


def _accel_redirect(app: Flask, response):
    """nginx wants `X-Accel-Redirect` with a URI of an internal location, not X-Sendfile's
    file path: with X_ACCEL_REDIRECT_PREFIX set, a file under STORAGE_DIR becomes
    PREFIX/storage/<path> and one under the static folder PREFIX/static/<path>."""
    prefix = app.config.get("X_ACCEL_REDIRECT_PREFIX")
    sent = response.headers.get("X-Sendfile")
    if not prefix or not sent:
        return response
    path = Path(sent).resolve()
    roots = {
        "storage": Path(app.config["STORAGE_DIR"]).resolve(),
        "static": Path(app.static_folder or "").resolve(),
    }
    for name, root in roots.items():
        if path.is_relative_to(root):
            del response.headers["X-Sendfile"]
            relative = path.relative_to(root).as_posix()
            response.headers["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{name}/{relative}"
            break
    else:
        app.logger.warning("X-Sendfile left as it is for a file outside the mapped folders")
    return response
