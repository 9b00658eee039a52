"""The file routes (packs, the minutes PDF, papers) read `Authorization: Bearer <token>`: the
token's user gets exactly what a signed-in browser would (the file, or the same 404 for what
they may not know exists), a bad token is a 401, and no other page takes a token. The API's
meetings and papers link their files exactly where following the link gives the file."""

from __future__ import annotations

import io
import subprocess

import pikepdf
import pytest

from app.auth.models import ApiToken
from app.auth.services import revoke_token
from tests.api.record_world import DRAFT, EXEMPT, READERS, build
from tests.factories import PASSWORD


@pytest.fixture
def w(db, f):
    return build(db, f)


def text_of(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def files(w) -> dict[str, str]:
    held, later, coming = w["held"].id, w["later"].id, w["coming"].id
    paper = lambda d: f"/documents/{d.id}/{d.filename}"  # noqa: E731
    return {
        "held pack": f"/meetings/{held}/pack.pdf",
        "held members' pack": f"/meetings/{held}/pack.pdf?variant=members",
        "held minutes": f"/meetings/{held}/minutes.pdf",
        "later minutes (draft)": f"/meetings/{later}/minutes.pdf",
        "coming pack (draft agenda)": f"/meetings/{coming}/pack.pdf",
        "public paper": paper(w["paper"]),
        "exempt paper": paper(w["tender"]),
        "paper of an exempt item": paper(w["contract"]),
        "paper on a draft agenda": paper(w["draft_paper"]),
    }


# Who gets each file (everyone else gets a 404).
ALLOWED = {
    "held pack": set(READERS),
    "held members' pack": {"member", "clerk"},
    "held minutes": set(READERS),
    "later minutes (draft)": {"clerk"},
    "coming pack (draft agenda)": {"clerk"},
    "public paper": set(READERS),
    "exempt paper": {"member", "clerk"},
    "paper of an exempt item": {"member", "clerk"},
    "paper on a draft agenda": {"clerk"},
}


def signed_in_client(app, user):
    browser = app.test_client()
    r = browser.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302
    return browser


def test_each_file_by_token_as_for_a_signed_in_browser(app, client, w):
    by_name = files(w)
    for reader in READERS:
        browser = signed_in_client(app, w["users"][reader]) if reader != "public" else client
        for name, url in by_name.items():
            by_token = client.get(url, headers=w["headers"][reader])
            by_cookie = browser.get(url)
            expected = 200 if reader in ALLOWED[name] else 404
            assert by_token.status_code == expected, (reader, name)
            assert by_cookie.status_code == expected, (reader, name)
            if expected == 404:
                continue
            assert by_token.mimetype == "application/pdf"
            assert by_token.data == by_cookie.data, (reader, name)
            shown = text_of(by_token.data)
            if reader not in ("member", "clerk"):
                assert EXEMPT not in shown, (reader, name)
            elif name in ("held members' pack", "held minutes"):
                assert EXEMPT in shown, (reader, name)
            if reader != "clerk":
                assert DRAFT not in shown, (reader, name)
    # What only members may have is kept by no cache, fetched by token as by cookie.
    members_pack = client.get(by_name["held members' pack"], headers=w["headers"]["member"])
    assert members_pack.headers["Cache-Control"] == "no-store"
    paper = client.get(by_name["exempt paper"], headers=w["headers"]["member"])
    assert paper.headers["Cache-Control"] == "no-store"
    assert f"Tender {EXEMPT} page 1" in text_of(paper.data)


def test_a_bad_token_is_refused_not_taken_for_the_public(client, db, w):
    member_token = w["headers"]["member"]["Authorization"].split()[1]
    token = db.session.query(ApiToken).filter_by(user_id=w["users"]["member"].id).one()
    revoke_token(token.id)
    db.session.commit()
    for url in files(w).values():
        for header in ("Bearer not-a-token", "Bearer ", f"Bearer {member_token}"):
            r = client.get(url, headers={"Authorization": header})
            assert r.status_code == 401, (url, header)
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # Another scheme (a proxy's Basic credentials) is not a token: the reader is the public.
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.get(files(w)["held pack"], headers=basic).status_code == 200
    assert client.get(files(w)["exempt paper"], headers=basic).status_code == 404


def test_the_token_is_the_reader_for_that_request_only(app, client, w):
    url = files(w)["held members' pack"]
    outsider = signed_in_client(app, w["users"]["outsider"])
    assert outsider.get(url).status_code == 404
    assert outsider.get(url, headers=w["headers"]["member"]).status_code == 200
    assert outsider.get(url).status_code == 404
    assert client.get(url, headers=w["headers"]["member"]).status_code == 200
    assert client.get(url).status_code == 404


def test_no_other_page_takes_a_token(client, w):
    clerk, member = w["headers"]["clerk"], w["headers"]["member"]
    editor = client.get(f"/meetings/{w['later'].id}/minutes/edit", headers=clerk)
    assert editor.status_code in (302, 403, 404)
    assert DRAFT not in editor.get_data(as_text=True)
    page = client.get(f"/meetings/{w['held'].id}/", headers=member)
    assert page.status_code == 200 and EXEMPT not in page.get_data(as_text=True)
    coming = client.get(f"/meetings/{w['coming'].id}/", headers=clerk)
    assert coming.status_code == 200 and DRAFT not in coming.get_data(as_text=True)
    search = client.get("/search", query_string={"q": EXEMPT}, headers=member)
    assert "0 results" in search.get_data(as_text=True)


LINKS = {
    "pack_url": "/pack.pdf",
    "members_pack_url": "/pack.pdf?variant=members",
    "minutes_pdf_url": "/minutes.pdf",
}


def test_links_are_there_exactly_when_they_give_the_file(client, w):
    for reader in READERS:
        headers = w["headers"][reader]
        for name in ("held", "later", "coming"):
            meeting = w[name]
            shown = client.get(f"/api/v1/meetings/{meeting.id}", headers=headers).get_json()
            for link, path in LINKS.items():
                url = f"/meetings/{meeting.id}{path}"
                status = client.get(url, headers=headers).status_code
                assert status in (200, 404)
                assert (link in shown) == (status == 200), (reader, name, link)
                if link in shown:
                    assert shown[link] == f"http://localhost{url}"
        for key in ("paper", "tender", "contract", "draft_paper"):
            document = w[key]
            r = client.get(f"/api/v1/documents/{document.id}", headers=headers)
            file = client.get(f"/documents/{document.id}/{document.filename}", headers=headers)
            assert (r.status_code == 200) == (file.status_code == 200), (reader, key)
            if r.status_code == 200:
                assert r.get_json()["file_url"].removeprefix("http://localhost") == (
                    f"/documents/{document.id}/{document.filename}"
                )
                with pikepdf.open(io.BytesIO(file.data)) as pdf:
                    assert len(pdf.pages) == r.get_json()["page_count"]
