"""Agenda packs and minutes, parsed back: page labels, ranges against stamps, bookmarks,
metadata, the public variant's silence about exempt papers, caching and access."""

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest

from app.agenda import publication as agenda_publication
from app.agenda import revisions
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.minutes import services as minutes
from app.models import MinutesState, Role
from app.packs import builder, cache, inputs
from tests.pdfs import make_pdf

CANARY = "CANARYPACK7731"
REASON = "Commercial negotiations with the preferred bidder are continuing."


def page_texts(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def all_strings(pdf: bytes) -> bytes:
    """Every byte of the file with every stream decompressed."""
    doc = pikepdf.open(io.BytesIO(pdf))
    chunks = [pdf]
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Stream):
            try:
                chunks.append(obj.read_bytes())
            except pikepdf.PdfError:
                chunks.append(obj.read_raw_bytes())
    return b"".join(chunks)


@pytest.fixture
def meeting(db, f):
    c = f.committee(
        "Health and Wellbeing Board", clerk_name="Jo Clerk", clerk_email="jo@example.org"
    )
    f.membership(c, f.person("Lakin", honorific="Councillor"), "chair")
    member_user = f.member_user(c)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    earlier = f.meeting(c, starts_at=soon.replace(year=2020))
    agenda.add_item(earlier, title="Budget")
    (minute,) = minutes.draft_minutes(earlier)
    minutes.save_minute(minute, "The budget was **presented**.", minute.version)
    minutes.add_resolution(minute, "That the budget be approved.")
    minutes.add_resolution(minute, "That progress be reported in March.")
    minutes.publish_minutes(earlier)
    m = f.meeting(c, starts_at=soon)
    agenda.apply_template(m)
    report = agenda.add_item(m, title="Pharmacy services", section="For Decision")
    add_document(
        report, io.BytesIO(make_pdf(3, "Pharmacy report")), "pharmacy.pdf", "Pharmacy report"
    )
    add_document(report, io.BytesIO(make_pdf(2, "Appendix A")), "appendix.pdf", "Appendix A")
    exempt = agenda.add_item(
        m,
        title="Residential placements",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
        purpose=f"Agree the fees {CANARY}",
    )
    add_document(
        exempt,
        io.BytesIO(make_pdf(4, f"Tender {CANARY}", title=f"T {CANARY}")),
        "tender.pdf",
        f"Tender prices {CANARY}",
    )
    agenda_publication.publish_agenda(m)
    db.session.commit()
    return {"meeting": m, "member": member_user, "committee": c, "earlier": earlier}


def _long_minutes(db, meeting) -> None:
    """Make the previous minutes run over several pages."""
    from app.models import Minute

    minute = db.session.query(Minute).filter_by(meeting_id=meeting["earlier"].id).one()
    words = "\n\n".join(
        f"Paragraph {n}. " + "The board discussed the budget. " * 25 for n in range(40)
    )
    minutes.save_minute(minute, words, minute.version)
    db.session.commit()


# What shows that a page belongs to a paper, as read back from the text, and the agenda item
# the paper belongs to. Uploaded test papers say "<text> page N" on each page; generated ones
# carry their own marks (DRAFT on every page of draft minutes, the action log's table head).
MARKS = [
    (f"Tender {CANARY} page", "Residential placements"),
    ("Pharmacy report page", "Pharmacy services"),
    ("Appendix A page", "Pharmacy services"),
    ("DRAFT", "Minutes of the previous meeting"),
    ("To follow", "Minutes of the previous meeting"),
    ("Latest update", "Matters arising and action log"),
    ("Schedule 12A", "Residential placements"),
]


def _agenda_ranges(agenda_text: str) -> dict[str, tuple[int, int]]:
    """Item title -> (first, last) page as the agenda prints them."""
    out = {}
    for line in agenda_text.splitlines():
        found = re.match(r"\s*\d+[a-z]?\.\s+(.+?)\s{2,}\(Pages? (\d+)(?: - (\d+))?\)\s*$", line)
        if found:
            title, first, last = found.group(1), int(found.group(2)), found.group(3)
            out[title] = (first, int(last) if last else first)
    return out


@pytest.mark.parametrize("variant", ["public", "members"])
def test_ranges_in_the_agenda_are_where_each_paper_really_is(db, meeting, variant):
    _long_minutes(db, meeting)
    pack = builder.build_pack(meeting["meeting"], variant)
    texts = page_texts(pack.pdf)
    printed = _agenda_ranges("\n".join(texts[: pack.agenda_pages]))
    found: dict[str, list[int]] = {}
    for n, text in enumerate(texts[pack.agenda_pages :], start=1):
        stamps = re.findall(r"Page (\d+)\s*$", text.rstrip())
        assert stamps and int(stamps[-1]) == n, (n, text[-200:])  # stamped in sequence
        owner = next((item for mark, item in MARKS if mark in text), None)
        assert owner is not None, f"page {n} belongs to no paper: {text[:300]}"
        found.setdefault(owner, []).append(n)
    expected = {
        "Minutes of the previous meeting",
        "Matters arising and action log",
        "Pharmacy services",
        "Residential placements",
    }
    assert set(printed) == expected == set(found)
    for title, pages in found.items():
        assert pages == list(range(pages[0], pages[-1] + 1)), title  # contiguous
        assert printed[title] == (pages[0], pages[-1]), title
    minutes_pages = found["Minutes of the previous meeting"]
    assert len(minutes_pages) > 1 if variant == "members" else len(minutes_pages) == 1
    # Each uploaded paper starts on its first page and ends on its last.
    for mark, count in (("Pharmacy report", 3), ("Appendix A", 2)):
        first = next(n for n, t in enumerate(texts[pack.agenda_pages :], 1) if mark in t)
        last = first + count - 1
        assert f"{mark} page 1" in texts[pack.agenda_pages + first - 1]
        assert f"{mark} page {count}" in texts[pack.agenda_pages + last - 1]


def test_bookmarks_point_at_the_first_page_of_each_paper(db, meeting):
    _long_minutes(db, meeting)
    pack = builder.build_pack(meeting["meeting"], "members")
    texts = page_texts(pack.pdf)
    doc = pikepdf.open(io.BytesIO(pack.pdf))
    index = {p.objgen: n for n, p in enumerate(doc.pages)}

    def page_of(entry) -> int:
        return index[entry.destination[0].objgen]

    opening = {
        "Pharmacy report": "Pharmacy report page 1",
        "Appendix A": "Appendix A page 1",
        f"Tender prices {CANARY}": f"Tender {CANARY} page 1",
        "Action log": "Action log",
    }
    checked = 0
    with doc.open_outline() as outline:
        top = list(outline.root)
        assert top[0].title == "Agenda" and page_of(top[0]) == 0
        for node in top[1:]:
            for child in node.children:
                text = texts[page_of(child)]
                if child.title.startswith("Minutes of the meeting held on"):
                    assert (
                        "Minutes of the meeting held on" in text
                        and "Present" not in texts[page_of(child) - 1]
                    )
                else:
                    name = child.title.removeprefix("NOT FOR PUBLICATION: ")
                    assert opening[name] in text, child.title
                checked += 1
            if node.children:  # an item's bookmark opens at its first paper
                assert page_of(node) == page_of(node.children[0])
    assert checked == 5


def test_action_log_columns(db, f, meeting):
    from datetime import date

    from app.actions import services as actions

    c = meeting["committee"]
    owner = f.person("Priya Owner")
    action = actions.create_action(
        c, "Map pharmacy opening hours", owner.id, due_date=date(2031, 3, 31), reference="HW/12"
    )
    clerk = f.user("clerk")
    actions.post_update(action, clerk, note="Survey sent to all pharmacies", rag="amber")
    db.session.commit()
    pack = builder.build_pack(meeting["meeting"], "members")
    paper = next(p for p in pack.papers if p.kind == "actions")
    text = paper_text(pack, paper)
    assert re.search(r"Ref\s+Action\s+Owner\s+Due\s+Latest update\s+RAG", text)
    lines = text.splitlines()
    head = next(line for line in lines if "Latest update" in line)
    row = next(line for line in lines if "HW/12" in line)
    # Each value starts under its column's heading.
    for heading, cell in (
        ("Ref", "HW/12"),
        ("Action", "Map pharmacy"),
        ("Owner", "Priya"),
        ("Due", "Monday"),
        ("Latest update", "Survey sent"),
        ("RAG", "Amber"),
    ):
        assert abs(head.index(heading) - row.index(cell)) <= 4, (heading, head, row)
    flat = " ".join(text.split())
    for word in ("opening", "hours", "Owner", "March", "2031", "pharmacies"):
        assert word in flat  # the rest of the wrapped cells


def test_labels_bookmarks_and_metadata(meeting):
    pack = builder.build_pack(meeting["meeting"], "public")
    doc = pikepdf.open(io.BytesIO(pack.pdf))
    nums = list(doc.Root.PageLabels.Nums)
    assert nums[0] == 0 and nums[1].S == "/r"
    assert nums[2] == pack.agenda_pages and nums[3].S == "/D" and nums[3].St == 1
    assert str(doc.Root.Lang) == "en-GB"
    assert bool(doc.Root.ViewerPreferences.DisplayDocTitle)
    assert "agenda pack" in str(doc.docinfo.Title)
    with doc.open_outline() as outline:
        titles = [o.title for o in outline.root]
        children = [c.title for o in outline.root for c in o.children]
    assert "Agenda" in titles and any(t.endswith("Pharmacy services") for t in titles)
    assert "Pharmacy report" in children and "Appendix A" in children
    assert any("Minutes of the meeting held on" in c for c in children)
    assert "Action log" in children
    fonts = (
        subprocess.run(["pdffonts", "-"], input=pack.pdf, capture_output=True, check=True)
        .stdout.decode()
        .splitlines()[2:]
    )
    # Every font of the generated parts is embedded; the test papers' Helvetica is theirs.
    generated = [line for line in fonts if not line.startswith("Helvetica")]
    assert generated and all(" yes " in line for line in generated), fonts


def test_public_pack_has_nothing_of_the_exempt_paper(meeting):
    pack = builder.build_pack(meeting["meeting"], "public")
    texts = page_texts(pack.pdf)
    whole = "\n".join(texts)
    assert CANARY not in whole
    raw = all_strings(pack.pdf)
    assert CANARY.encode() not in raw
    withheld = next(p for p in pack.papers if p.kind == "withheld")
    page = texts[pack.agenda_pages + withheld.first_page - 1]
    assert "NOT FOR PUBLICATION" in page and "Paragraph 3" in page
    assert "financial or business affairs" in page and "preferred bidder" in page


def test_members_pack_includes_and_marks_the_exempt_paper(meeting):
    pack = builder.build_pack(meeting["meeting"], "members")
    texts = page_texts(pack.pdf)
    tender = next(p for p in pack.papers if p.title.startswith("Tender prices"))
    assert tender.pages == 4
    for n in range(tender.first_page, tender.last_page + 1):
        text = texts[pack.agenda_pages + n - 1]
        assert CANARY in text and "NOT FOR PUBLICATION" in text and f"Page {n}" in text
    assert "Members' version" in texts[0]
    # Said where assistive technology finds it too: the stamp itself is an artifact.
    # (An untagged upload such as this one has no Part in the structure tree to name.)
    with pikepdf.open(io.BytesIO(pack.pdf)) as pdf, pdf.open_outline() as outline:
        titles = [c.title for item in outline.root for c in item.children]
    assert f"NOT FOR PUBLICATION: {tender.title}" in titles
    assert not any(t.startswith("NOT FOR PUBLICATION") and "Tender" not in t for t in titles)


def paper_text(pack, paper) -> str:
    texts = page_texts(pack.pdf)
    return "\n".join(
        texts[pack.agenda_pages + paper.first_page - 1 : pack.agenda_pages + paper.last_page]
    )


def test_previous_minutes_follow_who_may_see_them(db, meeting):
    # Draft minutes published to members only: the public pack says they are to follow (as
    # /minutes.pdf is 404 to the public), the members' pack carries them with the DRAFT mark.
    public = builder.build_pack(meeting["meeting"], "public")
    notice = next(p for p in public.papers if p.item.kind == "previous_minutes")
    assert notice.kind == "to_follow" and notice.pages == 1
    text = paper_text(public, notice)
    assert "To follow" in text and "Resolved:-" not in text and "budget" not in text
    agenda_text = "\n".join(page_texts(public.pdf)[: public.agenda_pages])
    assert f"(Page {notice.first_page})" in agenda_text
    members = builder.build_pack(meeting["meeting"], "members")
    paper = next(p for p in members.papers if p.kind == "minutes")
    text = paper_text(members, paper)
    assert "DRAFT" in text and "Resolved:-" in text
    assert "(1) That the budget be approved." in text
    assert "(2) That progress be reported in March." in text
    # Where the committee publishes its draft minutes, the public pack carries them too.
    meeting["committee"].publish_draft_minutes = True
    db.session.commit()
    public = builder.build_pack(meeting["meeting"], "public")
    paper = next(p for p in public.papers if p.kind == "minutes")
    assert "DRAFT" in paper_text(public, paper)


def test_unpublished_minutes_and_their_actions_stay_out_of_packs(db, f, meeting):
    from app.actions import services as actions
    from app.models import Minute

    c, earlier = meeting["committee"], meeting["earlier"]
    owner = f.person("Owner Person")
    minute = db.session.query(Minute).filter_by(meeting_id=earlier.id).one()
    minutes.save_minute(minute, f"Draft words {CANARY}M", minute.version)
    actions.create_from_resolution(minute.resolutions[0], f"Follow up {CANARY}R", owner.id)
    actions.create_action(c, f"Standalone task {CANARY}S", owner.id)
    db.session.commit()
    for variant in ("public", "members"):
        pack = builder.build_pack(meeting["meeting"], variant)
        whole, raw = "\n".join(page_texts(pack.pdf)), all_strings(pack.pdf)
        visible = variant == "members"  # members may see published drafts and all actions
        for mark in ("M", "R", "S"):
            assert ((CANARY + mark) in whole) is visible, (variant, mark)
            # Generated text is glyph ids, so only absence can be checked byte for byte.
            assert visible or (CANARY + mark).encode() not in raw, (variant, mark)
    # Minutes not yet circulated are in no pack; the standalone action stays in the members'.
    f.with_minutes_state(earlier, MinutesState.DRAFT)
    db.session.commit()
    members = builder.build_pack(meeting["meeting"], "members")
    whole, raw = "\n".join(page_texts(members.pdf)), all_strings(members.pdf)
    assert f"{CANARY}M".encode() not in raw and f"{CANARY}R".encode() not in raw
    assert f"{CANARY}S" in whole
    assert any(p.kind == "to_follow" for p in members.papers)
    public = builder.build_pack(meeting["meeting"], "public")
    raw = all_strings(public.pdf)
    assert not any(f"{CANARY}{mark}".encode() in raw for mark in "MRS")


def test_public_papers_after_a_confidential_one_are_kept(db, meeting):
    m = meeting["meeting"]
    item = next(i for i in m.items if i.title == "Pharmacy services")
    add_document(
        item,
        io.BytesIO(make_pdf(2, f"Contract {CANARY}")),
        "contract.pdf",
        "Contract terms",
        visibility="confidential",
    )
    add_document(item, io.BytesIO(make_pdf(1, "Appendix B")), "appendix-b.pdf", "Appendix B")
    db.session.commit()
    unpublished = builder.build_pack(m, "public").papers
    assert "Appendix B" not in [p.title for p in unpublished]  # not published yet
    agenda_publication.publish_agenda(m)
    db.session.commit()

    def build(variant):
        # As the cache builds it: numbered after revision 1, the new pages listed up front.
        gathered, _, previous, _ = cache._pack_key(m, variant, cache.agenda_of(m))
        return builder.build_pack(m, variant, gathered, previous)

    pack = build("public")
    mine = [p for p in pack.papers if p.item.id == item.id]
    withheld = f"Item {mine[0].number}: not for publication"
    assert [p.title for p in mine] == ["Pharmacy report", "Appendix A", withheld, "Appendix B"]
    text = "\n".join(page_texts(pack.pdf))
    assert "Appendix B page 1" in text and CANARY not in text
    # The supplement's list of new pages names the confidential paper by its item only.
    assert "Contract terms" not in text and withheld in " ".join(page_texts(pack.pdf)[0:2])
    members = build("members")
    assert [p.title for p in members.papers if p.item.id == item.id][2:] == [
        "Contract terms",
        "Appendix B",
    ]


def test_served_from_cache_with_etag_range_and_access(client, db, f, meeting, sign_in, monkeypatch):
    m = meeting["meeting"]
    built = []
    real = builder.build_pack
    monkeypatch.setattr(builder, "build_pack", lambda *a: built.append(a) or real(*a))
    url = f"/meetings/{m.id}/pack.pdf"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "inline" in first.headers["Content-Disposition"]
    again = client.get(url)
    assert again.data == first.data and len(built) == 1
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    agenda.update_item(
        next(i for i in m.items if i.title == "Pharmacy services"),
        title="Pharmacy and sexual health services",
    )
    db.session.commit()
    unpublished = client.get(url)  # the working copy's edit is not in the published pack
    assert unpublished.headers["ETag"] == first.headers["ETag"] and len(built) == 1
    agenda_publication.publish_agenda(m)
    db.session.commit()
    changed = client.get(url)
    assert changed.headers["ETag"] != first.headers["ETag"] and len(built) == 2
    # The members' variant is 404 to the public and to members of other committees.
    assert client.get(url + "?variant=members").status_code == 404
    outsider = f.member_user(f.committee())
    db.session.commit()
    sign_in(outsider)
    assert client.get(url + "?variant=members").status_code == 404
    client.post("/sign-out")
    sign_in(meeting["member"])
    members = client.get(url + "?variant=members")
    assert members.status_code == 200 and CANARY.encode() in all_strings(members.data)


def test_draft_agenda_has_no_public_pack(client, db, f):
    c = f.committee()
    m = f.meeting(c)
    f.item(m, "Draft item")
    db.session.commit()
    assert client.get(f"/meetings/{m.id}/pack.pdf").status_code == 404
    assert client.get("/meetings/999999/pack.pdf").status_code == 404


def test_minutes_pdf_access_and_draft_mark(client, db, f, meeting):
    from sqlalchemy import select

    from app.models import Meeting

    earlier = db.session.scalar(
        select(Meeting).where(Meeting.minutes_state == MinutesState.PUBLISHED)
    )
    assert client.get(f"/meetings/{earlier.id}/minutes.pdf").status_code == 404  # no drafts
    meeting["committee"].publish_draft_minutes = True
    db.session.commit()
    response = client.get(f"/meetings/{earlier.id}/minutes.pdf")
    assert response.status_code == 200
    text = "\n".join(page_texts(response.data))
    assert "DRAFT" in text and "Resolved:-" in text


def test_cli_writes_the_pack(app, db, meeting, tmp_path):
    out = tmp_path / "pack.pdf"
    result = app.test_cli_runner().invoke(
        args=["packs", "build", str(meeting["meeting"].id), "--variant", "members", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pikepdf.open(out).pages
    bad = app.test_cli_runner().invoke(args=["packs", "build", "999999", "-o", str(out)])
    assert bad.exit_code != 0 and "No meeting" in bad.output


def test_clerk_sees_draft_pack(client, db, f, sign_in):
    c = f.committee()
    m = f.meeting(c)
    f.item(m, "Draft item")
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    assert client.get(f"/meetings/{m.id}/pack.pdf").status_code == 200


def test_unreadable_paper_keeps_the_last_good_pack_and_tells_the_clerk(
    client, db, f, meeting, sign_in
):
    from app.agenda.documents import document_path

    m = meeting["meeting"]
    url = f"/meetings/{m.id}/pack.pdf"
    good = client.get(url)
    assert good.status_code == 200
    doc = next(d for i in m.items for d in i.documents if d.title == "Pharmacy report")
    document_path(doc).unlink()  # the stored paper is lost...
    agenda.update_item(doc.item, title="Pharmacy services (revised)")
    agenda_publication.publish_agenda(m)  # ...and the pack stale
    db.session.commit()
    again = client.get(url)
    assert again.status_code == 200 and again.data == good.data  # the last good pack
    from app.models import AuditEvent

    failure = db.session.query(AuditEvent).filter_by(verb="pack_build_failed").first()
    assert failure is not None and "Pharmacy report" in failure.summary
    # With no earlier pack, the clerk is told why; the public just that it is unavailable.
    members_url = url + "?variant=members"
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    response = client.get(members_url)
    assert response.status_code == 503 and "is missing" in response.get_data(as_text=True)
    # And the meeting page tells the clerk of both failures.
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "is served until this is put right" in page and "No earlier version" in page


def _full_record(db, f):
    """A meeting with every part of the record the minutes PDF has to carry."""
    from app.actions import services as actions
    from app.meetings import attendance

    c = f.committee("Schools Forum", quorum_count=4)
    chair = f.person("Ann Chair", honorific="Councillor")
    late, early, absent, sub_for = (
        f.person(n) for n in ("Lou Late", "Ed Early", "Abe Sent", "Vi Away")
    )
    for p in (chair, late, early, absent, sub_for):
        f.membership(c, p, "chair" if p is chair else "member")
    sub, officer = f.person("Sam Sub"), f.person("Olive Officer")
    m = f.meeting(c, starts_at=datetime(2021, 12, 7, 14, tzinfo=UTC))
    budget = agenda.add_item(m, title="Budget")
    plan = agenda.add_item(m, title="Schools plan")
    attendance.set_attendance(m, chair, "present", in_chair=True)
    attendance.set_attendance(m, late, "present", arrived_at_item_id=plan.id)
    attendance.set_attendance(m, early, "present", left_at_item_id=budget.id)
    attendance.set_attendance(m, sub, "substitute", substitute_for=sub_for)
    attendance.set_attendance(m, officer, "in_attendance", capacity="Head of Finance")
    attendance.set_attendance(m, absent, "apologies")
    attendance.add_declaration(m, budget.id, early, "other_registrable", "Governor of a school")
    first, second = minutes.draft_minutes(m)
    minutes.save_minute(first, "The budget was presented.", first.version)
    minutes.add_resolution(first, "That the budget be approved.", votes_for=3, votes_against=1)
    minutes.add_resolution(
        first,
        "That the plan be adopted.",
        kind="recommended",
        recommended_to="Cabinet",
        named_votes=[(chair.id, "for"), (late.id, "against"), (sub.id, "abstain")],
    )
    owner = f.person("Owen Owner")
    actions.create_from_resolution(first.resolutions[0], "Circulate the budget", owner.id)
    db.session.commit()
    return {"meeting": m, "committee": c, "first": first, "second": second}


def test_minutes_pdf_carries_the_whole_record(db, f):
    record = _full_record(db, f)
    m = record["meeting"]
    text = " ".join(" ".join(page_texts(builder.minutes_pdf(m, include_restricted=False))).split())
    assert "DRAFT" in text
    assert "Present: Councillor Ann Chair (in the Chair); Ed Early (left during item 1);" in text
    assert "Lou Late (arrived during item 2)" in text
    assert "Sam Sub (substitute for Vi Away)" in text
    assert "In attendance: Olive Officer, Head of Finance." in text
    assert "Apologies for absence were received from Abe Sent." in text
    # Four voting members needed; the chair, two members and one substitute were there.
    assert "inquorate" not in text
    assert "Ed Early declared an other registrable interest: Governor of a school." in text
    assert "(1) That the budget be approved. (For 3, against 1, abstentions 0)" in text
    assert (
        "(2) That the plan be adopted. (recommended to Cabinet) (For 1, against 1, abstentions 1)"
        in text
    )
    assert (
        "Recorded vote on resolution (2): For: Councillor Ann Chair. Against: Lou Late. "
        "Abstained: Sam Sub." in text
    )
    assert "Action: Circulate the budget \N{EN DASH} Owen Owner." in text
    assert "Approved as a correct record" not in text


def test_minutes_pdf_inquorate_and_approved_with_signature(db, f):
    from datetime import date

    record = _full_record(db, f)
    m, c = record["meeting"], record["committee"]
    c.quorum_count = 5
    later = f.meeting(c, starts_at=m.starts_at.replace(year=2022))
    minutes.approve_minutes(
        m,
        later,
        amendments="Subject to minute 2 reading 'plan'.",
        chair_name="Ann Chair",
        signed_on=date(2022, 1, 5),
    )
    db.session.commit()
    text = " ".join(" ".join(page_texts(builder.minutes_pdf(m, include_restricted=False))).split())
    assert "The meeting was inquorate (4 voting members present; 5 needed)." in text
    assert "DRAFT" not in text
    when = later.local_start
    assert (
        f"Approved as a correct record at the meeting held on {when:%A} {when.day} {when:%B %Y}, "
        "subject to minute 2 reading 'plan'." in text
    )
    assert "Chair Ann Chair" in text and "Date Wednesday 5 January 2022" in text


def test_content_key_follows_what_the_pack_shows(db, f, meeting):
    from app.meetings import attendance
    from app.minutes.models import Minute

    m, c, earlier = meeting["meeting"], meeting["committee"], meeting["earlier"]
    tender = next(d for i in m.items for d in i.documents if d.title.startswith("Tender"))
    chair = c.current_memberships()[0].person
    last = {}

    def changed() -> set:
        """Which variants' keys moved since the last look."""
        db.session.commit()
        db.session.expire_all()
        now = {v: builder.content_key(m, v) for v in ("public", "members")}
        moved = {v for v in now if last and now[v] != last[v]}
        last.update(now)
        return moved

    changed()
    f.membership(c, f.person("Newly Appointed"))  # the front sheet's membership
    assert changed() == {"public", "members"}
    chair.name = "Lakin-Smith"  # a name on the front sheet
    assert changed() == {"public", "members"}
    attendance.set_attendance(earlier, chair, "present", in_chair=True)  # previous minutes
    assert "members" in changed()

    def draft_keys() -> dict:
        copy = revisions.working_copy(m)
        return {
            v: builder.content_key(m, v, inputs.canonical(inputs.pack_inputs(m, v, copy)))
            for v in ("public", "members")
        }

    drafts = draft_keys()
    tender.exempt_paragraphs = [3, 4]  # the public's NOT FOR PUBLICATION page...
    assert changed() == set()  # ...as published stays as it was published
    assert draft_keys()["public"] != drafts["public"]  # the draft pack's is the new one
    c.publish_draft_minutes = True  # the public may now see the previous minutes
    assert "public" in changed()
    assert changed() == set()  # and nothing moves by itself
    minute = db.session.query(Minute).filter_by(meeting_id=earlier.id).one()
    before = builder.minutes_key(earlier, False)
    attendance.add_declaration(
        earlier, minute.agenda_item_id, chair, "other_registrable", "Trustee"
    )
    assert changed() == {"public", "members"}
    assert builder.minutes_key(earlier, False) != before  # the minutes PDF shows declarations


def _clock(monkeypatch, days: int) -> None:
    """Move every clock the pack could read `days` ahead."""
    from datetime import date, datetime, timedelta

    import app.actions.models
    import app.committees.models
    import app.core.db

    shift = timedelta(days=days)

    class Later(date):
        @classmethod
        def today(cls):
            return date.today() + shift

    class LaterTime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + shift

    for module in (builder, app.actions.models, app.committees.models, app.core.db):
        if hasattr(module, "date"):
            monkeypatch.setattr(module, "date", Later)
        if hasattr(module, "datetime"):
            monkeypatch.setattr(module, "datetime", LaterTime)


def test_unchanged_pack_keeps_its_key_and_content_from_day_to_day(db, f, meeting, monkeypatch):
    from datetime import date, timedelta

    from app.actions import services as actions

    m, c = meeting["meeting"], meeting["committee"]
    owner = f.person("Owen Owner")
    # Due in ten days: judged by the clock, it would turn overdue in the pack below.
    actions.create_action(c, "Report back", owner.id, due_date=date.today() + timedelta(days=10))
    db.session.commit()
    keys = {v: builder.content_key(m, v) for v in ("public", "members")}
    text = page_texts(builder.build_pack(m, "members").pdf)
    assert "overdue" not in "\n".join(text)
    _clock(monkeypatch, 40)
    import app.actions.models

    assert app.actions.models.date.today() == date.today() + timedelta(days=40)
    db.session.expire_all()
    assert {v: builder.content_key(m, v) for v in ("public", "members")} == keys
    assert page_texts(builder.build_pack(m, "members").pdf) == text


def _front(pack) -> str:
    return " ".join(" ".join(page_texts(pack.pdf)[: pack.agenda_pages]).split())


def test_front_sheet_names_the_meeting_the_membership_and_the_revision(db, f, meeting):
    from app.core.web import format_local_date, format_local_time

    m, c = meeting["meeting"], meeting["committee"]
    m.venue = "Town Hall, Moorgate Street, Rotherham"
    m.starts_at = m.starts_at.replace(hour=13, minute=30)  # 1.30pm in London in winter
    f.membership(c, f.person("Aaron Able"), "vice_chair")
    f.membership(c, f.person("Abe Adams"))
    db.session.commit()
    front = _front(builder.build_pack(m, "public"))
    assert f"Date {format_local_date(m.starts_at, m.timezone)}" in front
    assert f"Time {format_local_time(m.starts_at, m.timezone)}" in front
    assert "Venue Town Hall, Moorgate Street, Rotherham" in front
    assert "Contact Jo Clerk, jo@example.org" in front
    published = format_local_date(m.agenda_published_at, m.timezone)
    assert f"Published {published}" in front and "Revision 1" in front
    assert "supplement" not in front
    # The chair first, then the vice-chair, then members by name.
    assert re.search(
        r"Membership Councillor Lakin \(Chair\); Aaron Able \(Vice-chair\); Abe Adams;", front
    ), front
    # A supplement is a new revision of the pack, dated, with the first publication kept.
    key = builder.content_key(m, "public")
    later = m.agenda_published_at.replace(year=m.agenda_published_at.year + 1)
    pharmacy = next(i for i in m.items if i.title == "Pharmacy services")
    agenda.update_item(pharmacy, title="Pharmacy needs assessment")
    agenda_publication.publish_agenda(
        m, summary="Late report on pharmacy added", late_reason="Report came late", now=later
    )
    db.session.commit()
    assert builder.content_key(m, "public") != key
    front = _front(builder.build_pack(m, "public"))
    assert f"Published {published}" in front
    assert f"Revision 2: supplement 1, published {format_local_date(later, m.timezone)}" in front
    # Each late revision's own reason is printed; the change list never stands in for it.
    assert "Supplement 1 was published after the deadline. Reason: Report came late" in front
    assert "Reason: Late report on pharmacy added" not in front


def test_action_log_is_dated_by_publication_and_progress_reports(db, f, meeting):
    from datetime import UTC, datetime, timedelta

    from app.actions import services as actions
    from app.core.web import format_local_date

    m, c = meeting["meeting"], meeting["committee"]
    published = datetime.now(UTC) - timedelta(days=30)
    m.publications[0].published_at = published
    owner = f.person("Owen Owner")
    due = (datetime.now(UTC) - timedelta(days=10)).date()
    action = actions.create_action(c, "Report back", owner.id, due_date=due)
    db.session.commit()

    def log() -> str:
        pack = builder.build_pack(m, "members")
        paper = next(p for p in pack.papers if p.kind == "actions")
        return " ".join(paper_text(pack, paper).split())

    text = log()  # due after publication: not overdue as the log was published
    assert f"as at {format_local_date(published, m.timezone)}" in text
    assert "(overdue)" not in text
    actions.post_update(action, f.user("clerk"), note="Delayed by the audit")
    db.session.commit()
    text = log()  # the progress report dates the log: now it is overdue
    assert f"as at {format_local_date(datetime.now(UTC), m.timezone)}" in text
    assert "(overdue)" in text and "Delayed by the" in text


def test_previous_minutes_are_the_last_meeting_held(db, f, meeting):
    from app.meetings import services as meeting_services

    m, c, earlier = meeting["meeting"], meeting["committee"], meeting["earlier"]
    # A meeting called off in between has no minutes to confirm: it is passed over.
    called_off = f.meeting(c, starts_at=m.starts_at - timedelta(days=30))
    meeting_services.set_status(called_off, "cancelled", "No business")
    db.session.commit()
    pack = builder.build_pack(m, "members")
    paper = next(p for p in pack.papers if p.item.kind == "previous_minutes")
    assert paper.kind == "minutes" and earlier.local_start.strftime("%B %Y") in paper.title
    # One held since whose minutes are not written yet: they are to follow, and the older
    # minutes (confirmed at that meeting) are not put before the members again.
    held = f.meeting(c, starts_at=m.starts_at - timedelta(days=20))
    db.session.commit()
    pack = builder.build_pack(m, "members")
    paper = next(p for p in pack.papers if p.item.kind == "previous_minutes")
    assert paper.kind == "to_follow" and held.local_start.strftime("%B %Y") in paper.title
    assert "That the budget be approved" not in "\n".join(page_texts(pack.pdf))


def test_minutes_key_follows_the_visibility_of_sub_items(db, f):
    """What the minutes show of declarations on a sub-item depends on whether it is exempt."""
    from app.meetings import attendance

    m = f.meeting(f.committee())
    budget = agenda.add_item(m, title="Budget")
    land = agenda.add_item(m, parent=budget, title="Land sale")
    minutes.draft_minutes(m)
    attendance.add_declaration(m, land.id, f.person("Lakin"), "other_registrable", "Trustee")
    db.session.commit()
    before = builder.minutes_key(m, False)
    assert "Trustee" in " ".join(page_texts(builder.minutes_pdf(m, include_restricted=False)))
    agenda.update_item(
        land, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    db.session.commit()
    assert builder.minutes_key(m, False) != before
    assert "Trustee" not in " ".join(page_texts(builder.minutes_pdf(m, include_restricted=False)))


def test_minutes_key_follows_the_paragraphs_an_exempt_minute_is_marked_with(db, f):
    m = f.meeting(f.committee())
    land = agenda.add_item(
        m, title="Land", visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    minutes.draft_minutes(m)
    db.session.commit()
    before = {r: builder.minutes_key(m, r) for r in (False, True)}
    agenda.update_item(land, exempt_paragraphs=[3, 4])
    db.session.commit()
    assert all(builder.minutes_key(m, r) != before[r] for r in (False, True))


def test_a_changed_template_changes_every_key(monkeypatch, db, f, tmp_path):
    """The keys carry a digest of the templates, not a version number someone must raise."""
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(builder.TEMPLATES, templates)
    assert builder._templates_digest(templates) == builder.TEMPLATE_VERSION
    minutes_html = templates / "packs" / "pdf" / "minutes.html"
    minutes_html.write_text(minutes_html.read_text() + "<!-- changed -->")
    changed = builder._templates_digest(templates)
    assert changed != builder.TEMPLATE_VERSION
    m = f.meeting(f.committee())
    before = builder.content_key(m, builder.PUBLIC), builder.minutes_key(m, False)
    monkeypatch.setattr(builder, "TEMPLATE_VERSION", changed)
    after = builder.content_key(m, builder.PUBLIC), builder.minutes_key(m, False)
    assert before[0] != after[0] and before[1] != after[1]


def test_only_the_templates_packs_are_made_from_change_their_keys(tmp_path):
    """The PDF templates and what they include (the record's macros shared with the meeting
    page) count; an e-mail or a page template does not rebuild every pack."""
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(builder.TEMPLATES, templates)
    original = builder._templates_digest(templates)
    for unrelated in ("notifications/agenda.html", "meetings/show.html", "base.html"):
        page = templates / unrelated
        page.write_text(page.read_text() + "<!-- changed -->")
    assert builder._templates_digest(templates) == original
    shared = templates / "minutes" / "_record.html"
    shared.write_text(shared.read_text() + "{# changed #}")
    assert builder._templates_digest(templates) != original


def test_whether_there_is_a_pack_follows_the_items_however_the_meeting_was_read(db, f):
    """The pack route reads whether the agenda has items with the meeting; everyone else asks
    when they need it. A value read with the meeting gives way to the items once they are
    loaded, and one not read with it is asked for."""
    from sqlalchemy.orm import undefer

    from app.meetings.models import Meeting

    m = f.meeting(f.committee())
    db.session.commit()
    meeting_id = m.id
    db.session.expunge_all()
    read_with = db.session.get(Meeting, meeting_id, options=[undefer(Meeting.items_exist)])
    assert read_with.has_items is False and read_with.pack_variant_for(None) is None
    agenda.add_item(read_with, title="Budget")
    assert read_with.has_items is True
    db.session.commit()
    db.session.expunge_all()
    asked = db.session.get(Meeting, meeting_id)
    assert asked.has_items is True
    db.session.expunge_all()
    read_with = db.session.get(Meeting, meeting_id, options=[undefer(Meeting.items_exist)])
    assert read_with.has_items is True
