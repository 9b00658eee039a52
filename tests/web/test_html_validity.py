"""Every page type is valid HTML, as each kind of visitor sees it: the Nu Html Checker (vnu,
the W3C's validator) reads the pages the access matrix crawls and reports no errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.auth.services import issue_token
from tests.security.test_access_matrix import crawl, world  # noqa: F401  (a fixture)

VNU = (
    Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)
ROLES = ("anonymous", "member_a", "clerk")


def _checker() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU.exists():
        if os.environ.get("CI"):
            pytest.fail("the Nu Html Checker needs Java and node_modules/vnu-jar in CI")
        pytest.skip("the Nu Html Checker needs Java (default-jre-headless) and npm vnu-jar")
    return [java, "-Xss4m", "-jar", str(VNU)]


def vnu_messages(paths) -> list[dict]:
    """What the Nu Html Checker says of these HTML files (errors only)."""
    result = subprocess.run(
        [*_checker(), "--errors-only", "--format", "json", *map(str, sorted(paths))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]


def _page_type(app, url: str) -> str:
    """The route a URL is served by: one page of each type is enough for the checker."""
    path = url.split("?", 1)[0]
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:
        return path
    query = url.split("?", 1)[1].split("=", 1)[0] if "?" in url else ""
    return f"{endpoint}?{query}"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_type_is_valid_html(app, client, db, f, world, sign_in, tmp_path, role):  # noqa: F811
    _checker()  # skip (or, in CI, fail) before the crawl when there is no checker
    user = world["users"].get(role)
    headers = {}
    seeds = ["/", "/committees/", "/decisions/", "/actions/", "/search?q=Budget"]
    for key in ("held", "later", "drafting", "circulated"):
        seeds.append(f"/meetings/{world[key].id}/")
    if user is not None:
        sign_in(user)
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        db.session.commit()
        seeds += ["/my-meetings", "/actions/mine", "/account/calendar"]
    if role == "clerk":
        # Pages that repeat a form: one end-date form per membership, one add-action form
        # per resolution. Their ids must still be unique.
        from app.minutes import services as minutes
        from app.minutes.models import Minute

        for name in ("Dora", "Eric"):
            f.membership(world["committee"], f.person(name), "member")
        drafting = world["drafting"]
        (minute,) = db.session.scalars(db.select(Minute).filter_by(meeting_id=drafting.id))
        minutes.add_resolution(minute, "That the report be noted.", "noted")
        minutes.add_resolution(minute, "That officers report back.")
        db.session.commit()
        held = world["held"]
        seeds += [
            f"/minutes/{minute.id}/edit",
            f"/meetings/{drafting.id}/minutes/edit",
            f"/meetings/{drafting.id}/attendance",
            f"/meetings/{held.id}/audit",
            f"/meetings/{held.id}/edit",
            "/actions/new",
            "/committees/new",
            f"/meetings/{held.id}/agenda",
            f"/meetings/{world['later'].id}/agenda",
            f"/meetings/{world['later'].id}/agenda/items/new",
            f"/committees/{world['committee'].slug}/members",
        ]
    pages = crawl(client, seeds, headers)
    chosen: dict[str, str] = {}
    for url, body in sorted(pages.items()):
        if body.lstrip().lower().startswith("<!doctype html"):
            chosen.setdefault(_page_type(app, url), url)
    assert len(chosen) >= 8, sorted(chosen)
    files = {}
    for n, (_kind, url) in enumerate(sorted(chosen.items())):
        path = tmp_path / f"page{n:03}.html"
        path.write_text(pages[url], encoding="utf-8")
        files[path.name] = url
    messages = vnu_messages(tmp_path.glob("*.html"))
    errors = [
        f"{files.get(Path(m.get('url', '')).name, m.get('url'))}:{m.get('lastLine')}: "
        f"{m.get('message')}"
        for m in messages
        if m.get("type") == "error"
    ]
    assert not errors, "\n".join(errors[:60]) + f"\n({len(errors)} errors)"
