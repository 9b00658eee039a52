"""Reading the record back through the API, as the public, a member of the committee, a member
of another committee and a clerk: each gets what the pages show them, and what is hidden is
absent (never a null or a hint), with exempt and draft material present in the data."""

from __future__ import annotations

import pytest

from tests.api.record_world import DRAFT, EXEMPT, READERS, build

SEES_EXEMPT = {"member", "clerk"}


@pytest.fixture
def w(db, f):
    return build(db, f)


def get(client, w, reader, url, **query):
    return client.get(f"/api/v1{url}", headers=w["headers"][reader], query_string=query)


def assert_not_found(response):
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert EXEMPT not in response.get_data(as_text=True)
    assert DRAFT not in response.get_data(as_text=True)


def assert_hidden_words_absent(response, reader):
    body = response.get_data(as_text=True)
    if reader not in SEES_EXEMPT:
        assert EXEMPT not in body
    if reader != "clerk":
        assert DRAFT not in body


@pytest.mark.parametrize("reader", READERS)
def test_attendance(client, w, reader):
    r = get(client, w, reader, f"/meetings/{w['held'].id}/attendance")
    assert r.status_code == 200
    rows = {row["person_id"]: row for row in r.get_json()["items"]}
    assert rows[w["chair"].id] == {
        "person_id": w["chair"].id,
        "person": {"id": w["chair"].id, "name": "Lakin"},
        "status": "present",
        "substitute_for": None,
        "in_chair": True,
        "capacity": None,
        "arrived_at_item": None,
        "left_at_item": None,
    }
    assert rows[w["member"].id]["arrived_at_item"] == w["budget"].id
    assert r.get_json()["quorum"]["present"] == 2
    # The register of a meeting whose minutes are a clerk's draft is shown with them, to staff.
    later = get(client, w, reader, f"/meetings/{w['later'].id}/attendance")
    if reader == "clerk":
        assert [row["person_id"] for row in later.get_json()["items"]] == [w["chair"].id]
    else:
        assert_not_found(later)


@pytest.mark.parametrize("reader", READERS)
def test_declarations(client, w, reader):
    r = get(client, w, reader, f"/meetings/{w['held'].id}/declarations")
    assert r.status_code == 200
    found = {(d["person_id"], d["agenda_item_id"]): d for d in r.get_json()["items"]}
    assert found[(w["chair"].id, w["budget"].id)]["nature"] == "Governor of a school"
    on_exempt = (w["member"].id, w["staffing"].id)
    if reader in SEES_EXEMPT:
        assert found[on_exempt]["nature"] == f"Spouse {EXEMPT}"
        assert found[on_exempt]["kind"] == "other_registrable"
    else:
        assert set(found) == {(w["chair"].id, w["budget"].id)}
    assert_hidden_words_absent(r, reader)
    later = get(client, w, reader, f"/meetings/{w['later'].id}/declarations")
    if reader == "clerk":
        assert [d["nature"] for d in later.get_json()["items"]] == [f"Friend {DRAFT}"]
    else:
        assert_not_found(later)


@pytest.mark.parametrize("reader", READERS)
def test_a_meetings_minutes(client, w, reader):
    r = get(client, w, reader, f"/meetings/{w['held'].id}/minutes")
    assert r.status_code == 200
    body = r.get_json()
    assert body["state"] == "approved"
    assert body["approval"]["at_meeting_id"] == w["later"].id
    assert body["approval"]["amendments"] == "Subject to a correction"
    assert body["approval"]["signed_by"] == "Lakin"
    assert body["minutes_pdf_url"].endswith(f"/meetings/{w['held'].id}/minutes.pdf")
    numbers = [m["number"] for m in body["minutes"]]
    assert numbers == sorted(numbers)
    by_item = {m["agenda_item_id"]: m for m in body["minutes"]}
    public = by_item[w["budget"].id]
    assert public["id"] == w["public_minute"].id and public["withheld"] is False
    assert public["text"] == "The board **discussed** the budget."
    decided, noted = public["resolutions"]
    assert decided["reference"] == f"{w['public_minute'].number}(1)"
    assert decided["votes"] == [
        {"person_id": w["chair"].id, "name": "Lakin", "vote": "for"},
        {"person_id": w["member"].id, "name": "Sue Wilson", "vote": "against"},
    ]
    assert decided["action_ids"] == [w["action"].id] and noted["action_ids"] == []
    assert public["action_ids"] == [w["action"].id]
    exempt = by_item[w["staffing"].id]
    if reader in SEES_EXEMPT:
        assert exempt["text"] == f"The board agreed {EXEMPT} posts."
        assert exempt["visibility"] == "exempt" and exempt["exempt_paragraphs"] == [1]
        assert exempt["resolutions"][0]["action_ids"] == [w["secret_action"].id]
    else:
        # As the public meeting page shows it: the number and the grounds, nothing else.
        number = w["exempt_minute"].display_number
        assert exempt == {
            "number": w["exempt_minute"].number,
            "display_number": number,
            "agenda_item_id": w["staffing"].id,
            "withheld": True,
            "heading": f"Minute {number} \N{EN DASH} exempt business, paragraph 1 of Schedule 12A",
        }
    assert_hidden_words_absent(r, reader)


@pytest.mark.parametrize("reader", READERS)
def test_draft_minutes_are_the_clerks(client, w, reader):
    r = get(client, w, reader, f"/meetings/{w['later'].id}/minutes")
    if reader != "clerk":
        assert_not_found(r)
        return
    body = r.get_json()
    assert body["state"] == "draft" and "approval" not in body
    assert [m["text"] for m in body["minutes"]] == [f"Approved, {DRAFT}."]


def _visible(reader, what):
    return {
        "public": reader == "clerk" or what == "public",
        "exempt": reader in SEES_EXEMPT,
        "draft": reader == "clerk",
    }[what]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "key,what",
    [("public_minute", "public"), ("exempt_minute", "exempt"), ("draft_minute", "draft")],
)
def test_one_minute(client, w, reader, key, what):
    minute = w[key]
    r = get(client, w, reader, f"/minutes/{minute.id}")
    if not _visible(reader, what):
        assert_not_found(r)
        return
    body = r.get_json()
    assert body["id"] == minute.id and body["number"] == minute.number
    assert body["meeting_id"] == minute.meeting_id and body["text"] == minute.text
    assert [x["id"] for x in body["resolutions"]] == [x.id for x in minute.resolutions]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "key,what", [("decided", "public"), ("secret", "exempt"), ("draft_resolution", "draft")]
)
def test_one_resolution(client, w, reader, key, what):
    resolution = w[key]
    r = get(client, w, reader, f"/resolutions/{resolution.id}")
    if not _visible(reader, what):
        assert_not_found(r)
        return
    body = r.get_json()
    assert body["text"] == resolution.text and body["minute_id"] == resolution.minute_id
    if key == "decided":
        assert body["votes_for"] == 1 and body["votes_against"] == 1
        assert [v["person_id"] for v in body["votes"]] == [w["chair"].id, w["member"].id]
        assert body["action_ids"] == [w["action"].id]
    if key == "secret":
        assert body["action_ids"] == [w["secret_action"].id]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "key,what",
    [("paper", "public"), ("tender", "exempt"), ("contract", "exempt"), ("draft_paper", "draft")],
)
def test_one_paper(client, w, reader, key, what):
    document = w[key]
    r = get(client, w, reader, f"/documents/{document.id}")
    if not _visible(reader, what):
        assert_not_found(r)
        return
    body = r.get_json()
    assert body["title"] == document.title and body["page_count"] == document.page_count
    assert body["sha256"] == document.sha256 and len(body["sha256"]) == 64
    assert body["visibility"] == document.visibility.value
    assert body["file_url"] == f"http://localhost/documents/{document.id}/{document.filename}"
    if key == "tender":
        assert body["exempt_paragraphs"] == [3]
    else:
        assert "exempt_paragraphs" not in body


@pytest.mark.parametrize("reader", READERS)
def test_decisions_register(client, w, reader):
    r = get(client, w, reader, "/decisions", per_page=200)
    assert r.status_code == 200
    body = r.get_json()
    ids = [x["id"] for x in body["items"]]
    assert body["total"] == len(ids)
    assert {w["decided"].id, w["noted"].id} <= set(ids)
    assert (w["secret"].id in ids) == (reader in SEES_EXEMPT)
    assert (w["draft_resolution"].id in ids) == (reader == "clerk")
    assert_hidden_words_absent(r, reader)
    # Newest meeting first.
    starts = [x["meeting"]["starts_at"] for x in body["items"]]
    assert starts == sorted(starts, reverse=True)
    decided = next(x for x in body["items"] if x["id"] == w["decided"].id)
    assert decided["minute"]["id"] == w["public_minute"].id
    assert decided["meeting"]["id"] == w["held"].id
    assert len(decided["votes"]) == 2 and decided["action_ids"] == [w["action"].id]
    # Paged: the total counts only what the reader may see.
    first = get(client, w, reader, "/decisions", per_page=1).get_json()
    assert first["total"] == len(ids) and [x["id"] for x in first["items"]] == ids[:1]


def test_decisions_filters(client, w):
    march = get(client, w, "public", "/decisions", q="march").get_json()
    assert [x["id"] for x in march["items"]] == [w["noted"].id]
    assert (
        get(client, w, "clerk", "/decisions", committee="schools-forum").get_json()["items"] == []
    )
    assert get(client, w, "clerk", "/decisions", committee="nope").status_code == 404
    since = get(client, w, "clerk", "/decisions", **{"from": w["later"].local_start.date()})
    assert [x["id"] for x in since.get_json()["items"]] == [w["draft_resolution"].id]
    until = get(client, w, "clerk", "/decisions", to=w["held"].local_start.date(), kind="noted")
    assert w["noted"].id in [x["id"] for x in until.get_json()["items"]]
    assert w["decided"].id not in [x["id"] for x in until.get_json()["items"]]
    bad = get(client, w, "public", "/decisions", **{"from": "last tuesday"})
    assert bad.status_code == 422 and "from" in str(bad.get_json()["errors"])


@pytest.mark.parametrize("reader", READERS)
def test_search(client, w, reader):
    exempt = get(client, w, reader, "/search", q=EXEMPT)
    assert exempt.status_code == 200
    kinds = {h["kind"] for h in exempt.get_json()["items"]}
    if reader in SEES_EXEMPT:
        assert {"item", "document", "minute", "resolution"} <= kinds
    else:
        assert exempt.get_json() == {"items": [], "page": 1, "per_page": 50, "total": 0}
    draft = get(client, w, reader, "/search", q=DRAFT).get_json()
    if reader == "clerk":
        assert {h["kind"] for h in draft["items"]} >= {"minute", "resolution", "item"}
    else:
        assert draft["items"] == []
    public = get(client, w, reader, "/search", q="pharmacy").get_json()["items"]
    item = next(h for h in public if h["kind"] == "item")
    assert item["id"] == w["budget"].id and item["meeting"]["id"] == w["held"].id
    assert item["url"].endswith(f"/meetings/{w['held'].id}/#item-{w['budget'].id}")


def test_search_by_kind_and_bad_queries(client, w):
    papers = get(client, w, "member", "/search", q=EXEMPT, kind="document").get_json()
    assert {h["kind"] for h in papers["items"]} == {"document"}
    assert {h["id"] for h in papers["items"]} == {w["tender"].id, w["contract"].id}
    assert get(client, w, "member", "/search").status_code == 422
    assert get(client, w, "member", "/search", q=EXEMPT, kind="people").status_code == 422


@pytest.mark.parametrize("reader", READERS)
def test_meeting_links_its_files_as_the_reader_may_use_them(client, w, reader):
    expected = {
        "held": {
            "public": {"pack_url", "minutes_pdf_url"},
            "outsider": {"pack_url", "minutes_pdf_url"},
            "member": {"pack_url", "members_pack_url", "minutes_pdf_url"},
            "clerk": {"pack_url", "members_pack_url", "minutes_pdf_url"},
        },
        "later": {
            "public": {"pack_url"},
            "outsider": {"pack_url"},
            "member": {"pack_url", "members_pack_url"},
            "clerk": {"pack_url", "members_pack_url", "minutes_pdf_url"},
        },
        "coming": {
            "public": set(),
            "outsider": set(),
            "member": set(),
            "clerk": {"pack_url", "members_pack_url", "minutes_pdf_url"},
        },
    }
    listed = {
        m["id"]: m for m in get(client, w, reader, "/meetings", per_page=200).get_json()["items"]
    }
    for name, by_reader in expected.items():
        meeting = w[name]
        one = get(client, w, reader, f"/meetings/{meeting.id}").get_json()
        links = {k for k in one if k.endswith("_url")}
        assert links == by_reader[reader], name
        assert {k for k in listed[meeting.id] if k.endswith("_url")} == links
        if "members_pack_url" in links:
            assert one["members_pack_url"].endswith(
                f"/meetings/{meeting.id}/pack.pdf?variant=members"
            )
