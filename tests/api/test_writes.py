"""The agenda builder through the API: the same rules as the pages."""

import io
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest
from sqlalchemy import select

from app.auth.services import issue_token
from app.models import Document, Meeting, Role
from tests.pdfs import make_pdf, weasyprint_pdf

REASON = "Negotiations are continuing."


@pytest.fixture
def clerk(db, f):
    headers = {"Authorization": f"Bearer {issue_token(f.user(Role.CLERK))}"}
    db.session.commit()
    return headers


def test_writes_need_a_staff_token(client, db, f):
    member = {"Authorization": f"Bearer {issue_token(f.member_user(f.committee()))}"}
    db.session.commit()
    assert client.post("/api/v1/committees", json={"name": "X"}).status_code == 401
    r = client.post("/api/v1/committees", json={"name": "X"}, headers=member)
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_build_an_agenda_through_the_api(client, db, clerk):
    r = client.post(
        "/api/v1/committees",
        headers=clerk,
        json={"name": "Audit Committee", "regime": "principal", "first_minute_number": 208},
    )
    assert r.status_code == 201 and r.get_json()["slug"] == "audit-committee"
    person = client.post(
        "/api/v1/people", headers=clerk, json={"name": "Lakin", "honorific": "Councillor"}
    ).get_json()
    r = client.post(
        "/api/v1/committees/audit-committee/memberships",
        headers=clerk,
        json={"person_id": person["id"], "role": "chair"},
    )
    assert r.status_code == 201
    start = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    meeting = client.post(
        "/api/v1/meetings",
        headers=clerk,
        json={"committee": "audit-committee", "starts_at": start.isoformat()},
    ).get_json()
    assert meeting["sequence"] == 0
    url = f"/api/v1/meetings/{meeting['id']}/agenda-items"
    report = client.post(url, headers=clerk, json={"title": "Budget", "presenter": "Officers"})
    assert report.status_code == 201 and report.get_json()["number"] == "1"
    sub = client.post(
        url, headers=clerk, json={"title": "Capital", "parent_id": report.get_json()["id"]}
    )
    assert sub.get_json()["number"] == "1a"
    r = client.post(
        url,
        headers=clerk,
        json={"title": "Land", "visibility": "exempt", "public_interest_reason": REASON},
    )
    assert r.status_code == 422 and "exempt_paragraphs" in r.get_json()["errors"]
    land = client.post(
        url,
        headers=clerk,
        json={
            "title": "Land",
            "visibility": "exempt",
            "exempt_paragraphs": [3],
            "public_interest_reason": REASON,
        },
    ).get_json()
    titles = [i["title"] for i in client.get(url, headers=clerk).get_json()["items"]]
    assert titles == ["Budget", "Capital", "Exclusion of the press and public", "Land"]
    # Papers: a good PDF, then refusals that keep nothing.
    docs = f"/api/v1/agenda-items/{land['id']}/documents"
    ok = client.post(
        docs,
        headers=clerk,
        content_type="multipart/form-data",
        data={"title": "Valuation", "file": (io.BytesIO(make_pdf(2, "v")), "v.pdf")},
    )
    assert ok.status_code == 201 and ok.get_json()["page_count"] == 2
    for data, message in [
        (b"\x89PNG\r\n\x1a\n" + b"x" * 50, "not a PDF"),
        (b"%PDF-1.7\n%%truncated", "damaged"),
        (b"", "empty"),
        (make_pdf(1, encryption=pikepdf.Encryption(user="u", owner="o")), "password"),
    ]:
        r = client.post(
            docs,
            headers=clerk,
            content_type="multipart/form-data",
            data={"title": "Bad", "file": (io.BytesIO(data), "bad.pdf")},
        )
        assert r.status_code == 422, data[:10]
        assert message in r.get_json()["detail"] and "file" in r.get_json()["errors"]
    assert db.session.query(Document).count() == 1
    # Publish, then the public cannot fetch the exempt item's paper through the API or web.
    r = client.post(f"/api/v1/meetings/{meeting['id']}/publish", headers=clerk, json={})
    assert r.status_code == 201 and r.get_json()["revision"] == 1 and not r.get_json()["late"]
    public = client.get(url).get_json()["items"]
    exempt = next(i for i in public if i["title"] == "Land")
    assert exempt["documents"] == [] and exempt["exempt_paragraphs"] == [3]
    doc = db.session.query(Document).one()
    assert client.get(f"/documents/{doc.id}/{doc.filename}").status_code == 404
    r = client.post(f"/api/v1/meetings/{meeting['id']}/publish", headers=clerk, json={})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert r.get_json()["detail"].startswith("Nothing has changed since revision 1")
    client.patch(
        f"/api/v1/agenda-items/{report.get_json()['id']}",
        headers=clerk,
        json={"title": "Budget 2026/27"},
    )
    r = client.post(f"/api/v1/meetings/{meeting['id']}/publish", headers=clerk, json={})
    assert r.status_code == 201 and r.get_json()["revision"] == 2
    assert (
        r.get_json()["summary"]
        == "Item 1 renamed from \u201cBudget\u201d to \u201cBudget 2026/27\u201d"
    )


def test_reschedule_and_cancel_through_the_api(client, db, f, clerk):
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    db.session.commit()
    url = f"/api/v1/meetings/{m.id}"
    r = client.patch(
        url, headers=clerk, json={"starts_at": "2026-07-22T14:00:00", "version": m.version}
    )
    body = r.get_json()
    assert r.status_code == 200 and body["starts_at"] == "2026-07-22T14:00:00+01:00"
    assert body["sequence"] == 1 and body["uid"] == m.ical_uid
    stale = client.patch(url, headers=clerk, json={"venue": "Room 9", "version": 1})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    r = client.patch(url, headers=clerk, json={"status": "cancelled"})
    assert r.status_code == 422 and "status_reason" in r.get_json()["errors"]
    r = client.patch(
        url, headers=clerk, json={"status": "cancelled", "status_reason": "No business"}
    )
    assert r.get_json()["status"] == "cancelled"
    bad = client.post(
        "/api/v1/meetings",
        headers=clerk,
        json={
            "committee": m.committee.slug,
            "starts_at": "2026-08-01T14:00:00",
            "ends_at": "2026-08-01T13:00:00",
        },
    )
    assert bad.status_code == 422 and "ends_at" in bad.get_json()["errors"]
    assert db.session.query(Meeting).count() == 1


def test_patch_and_delete_items(client, db, f, clerk):
    m = f.meeting(f.committee())
    a, b = f.item(m, "A"), f.item(m, "B")
    db.session.commit()
    r = client.patch(
        f"/api/v1/agenda-items/{b.id}",
        headers=clerk,
        json={"title": "B2", "position": 0, "version": b.version},
    )
    assert r.status_code == 200 and r.get_json()["number"] == "1"
    stale = client.patch(
        f"/api/v1/agenda-items/{b.id}", headers=clerk, json={"title": "B3", "version": 1}
    )
    assert stale.status_code == 409
    assert client.delete(f"/api/v1/agenda-items/{a.id}", headers=clerk).status_code == 204
    assert client.delete(f"/api/v1/agenda-items/{a.id}", headers=clerk).status_code == 404
    r = client.post("/api/v1/committees", headers=clerk, json={"name": m.committee.name})
    assert r.status_code == 422 and "name" in r.get_json()["errors"]


def test_deleting_an_item_the_record_refers_to_is_a_conflict(client, db, f, clerk):
    from app.models import AgendaItem, Minute, MinutesState

    m = f.published_meeting(f.committee())
    exempt = f.exempt_item(m, "Land at Moorgate", paragraphs=(3,))
    f.minute(m, 212, "Land at Moorgate", item=exempt, text="Sold to the bidder.")
    spare = f.item(m, "Spare")
    db.session.commit()
    r = client.delete(f"/api/v1/agenda-items/{exempt.id}", headers=clerk)
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert r.get_json()["detail"].startswith("This item has a minute (212)")
    db.session.expire_all()
    assert db.session.scalar(select(Minute)).agenda_item_id == exempt.id
    assert db.session.query(AgendaItem).count() == 2
    f.with_minutes_state(db.session.get(type(m), m.id), MinutesState.APPROVED)
    db.session.commit()
    r = client.delete(f"/api/v1/agenda-items/{spare.id}", headers=clerk)
    assert r.status_code == 409 and "approved and locked" in r.get_json()["detail"]
    assert db.session.query(AgendaItem).count() == 2


def _stored_files(app) -> list:
    from pathlib import Path

    return sorted(p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


def _post_paper(client, clerk, item_id: int, data: bytes):
    return client.post(
        f"/api/v1/agenda-items/{item_id}/documents",
        headers=clerk,
        content_type="multipart/form-data",
        data={"title": "Report", "file": (io.BytesIO(data), "report.pdf")},
    )


def test_truncated_paper_is_refused_by_the_api_and_nothing_kept(app, client, db, f, clerk):
    item = f.item(f.meeting(f.committee()), "Action plan")
    db.session.commit()
    whole = weasyprint_pdf(5)
    before = _stored_files(app)
    for fraction in (0.3, 0.5, 0.9, 0.99):
        r = _post_paper(client, clerk, item.id, whole[: int(len(whole) * fraction)])
        assert r.status_code == 422 and r.mimetype == "application/problem+json"
        assert (
            "damaged or incomplete" in r.get_json()["detail"] and "file" in r.get_json()["errors"]
        )
    assert db.session.query(Document).count() == 0 and _stored_files(app) == before
    r = _post_paper(client, clerk, item.id, whole)
    assert r.status_code == 201 and r.get_json()["page_count"] == 5


def test_oversized_paper_gets_a_problem_naming_the_limit(app, client, db, f, clerk, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    item = f.item(f.meeting(f.committee()), "Action plan")
    db.session.commit()
    before = _stored_files(app)
    r = _post_paper(client, clerk, item.id, make_pdf(1) + b"%" + b"x" * (3 * 1024 * 1024))
    body = r.get_json()
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert body["status"] == 413 and "larger than 1 MB" in body["detail"]
    r = _post_paper(client, clerk, item.id, make_pdf(1) + b"%" + b"x" * (1024 * 1024 + 10))
    assert r.status_code == 422 and "larger than 1 MB" in r.get_json()["detail"]
    assert db.session.query(Document).count() == 0 and _stored_files(app) == before


def test_agenda_template_through_the_api(client, db, f, clerk):
    from app.models import Committee

    c = f.committee("Audit Committee")
    db.session.commit()
    url = f"/api/v1/committees/{c.slug}"
    assert len(client.get(url).get_json()["agenda_template"]) == 6
    for template, field in [
        ([{"kind": "business"}], "title"),
        ([{"kind": "party", "title": "Social"}], "kind"),
        ([{"kind": "exclusion", "title": "Exclusion"}], "kind"),
        ([{"kind": "business", "title": ""}], "title"),
        ([{"kind": "business", "title": "   "}], "agenda_template"),
        ([{"kind": "business", "title": "x" * 501}], "title"),
        ([{"kind": "business", "title": "A"}] * 31, "agenda_template"),
        ("apologies: Apologies", "agenda_template"),
    ]:
        r = client.patch(url, headers=clerk, json={"agenda_template": template})
        assert r.status_code == 422 and r.mimetype == "application/problem+json", template
        assert field in str(r.get_json()["errors"]), (template, r.get_json())
    db.session.expire_all()
    assert len(db.session.get(Committee, c.id).agenda_template) == 6
    template = [
        {"kind": "apologies", "title": "Apologies"},
        {"kind": "business", "title": "Risk register", "section": "For Decision"},
    ]
    r = client.patch(url, headers=clerk, json={"agenda_template": template})
    assert r.status_code == 200
    assert r.get_json()["agenda_template"] == [
        {"kind": "apologies", "title": "Apologies", "section": None},
        {"kind": "business", "title": "Risk register", "section": "For Decision"},
    ]
    r = client.post(
        "/api/v1/committees", headers=clerk, json={"name": "Board", "agenda_template": []}
    )
    assert r.status_code == 201 and r.get_json()["agenda_template"] == []


def test_postpone_through_the_api(client, db, f, clerk):
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    db.session.commit()
    url = f"/api/v1/meetings/{m.id}"
    r = client.patch(url, headers=clerk, json={"status": "postponed"})
    assert r.status_code == 422 and "status_reason" in r.get_json()["errors"]
    r = client.patch(
        url,
        headers=clerk,
        json={"status": "postponed", "status_reason": "Chair unwell", "version": m.version},
    )
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "postponed"
    assert body["status_reason"] == "Chair unwell" and body["sequence"] == 1
    assert client.get(url).get_json()["status"] == "postponed"  # the public sees it too
    r = client.patch(url, headers=clerk, json={"starts_at": "2026-07-29T14:00:00"})
    assert r.get_json()["status"] == "scheduled" and r.get_json()["status_reason"] is None
    assert r.get_json()["sequence"] == 2


def test_remove_a_paper_through_the_api(client, db, f, clerk):
    from app.models import MinutesState

    m = f.meeting(f.committee())
    item = f.item(m, "Budget")
    db.session.commit()
    doc_id = _post_paper(client, clerk, item.id, make_pdf(1)).get_json()["id"]
    member = {"Authorization": f"Bearer {issue_token(f.member_user(m.committee))}"}
    db.session.commit()
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 401
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=member).status_code == 403
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=clerk).status_code == 204
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=clerk).status_code == 404
    assert db.session.query(Document).count() == 0
    doc_id = _post_paper(client, clerk, item.id, make_pdf(1)).get_json()["id"]
    f.with_minutes_state(db.session.get(Meeting, m.id), MinutesState.APPROVED)
    db.session.commit()
    r = client.delete(f"/api/v1/documents/{doc_id}", headers=clerk)
    assert r.status_code == 409 and "approved and locked" in r.get_json()["detail"]
    assert db.session.query(Document).count() == 1


def test_the_agenda_of_approved_minutes_cannot_change(client, db, f, clerk):
    from app.models import AgendaItem, MinutesState, Visibility

    m = f.published_meeting(f.committee())
    exempt = f.exempt_item(m, "Land at Moorgate", paragraphs=(3,))
    f.with_minutes_state(m, MinutesState.APPROVED)
    db.session.commit()
    r = client.patch(
        f"/api/v1/agenda-items/{exempt.id}",
        headers=clerk,
        json={"visibility": "public", "version": exempt.version},
    )
    assert r.status_code == 409 and "approved and locked" in r.get_json()["detail"]
    r = client.post(f"/api/v1/meetings/{m.id}/agenda-items", headers=clerk, json={"title": "Late"})
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(AgendaItem, exempt.id).visibility == Visibility.EXEMPT
    assert db.session.query(AgendaItem).count() == 1
