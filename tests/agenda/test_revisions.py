"""Published means published: the public and members read the last published revision on every
surface; the clerk's working copy shows only once a supplement publishes it; every revision's
pack is kept; a supplement never renumbers published pages."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pikepdf
import pypdf
import pytest

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document, remove_document
from app.auth.services import issue_token
from app.models import Regime, Role
from tests.pdfs import make_pdf

NEW = "ZEBRAWORD"


def page_texts(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def paper(item, title: str, pages: int, mark: str | None = None):
    return add_document(
        item, io.BytesIO(make_pdf(pages, mark or title)), f"{title.lower()}.pdf", title
    )


@pytest.fixture
def world(db, f):
    committee = f.committee("Scrutiny Board", regime=Regime.NONE)
    member = f.member_user(committee)
    clerk = f.user(Role.CLERK)
    m = f.meeting(
        committee, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    )
    budget = agenda.add_item(m, title="Budget")
    housing = agenda.add_item(m, title="Housing")
    budget_paper = paper(budget, "Budget report", 2)
    housing_paper = paper(housing, "Housing plan", 1)
    agenda_publication.publish_agenda(m)
    db.session.commit()
    return {
        "meeting": m,
        "member": member,
        "clerk": clerk,
        "budget": budget,
        "housing": housing,
        "budget_paper": budget_paper,
        "housing_paper": housing_paper,
    }


def _change_after_publication(db, w):
    agenda.update_item(w["budget"], title=f"Budget {NEW}")
    libraries = agenda.add_item(w["meeting"], title=f"Libraries {NEW}")
    added = paper(libraries, f"Library paper {NEW}", 1)
    remove_document(w["housing_paper"])
    db.session.commit()
    return added


def _token(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


def test_a_change_after_publication_shows_nowhere_until_the_supplement(
    client, db, f, world, sign_in
):
    w = world
    m = w["meeting"]
    added = _change_after_publication(db, w)
    removed = w["housing_paper"]
    readers = {"public": {}, "member": _token(w["member"])}
    for who, headers in readers.items():
        html = client.get(f"/meetings/{m.id}/", headers=headers).get_data(as_text=True)
        assert NEW not in html and "Housing plan" in html, who
        items = client.get(f"/api/v1/meetings/{m.id}/agenda-items", headers=headers).get_json()
        assert items["revision"] == 1
        assert [i["title"] for i in items["items"]] == ["Budget", "Housing"], who
        # The new paper is not out yet; the one removed since is still part of the agenda.
        assert client.get(f"/documents/{added.id}/x.pdf", headers=headers).status_code == 404
        assert client.get(f"/api/v1/documents/{added.id}", headers=headers).status_code == 404
        assert client.get(f"/documents/{removed.id}/x.pdf", headers=headers).status_code == 200
        assert client.get(f"/api/v1/documents/{removed.id}", headers=headers).status_code == 200
        found = client.get(f"/api/v1/search?q={NEW}", headers=headers).get_json()
        assert found["total"] == 0, who
        assert client.get("/api/v1/search?q=Housing", headers=headers).get_json()["total"] >= 1
        ocd = client.get(f"/api/v1/meetings/{m.id}/ocd-event", headers=headers).get_data(
            as_text=True
        )
        assert NEW not in ocd and "Housing plan" in ocd, who
        pack = client.get(f"/meetings/{m.id}/pack.pdf", headers=headers)
        assert pack.status_code == 200
        text = "\n".join(page_texts(pack.data))
        assert NEW not in text and "Housing plan page 1" in text, who
        ics = client.get(f"/meetings/{m.id}/meeting.ics", headers=headers).get_data(as_text=True)
        assert NEW not in ics

    # The clerk works on the working copy, told what is not yet published.
    sign_in(w["clerk"])
    html = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert f"Budget {NEW}" in html and "data-working-copy" in html
    assert "4 changes not yet published" in html
    assert client.get(f"/documents/{added.id}/x.pdf").status_code == 200
    assert client.get(f"/api/v1/search?q={NEW}", headers=_token(w["clerk"])).get_json()["total"]
    published = client.get(f"/meetings/{m.id}/?revision=1").get_data(as_text=True)
    assert NEW not in published

    # Signed out again (Flask-Login keeps the user in the app context the test holds).
    client.post("/sign-out", data={"csrf_token": ""})
    from flask import g

    g.pop("_login_user", None)
    agenda_publication.publish_agenda(m, summary="Libraries added.")
    db.session.commit()
    for who, headers in readers.items():
        html = client.get(f"/meetings/{m.id}/", headers=headers).get_data(as_text=True)
        assert f"Budget {NEW}" in html and f"Libraries {NEW}" in html, who
        assert "Housing plan" not in html.split('id="revisions"')[0]
        assert client.get(f"/documents/{added.id}/x.pdf", headers=headers).status_code == 200
        assert client.get(f"/documents/{removed.id}/x.pdf", headers=headers).status_code == 404
        # ... but revision 1 still has it, on its page, its API and its paper's link.
        old = client.get(f"/meetings/{m.id}/?revision=1", headers=headers).get_data(as_text=True)
        agenda_part = old.split('id="revisions"')[0]  # the history below lists every revision
        assert "Housing plan" in agenda_part and NEW not in agenda_part
        assert "data-old-revision" in old
        old_items = client.get(
            f"/api/v1/meetings/{m.id}/agenda-items?revision=1", headers=headers
        ).get_json()
        assert [i["title"] for i in old_items["items"]] == ["Budget", "Housing"]
        link = client.get(f"/documents/{removed.id}/x.pdf?revision=1", headers=headers)
        assert link.status_code == 200
        assert client.get(f"/api/v1/search?q={NEW}", headers=headers).get_json()["total"] >= 2


def test_revisions_that_do_not_exist_and_the_draft_are_404_to_readers(client, db, world):
    m = world["meeting"]
    for query in ("revision=2", "revision=0", "revision=x", "revision=draft"):
        assert client.get(f"/meetings/{m.id}/?{query}").status_code == 404, query
        assert client.get(f"/meetings/{m.id}/pack.pdf?{query}").status_code == 404, query
        api = client.get(f"/api/v1/meetings/{m.id}/agenda-items?{query}")
        assert api.status_code == 404, query
    # Revision 1 is the first: there is no supplement's new pages to have.
    assert client.get(f"/meetings/{m.id}/pack.pdf?revision=1&part=supplement").status_code == 404
    headers = _token(world["clerk"])
    draft = client.get(f"/api/v1/meetings/{m.id}/agenda-items?revision=draft", headers=headers)
    assert draft.status_code == 200 and draft.get_json()["revision"] is None


def test_a_stricter_visibility_applies_to_what_was_published_at_once(client, db, world):
    """Withdrawing what should never have been public cannot wait for a supplement."""
    w = world
    m = w["meeting"]
    agenda.update_item(
        w["budget"],
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Negotiations are continuing.",
    )
    db.session.commit()
    html = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Budget report" not in html
    doc = w["budget_paper"]
    assert client.get(f"/documents/{doc.id}/x.pdf").status_code == 404
    text = "\n".join(page_texts(client.get(f"/meetings/{m.id}/pack.pdf").data))
    assert "Budget report page" not in text and "NOT FOR PUBLICATION" in text
    assert client.get("/api/v1/search?q=report").get_json()["total"] == 0


# --- packs of every revision, and their page numbers ------------------------------------------


def _stamped(pdf: bytes) -> dict[str, list[int]]:
    """Each paper's mark -> the page numbers stamped on its pages, in order."""
    texts = page_texts(pdf)
    out: dict[str, list[int]] = {}
    for text in texts:
        found = re.search(r"(\w+) page \d+", text)
        stamp = re.findall(r"Page (\d+)\s*$", text.rstrip())
        if found and stamp:
            out.setdefault(found.group(1), []).append(int(stamp[-1]))
    return out


def _labels(pdf: bytes) -> dict[str, list[str]]:
    """Each paper's mark -> the page labels of its pages."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    out: dict[str, list[str]] = {}
    for page, label in zip(reader.pages, reader.page_labels, strict=True):
        found = re.search(r"(\w+) page \d+", page.extract_text() or "")
        if found:
            out.setdefault(found.group(1), []).append(label)
    return out


def _printed_ranges(pdf: bytes) -> dict[str, str]:
    """Item title -> the pages the agenda prints for it, as printed."""
    out = {}
    for line in "\n".join(page_texts(pdf)[:3]).splitlines():
        found = re.match(r"\s*\d+\.\s+(.+?)\s{2,}\((Pages? [\d, -]+)\)\s*$", line)
        if found:
            out[found.group(1)] = found.group(2)
    return out


def _bookmarks(pdf: bytes) -> dict[str, str]:
    """Bookmark title -> the label of the page it opens."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    out = {}

    def walk(entries):
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
            else:
                out[entry.title] = reader.page_labels[reader.get_destination_page_number(entry)]

    walk(reader.outline)
    return out


def _pack(client, m, query: str = "") -> bytes:
    response = client.get(f"/meetings/{m.id}/pack.pdf{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def test_every_published_page_keeps_its_number_and_every_revision_its_pack(client, db, f):
    committee = f.committee("Audit Committee", regime=Regime.NONE)
    m = f.meeting(
        committee, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    )
    alpha = agenda.add_item(m, title="Alpha")
    beta = agenda.add_item(m, title="Beta")
    gamma = agenda.add_item(m, title="Gamma")
    paper(alpha, "Alpha one", 3, "Alphaone")
    beta_one = paper(beta, "Beta one", 2, "Betaone")
    gamma_one = paper(gamma, "Gamma one", 2, "Gammaone")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    first = _pack(client, m)
    one = _stamped(first)
    assert one == {"Alphaone": [1, 2, 3], "Betaone": [4, 5], "Gammaone": [6, 7]}

    # Supplement 1: a paper added to Alpha, Beta's replaced.
    paper(alpha, "Alpha two", 2, "Alphatwo")
    remove_document(beta_one)
    paper(beta, "Beta two", 2, "Betatwo")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    second = _pack(client, m)
    two = _stamped(second)
    assert two["Alphaone"] == [1, 2, 3] and two["Gammaone"] == [6, 7]
    assert two["Alphatwo"] == [8, 9] and two["Betatwo"] == [10, 11]
    assert "Betaone" not in two
    assert _printed_ranges(second) == {
        "Alpha": "Pages 1 - 3, 8 - 9",
        "Beta": "Pages 10 - 11",
        "Gamma": "Pages 6 - 7",
    }
    # The page labels say what the stamps say, and the bookmarks open the right pages.
    labels = _labels(second)
    for mark, numbers in two.items():
        assert labels[mark] == [str(n) for n in numbers], mark
    marks = _bookmarks(second)
    assert marks["Alpha one"] == "1" and marks["Alpha two"] == "8" and marks["Beta two"] == "10"
    front = "\n".join(page_texts(second)[:2])
    assert "Changes in supplement 1" in front
    assert re.search(r"Item 1: Alpha two \(Pages 8 - 9\)", front)
    assert re.search(r"Item 2: Beta two \(Pages 10 - 11\)", front)

    # Just the new pages, for those who printed revision 1, numbered as in the whole pack.
    only_new = _pack(client, m, "?revision=2&part=supplement")
    assert _stamped(only_new) == {"Alphatwo": [8, 9], "Betatwo": [10, 11]}
    assert "the new pages only" in page_texts(only_new)[0]

    # Supplement 2: Gamma's paper withdrawn, an item with a paper added.
    remove_document(gamma_one)
    delta = agenda.add_item(m, title="Delta")
    paper(delta, "Delta one", 1, "Deltaone")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    third = _pack(client, m)
    three = _stamped(third)
    assert three == {
        "Alphaone": [1, 2, 3],
        "Alphatwo": [8, 9],
        "Betatwo": [10, 11],
        "Deltaone": [12],
    }
    assert _printed_ranges(third)["Delta"] == "Page 12"
    # Each revision's pack, byte for byte, however many revisions later.
    assert _pack(client, m, "?revision=1") == first
    assert _pack(client, m, "?revision=2") == second
    assert _pack(client, m, "?revision=3") == third
    assert _pack(client, m, "?revision=2&part=supplement") == only_new


def test_a_kept_pack_is_not_served_once_something_in_it_is_withdrawn(client, db, f):
    committee = f.committee("Planning Board", regime=Regime.NONE)
    m = f.meeting(
        committee, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    )
    site = agenda.add_item(m, title="Site")
    other = agenda.add_item(m, title="Other")
    doc = paper(site, "Site plan", 1, "Siteplan")
    paper(other, "Other report", 1, "Otherreport")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    first = _pack(client, m)
    agenda.update_item(other, title="Other business")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    assert _pack(client, m, "?revision=1") == first
    # The paper turns out to be exempt: no pack goes on showing it to the public.
    from app.agenda.models import Visibility

    doc.visibility = Visibility.CONFIDENTIAL
    db.session.commit()
    again = _pack(client, m, "?revision=1")
    assert again != first and "Siteplan" not in "\n".join(page_texts(again))
    with pikepdf.open(io.BytesIO(again)) as pdf:
        assert len(pdf.pages) >= 2


def test_a_paper_changed_in_place_is_a_change_to_publish(db, world):
    """A paper's title or visibility edited on the working copy is listed for the supplement;
    a paper is named only if it is public before and after."""
    from app.agenda.models import Visibility

    w = world
    w["budget_paper"].title = "Budget report (corrected)"
    w["housing_paper"].visibility = Visibility.CONFIDENTIAL
    db.session.commit()
    assert agenda_publication.unpublished_changes(w["meeting"]) == [
        "Paper on item 1: Budget report: title changed",
        "Paper on item 2: visibility changed",
    ]
    supplement = agenda_publication.publish_agenda(w["meeting"])
    assert supplement.revision == 2
    assert agenda_publication.unpublished_changes(w["meeting"]) == []
