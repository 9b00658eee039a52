"""Action plans as councils keep them (app/actions/plan.py): the service, the API and the page,
with plans transcribed from public council papers as their spreadsheets would be."""

from __future__ import annotations

import csv
import html as htmllib
import io
import json
import re
import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.actions import plan
from app.actions.models import Action, ActionStatus, Rag
from app.audit.models import AuditEvent
from app.auth.services import issue_token
from app.core.dates import read_written_date
from app.core.errors import ValidationError
from app.models import Person, Role

# The Safer Rotherham Partnership's (the community safety partnership's) priority action plan
# for 2015/16, with its own headings, a theme line above each priority's rows, the objective
# written once for its rows (merged cells), two leads in one cell and dates as written.
SRP_HEADINGS = [
    "Objective",
    "Ref",
    "Action",
    "Lead driver",
    "Review/ end date",
    "Targets, outputs and outcome measures",
    "RAG",
]
SRP_ROWS = [
    ["Priority 1: Reduce the threat and harm to victims of child sexual exploitation"],
    [
        "Increase the confidence of victims and survivors to report",
        "1.1",
        "Deliver the CSE awareness campaign to schools, taxi drivers and licensed premises",
        "Geoff Gurney, Rebecca Ransley",
        "Review 31 st July 2015",
        "Number of referrals from schools; campaign reach",
        "G",
    ],
    [
        "",
        "1.2",
        "Review the multi-agency CSE referral pathway",
        "Rebecca Ransley",
        "31/07/2015",
        "Pathway agreed by the Local Safeguarding Children Board",
        "A",
    ],
    ["Priority 2: Reduce the threat and harm to victims of domestic abuse"],
    [
        "Improve the response to high-risk victims",
        "2.1",
        "Commission an independent review of the MARAC",
        "Steve Parry (steve.parry@rotherham.gov.uk)",
        "March 2016",
        "Review reported to the SRP Board",
        "R",
    ],
    [
        "",
        "2.2",
        "Train frontline staff in DASH risk assessment",
        "Sue Wilson",
        "Ongoing",
        "500 staff trained",
        "Complete",
    ],
    ["Priority 3: Reducing and managing anti-social behaviour"],
    [
        "Respond quickly to anti-social behaviour",
        "3.1",
        "Open the joint ASB hub at Riverside House",
        "Geoff Gurney",
        "30th September 2015",
        "Hub open; repeat calls down 10%",
        "Amber",
    ],
]


def _csv(headings, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode()


def srp_plan(rows=None) -> plan.PlanUpload:
    return plan.PlanUpload("SRP action plan 2015-16.csv", _csv(SRP_HEADINGS, rows or SRP_ROWS))


# The Health and Wellbeing Board's strategy action plan for 2015/16, as an Excel workbook: a
# title above the headings, Theme / Priority / Owner / Deadline / Status, the theme written once
# for its rows, deadlines as Excel dates and as words, a status column of words, and two
# headings of its own ("Expected impact", "Board sponsor").
HWB_HEADINGS = [
    "Theme",
    "Priority",
    "Owner",
    "Deadline",
    "Status",
    "Expected impact",
    "Board sponsor",
]
HWB_ROWS = [
    [
        "Starting well",
        "Every child has a named health visitor from birth",
        "Joanna Saunders",
        datetime(2016, 3, 31),
        "On track",
        "Fewer missed developmental checks",
        "Cllr David Roche",
    ],
    [
        None,
        "Reduce smoking in pregnancy",
        "Joanna Saunders and Dr Richard Cullen",
        "March 2016",
        "Delayed - awaiting CCG sign-off",
        "Smoking at delivery below 18%",
        "Cllr David Roche",
    ],
    [
        "Living well",
        "Agree a joint suicide prevention plan",
        "Kate Green",
        "TBC",
        "Not started",
        None,
        "Chris Edwards",
    ],
    [
        None,
        "Expand social prescribing to every GP practice",
        "Chris Edwards",
        datetime(2015, 12, 31),
        "Complete",
        "All 31 practices referring",
        "Chris Edwards",
    ],
]


def _xlsx(headings, rows, title="Rotherham Health and Wellbeing Strategy: action plan 2015-16"):
    book = Workbook()
    sheet = book.active
    sheet.title = "Action plan"
    sheet.append([title])
    sheet.append([])
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def hwb_plan(rows=None) -> plan.PlanUpload:
    return plan.PlanUpload("HWB action plan.xlsx", _xlsx(HWB_HEADINGS, rows or HWB_ROWS))


HWB_COLUMNS = {"Expected impact": "target", "Board sponsor": "ignore"}


@pytest.fixture
def s(db, f):
    c = f.committee("Safer Rotherham Partnership")
    clerk = f.user(Role.CLERK)
    sue = f.person("Sue Wilson", email="sue.wilson@rotherham.gov.uk")
    # Known by another spelling of the name: found by the e-mail the plan gives.
    steve = f.person("Stephen Parry", email="steve.parry@rotherham.gov.uk")
    db.session.commit()
    return {"c": c, "clerk": clerk, "sue": sue, "steve": steve}


def _actions(c) -> dict[str, Action]:
    from app.extensions import db

    return {
        (a.reference or a.title): a
        for a in db.session.scalars(select(Action).where(Action.committee_id == c.id))
    }


# --- dates as plans write them -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected", "approximated"),
    [
        ("31 st July 2015", date(2015, 7, 31), False),
        ("31/07/2015", date(2015, 7, 31), False),
        ("2015-07-31", date(2015, 7, 31), False),
        ("30th September 2015", date(2015, 9, 30), False),
        ("Friday 4th December 2015", date(2015, 12, 4), False),
        ("July 2015", date(2015, 7, 31), True),
        ("March 2016", date(2016, 3, 31), True),
        ("Feb 2016", date(2016, 2, 29), True),
        ("by end of March 2016", date(2016, 3, 31), True),
        ("2015/16", date(2016, 3, 31), True),
        (datetime(2016, 3, 31, 0, 0), date(2016, 3, 31), False),
    ],
)
def test_dates_as_written_are_read(written, expected, approximated):
    read = read_written_date(written)
    assert (read.value, read.approximated, read.problem) == (expected, approximated, None)


@pytest.mark.parametrize("written", ["Ongoing", "TBC", "Summer 2015", "31/02/2016", "Quarterly"])
def test_what_names_no_day_or_month_is_flagged_not_guessed(written):
    read = read_written_date(written)
    assert read.value is None and repr(written) in read.problem


# --- the community safety partnership's plan (CSV) -----------------------------------------------


def test_a_community_safety_plan_is_read_with_its_own_headings(db, s):
    preview = plan.preview_plan(s["c"], srp_plan())
    assert preview.ok, [r.errors for r in preview.rows]
    assert [(c.heading, c.field, c.recognised) for c in preview.columns] == [
        ("Objective", "objective", True),
        ("Ref", "reference", True),
        ("Action", "action", True),
        ("Lead driver", "lead", True),
        ("Review/ end date", "due_date", True),
        ("Targets, outputs and outcome measures", "target", True),
        ("RAG", "rag", True),
    ]
    rows = {r.reference: r for r in preview.rows}
    assert list(rows) == ["1.1", "1.2", "2.1", "2.2", "3.1"]
    assert preview.counts == {"create": 5, "update": 0, "leave": 0, "error": 0}
    # Theme lines, and the objective written once for its rows.
    assert rows["1.2"].theme.startswith("Priority 1: Reduce the threat and harm")
    assert rows["1.2"].objective == "Increase the confidence of victims and survivors to report"
    assert rows["3.1"].theme == "Priority 3: Reducing and managing anti-social behaviour"
    # RAG letters and words; "Complete" is grey, so the action is complete.
    assert [r.rag for r in rows.values()] == [Rag.GREEN, Rag.AMBER, Rag.RED, Rag.GREY, Rag.AMBER]
    assert rows["2.2"].status == ActionStatus.COMPLETE
    # Dates as written: a review date, a day, a month (approximated and said), no date (said).
    assert (rows["1.1"].due_date, rows["1.1"].review_date) == (None, date(2015, 7, 31))
    assert rows["1.2"].due_date == date(2015, 7, 31)
    assert rows["2.1"].due_date == date(2016, 3, 31)
    assert any("'March 2016' names no day" in n for n in rows["2.1"].notes)
    assert rows["2.2"].due_date is None and any("'Ongoing'" in n for n in rows["2.2"].notes)
    assert rows["3.1"].due_date == date(2015, 9, 30)
    # Leads: the first owns the action, the others are said to be kept as co-owners; people
    # are found by e-mail first, then by name, and the rest are to be added (each once).
    assert [x.name for x in rows["1.1"].leads] == ["Geoff Gurney", "Rebecca Ransley"]
    assert any("also leading (kept as co-owners): Rebecca Ransley" in n for n in rows["1.1"].notes)
    leads = {x.name: x for x in preview.leads}
    assert list(leads) == ["Geoff Gurney", "Rebecca Ransley", "Steve Parry", "Sue Wilson"]
    assert (leads["Steve Parry"].how, leads["Steve Parry"].person) == ("e-mail", s["steve"])
    assert (leads["Sue Wilson"].how, leads["Sue Wilson"].person) == ("name", s["sue"])
    assert leads["Geoff Gurney"].how == "new" and leads["Geoff Gurney"].person is None
    assert "a new person, to be added" in leads["Geoff Gurney"].said
    # A preview writes nothing.
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2


def test_a_community_safety_plan_imported_and_imported_again_updates_never_duplicates(db, s):
    result = plan.import_plan(s["c"], srp_plan(), s["clerk"])
    db.session.commit()
    assert (len(result.created), len(result.updated), len(result.left)) == (5, 0, 0)
    assert sorted(p.name for p in result.people_added) == ["Geoff Gurney", "Rebecca Ransley"]
    actions = _actions(s["c"])
    first = actions["1.1"]
    assert first.owner.name == "Geoff Gurney"
    assert [p.name for p in first.co_owners] == ["Rebecca Ransley"]
    assert first.co_owners[0] is actions["1.2"].owner  # one person, not two of one name
    assert first.theme.startswith("Priority 1") and first.review_date == date(2015, 7, 31)
    assert first.target_measure == "Number of referrals from schools; campaign reach"
    assert actions["2.1"].owner == s["steve"]
    done = actions["2.2"]
    assert (done.status, done.rag, done.closed_at is not None) == (
        ActionStatus.COMPLETE,
        Rag.GREY,
        True,
    )
    imported = db.session.scalars(
        select(AuditEvent).where(AuditEvent.verb == "action_plan_imported")
    ).one()
    assert imported.data["created"] == 5 and imported.summary == "SRP action plan 2015-16.csv"

    # The same plan again: everything is left as it is.
    again = plan.preview_plan(s["c"], srp_plan())
    assert again.counts == {"create": 0, "update": 0, "leave": 5, "error": 0}
    assert {r.action.id for r in again.rows} == {a.id for a in actions.values()}

    # A quarter on: 1.2 is green now, 3.1 has a new lead and date, and a row is added.
    rows = [list(r) for r in SRP_ROWS]
    rows[2][6] = "G"
    rows[7][3], rows[7][4] = "Sue Wilson", "31 st December 2015"
    rows.append(["", "3.2", "Publish the ASB case review procedure", "Sue Wilson", "", "", ""])
    preview = plan.preview_plan(s["c"], srp_plan(rows))
    assert preview.counts == {"create": 1, "update": 2, "leave": 3, "error": 0}
    changed = {r.reference: r.changes for r in preview.rows if r.outcome == "update"}
    assert changed == {
        "1.2": ["RAG amber → green"],
        "3.1": ["lead Geoff Gurney → Sue Wilson", "due date 2015-09-30 → 2015-12-31"],
    }
    result = plan.import_plan(s["c"], srp_plan(rows), s["clerk"])
    db.session.commit()
    assert (len(result.created), len(result.updated), len(result.left)) == (1, 2, 3)
    assert result.people_added == []
    actions = _actions(s["c"])
    assert len(actions) == 6
    assert actions["1.2"].rag == Rag.GREEN
    update = actions["1.2"].latest_update
    assert update.rag == Rag.GREEN and "Updated from the action plan" in update.note
    asb = actions["3.1"]
    assert (asb.owner, asb.due_date) == (s["sue"], date(2015, 12, 31))
    # The lead and date went through the correction path: audited, and in the history.
    from app.actions.services import action_history

    history = action_history(asb)
    assert [h.kind for h in history] == ["correction", "update"]
    assert history[0].changes == {
        "owner_id": ["Geoff Gurney", "Sue Wilson"],
        "due_date": ["2015-09-30", "2015-12-31"],
    }


def test_a_plan_with_a_row_in_error_imports_nothing_and_says_why(db, f, s):
    f.person("Rebecca Ransley")
    f.person("Rebecca Ransley")  # two people of one name: the plan must say which
    rows = [list(r) for r in SRP_ROWS]
    rows.append(["", "1.1", "The same reference again", "Sue Wilson", "", "", "purple"])
    rows.append(["", "4.1", "", "", "31/01/1066", "", ""])
    preview = plan.preview_plan(s["c"], srp_plan(rows))
    assert not preview.ok
    errors = {r.line: " ".join(r.errors) for r in preview.rows if r.errors}
    assert "several people have this name" in errors[3] and "several people" in errors[4]
    assert "also on row 3" in errors[10] and "RAG 'purple'" in errors[10]
    assert "action is empty" in errors[11] and "lead is empty" in errors[11]
    assert "between the years" in errors[11]
    with pytest.raises(ValidationError) as refused:
        plan.import_plan(s["c"], srp_plan(rows), s["clerk"])
    assert "row 10" in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


# --- the health and wellbeing board's plan (XLSX) -----------------------------------------------


def test_a_health_and_wellbeing_plan_from_a_workbook_with_headings_mapped(db, s):
    preview = plan.preview_plan(s["c"], hwb_plan())
    assert preview.notes == ["The headings are on row 3; the rows above them are left out."]
    assert [(c.heading, c.field) for c in preview.columns] == [
        ("Theme", "theme"),
        ("Priority", "action"),  # no other column is the action
        ("Owner", "lead"),
        ("Deadline", "due_date"),
        ("Status", "status"),
        ("Expected impact", None),
        ("Board sponsor", None),
    ]
    assert [c.heading for c in preview.unrecognised] == ["Expected impact", "Board sponsor"]
    assert preview.rows[0].target is None

    preview = plan.preview_plan(s["c"], hwb_plan(), HWB_COLUMNS)
    assert preview.ok, [r.errors for r in preview.rows]
    rows = preview.rows
    assert [r.line for r in rows] == [4, 5, 6, 7]
    assert [r.theme for r in rows] == [
        "Starting well",
        "Starting well",
        "Living well",
        "Living well",
    ]
    assert rows[0].target == "Fewer missed developmental checks"
    assert [r.due_date for r in rows] == [
        date(2016, 3, 31),
        date(2016, 3, 31),
        None,
        date(2015, 12, 31),
    ]
    assert any("names no day" in n for n in rows[1].notes) and not rows[0].notes
    assert any("'TBC' names no date" in n for n in rows[2].notes)
    assert [r.status for r in rows] == [
        ActionStatus.IN_PROGRESS,
        None,
        ActionStatus.OPEN,
        ActionStatus.COMPLETE,
    ]
    assert rows[1].note == "Delayed - awaiting CCG sign-off"
    assert [x.name for x in rows[1].leads] == ["Joanna Saunders", "Dr Richard Cullen"]

    result = plan.import_plan(s["c"], hwb_plan(), s["clerk"], HWB_COLUMNS)
    db.session.commit()
    assert len(result.created) == 4
    actions = _actions(s["c"])
    smoking = actions["Reduce smoking in pregnancy"]
    assert smoking.status == ActionStatus.OPEN
    assert smoking.latest_update.note == "Delayed - awaiting CCG sign-off"
    assert [p.name for p in smoking.co_owners] == ["Dr Richard Cullen"]
    prescribing = actions["Expand social prescribing to every GP practice"]
    assert prescribing.status == ActionStatus.COMPLETE and prescribing.closed_at is not None
    assert actions["Every child has a named health visitor from birth"].status == (
        ActionStatus.IN_PROGRESS
    )

    # No references in this plan: the same words find the same action, never a second one.
    rows = [list(r) for r in HWB_ROWS]
    rows[2][4] = "In progress"
    preview = plan.preview_plan(s["c"], hwb_plan(rows), HWB_COLUMNS)
    assert preview.counts == {"create": 0, "update": 1, "leave": 3, "error": 0}
    plan.import_plan(s["c"], hwb_plan(rows), s["clerk"], HWB_COLUMNS)
    db.session.commit()
    assert len(_actions(s["c"])) == 4
    suicide = _actions(s["c"])["Agree a joint suicide prevention plan"]
    assert suicide.status == ActionStatus.IN_PROGRESS


def _zip(entries: dict[str, bytes]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("plan.xlsm", _xlsx(HWB_HEADINGS, HWB_ROWS), "macros"),
        (
            "plan.xlsx",
            _zip({"xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"\0"}),
            "macros",
        ),
        ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel (.xls)"),
        ("plan.docx", _zip({"word/document.xml": b"<document/>"}), "not an Excel workbook"),
        ("plan.xlsx", b"PK\x03\x04 not really a zip", "cannot be read as an XLSX"),
        ("plan.xlsx", _zip({"xl/workbook.xml": b"<not a workbook"}), "cannot be read as an XLSX"),
        ("plan.csv", "Action\nCaf\xe9".encode("cp1252"), "not UTF-8"),
        ("plan.csv", b"", "no rows"),
    ],
)
def test_files_that_are_not_a_plan_are_refused_with_a_reason(db, s, filename, data, message):
    preview = plan.preview_plan(s["c"], plan.PlanUpload(filename, data))
    assert not preview.ok and message in preview.errors[0], preview.errors


def test_a_plan_is_bounded(db, s):
    rows = [["Title", "Owner"]] + [[f"Action {n}", "Sue Wilson"] for n in range(plan.MAX_ROWS + 1)]
    preview = plan.preview_plan(s["c"], plan.PlanUpload("big.csv", _csv(*[rows[0], rows[1:]])))
    assert "At most 2000 rows" in preview.errors[0]

    class Huge:
        filename = "huge.csv"

        def read(self, n):
            return b"x" * n

    with pytest.raises(plan.PlanFileError, match="larger than 2 MB"):
        plan.upload_from(Huge())


def test_mapping_names_a_field_that_exists(db, s):
    with pytest.raises(ValidationError):
        plan.preview_plan(s["c"], hwb_plan(), {"Expected impact": "budget"})
    preview = plan.preview_plan(s["c"], hwb_plan(), {"Priority": "ignore"})
    assert "No column is the action" in preview.errors[0]
    # The clerk's choice wins over a heading's guess, which is then left out.
    preview = plan.preview_plan(s["c"], hwb_plan(), {"Board sponsor": "lead"})
    assert preview.ok and {c.heading: c.field for c in preview.columns}["Owner"] is None
    assert preview.rows[0].owner.name == "Cllr David Roche"
    preview = plan.preview_plan(s["c"], hwb_plan(), {"Board sponsor": "lead", "Owner": "lead"})
    assert "Two columns are mapped to lead (owner)" in preview.errors[0]


# --- the API ---------------------------------------------------------------------------------


def _post(client, slug, upload, token=None, **form):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1/committees/{slug}/action-plan",
        data={"file": (BytesIO(upload.data), upload.filename), **form},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_the_api_previews_then_imports_a_plan(client, db, f, s):
    slug = s["c"].slug
    assert _post(client, slug, srp_plan()).status_code == 401
    member = f.member_user(s["c"])
    r = _post(client, slug, srp_plan(), issue_token(member))
    assert r.status_code == 403 and r.content_type == "application/problem+json"
    token = issue_token(s["clerk"])
    db.session.commit()

    r = _post(client, slug, hwb_plan(), token, columns=json.dumps(HWB_COLUMNS))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["imported"] is False and body["counts"]["create"] == 4
    assert body["columns"][5] == {
        "heading": "Expected impact",
        "field": "target",
        "recognised": False,
    }
    assert body["rows"][1]["owner"] == "Joanna Saunders"
    assert body["rows"][1]["co_owners"] == ["Dr Richard Cullen"]
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0

    r = _post(client, slug, srp_plan(), token, dry_run="false")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["imported"] is True and body["counts"]["create"] == 5
    assert {x["name"]: x["found"] for x in body["leads"]}["Steve Parry"] == "e-mail"
    assert db.session.scalar(select(func.count()).select_from(Action)) == 5
    again = _post(client, slug, srp_plan(), token, dry_run="false").get_json()
    assert again["counts"] == {"create": 0, "update": 0, "leave": 5, "error": 0}
    assert db.session.scalar(select(func.count()).select_from(Action)) == 5


def test_the_api_refuses_what_it_cannot_import(client, db, s):
    token = issue_token(s["clerk"])
    db.session.commit()
    slug = s["c"].slug
    bad = srp_plan([*SRP_ROWS, ["", "1.1", "Again", "Sue Wilson", "", "", "purple"]])
    r = _post(client, slug, bad, token)  # a dry run lists the rows in error
    assert r.status_code == 200 and r.get_json()["counts"]["error"] == 1
    r = _post(client, slug, bad, token, dry_run="false")
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert "row 10" in r.get_json()["errors"]
    for upload, form in (
        (plan.PlanUpload("p.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), {}),
        (srp_plan(), {"columns": "{not json"}),
        (srp_plan(), {"columns": json.dumps({"RAG": "colour"})}),
        (srp_plan(), {"dry_run": "maybe"}),
    ):
        r = _post(client, slug, upload, token, **form)
        assert r.status_code == 422 and r.content_type == "application/problem+json", r.data
    r = _post(client, "no-such-committee", srp_plan(), token)
    assert r.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


# --- the page ----------------------------------------------------------------------------------


def _hidden(html: str, name: str) -> str:
    return htmllib.unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))


def test_the_page_previews_maps_headings_and_imports(client, db, s, sign_in):
    sign_in(s["clerk"])
    url = f"/actions/import/{s['c'].slug}"
    page = client.get(url).get_data(as_text=True)
    assert "CSV or XLSX file" in page
    r = client.post(
        url,
        data={"file": (BytesIO(hwb_plan().data), "HWB action plan.xlsx"), "preview": "Preview"},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html
    assert "4 to add, 0 to update, 0 left as they are" in html
    assert "Not recognised: choose what it is, or leave it out" in html
    assert "Dr Richard Cullen: a new person, to be added" in html
    token = _hidden(html, "upload_token")
    headings = dict(re.findall(r'name="(heading-\d+)" value="([^"]*)"', html))
    form = {"upload_token": token, "remap": "Preview again with these columns"}
    for key, heading in headings.items():
        form[key] = htmllib.unescape(heading)
        column = key.replace("heading", "column")
        chosen = re.search(rf'name="{column}">.*?<option value="(\w+)" selected', html, re.S).group(
            1
        )
        form[column] = {"Expected impact": "target"}.get(form[key], chosen)
    r = client.post(url, data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Fewer missed developmental checks" not in html  # not shown
    assert re.search(r'<option value="target" selected>Targets and measures</option>', html)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0
    form.pop("remap")
    r = client.post(url, data={**form, "confirm": "Import the plan"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "committee=safer-rotherham-partnership" in r.headers["Location"]
    actions = _actions(s["c"])
    assert actions["Every child has a named health visitor from birth"].target_measure == (
        "Fewer missed developmental checks"
    )
    # The tracker groups the committee's plan by theme.
    tracker = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Actions by theme, then by due date" in tracker
    living = tracker.index('scope="rowgroup" colspan="5" class="govuk-table__header">Living well')
    starting = tracker.index(">Starting well<")
    # Themes in their alphabetical order (the keyset cursor's), due order within each.
    assert living < tracker.index("Agree a joint suicide prevention plan") < starting
    assert starting < tracker.index("Reduce smoking in pregnancy")
    # The action's page shows its theme, its objective, its targets and its other leads.
    smoking = actions["Reduce smoking in pregnancy"]
    shown = client.get(f"/actions/{smoking.id}").get_data(as_text=True)
    for text in ("Theme", "Starting well", "Also leading", "Dr Richard Cullen"):
        assert text in shown
    assert "Targets and measures" in shown and "Smoking at delivery below 18%" in shown


def test_the_page_shows_rows_in_error_and_offers_no_import(client, db, s, sign_in):
    sign_in(s["clerk"])
    url = f"/actions/import/{s['c'].slug}"
    bad = srp_plan([*SRP_ROWS, ["", "1.1", "Again", "Sue Wilson", "", "", "purple"]])
    r = client.post(
        url,
        data={"file": (BytesIO(bad.data), bad.filename), "preview": "Preview"},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Reference 1.1 is also on row 3" in html and "Import the plan" not in html
    # A token for another committee's preview, or a forged one, is refused.
    r = client.post(url, data={"upload_token": "forged", "confirm": "Import the plan"})
    assert r.status_code == 400 and "The previewed file has expired" in r.get_data(as_text=True)
    r = client.post(
        url,
        data={"file": (BytesIO(b""), "empty.csv"), "preview": "Preview"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "Choose a CSV or XLSX file" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_the_tracker_pages_a_themed_plan_by_theme_every_action_once(db, f, s):
    from app.actions.services import create_action, tracker_page

    owner = s["sue"]
    made = []
    for n in range(7):
        theme = [None, "B theme", "A theme"][n % 3]
        made.append(
            create_action(s["c"], f"Action {n}", owner.id, date(2016, 1, 7 - n), theme=theme)
        )
    db.session.commit()
    seen, after, pages = [], None, 0
    while True:
        page = tracker_page(s["clerk"], after, per_page=2, committee_id=s["c"].id)
        assert page.by_theme
        seen += page.actions
        pages += 1
        if not page.next_after:
            break
        after = page.next_after
    assert pages == 4 and len(seen) == 7 and len(set(seen)) == 7
    assert [a.theme for a in seen] == ["A theme"] * 2 + ["B theme"] * 2 + [None] * 3
    assert [a.due_date for a in seen[:2]] == sorted(a.due_date for a in seen[:2])
    # Without one committee, the tracker stays in due order.
    assert not tracker_page(s["clerk"]).by_theme


def test_the_preview_the_themed_tracker_and_the_action_page_are_valid_html(
    client, db, s, sign_in, tmp_path
):
    from tests.web.test_html_validity import _checker, vnu_messages

    _checker()  # skip (or, in CI, fail) before building anything when there is no checker
    sign_in(s["clerk"])
    url = f"/actions/import/{s['c'].slug}"
    bad = srp_plan([*SRP_ROWS, ["", "1.1", "Again", "Sue Wilson", "", "", "purple"]])
    pages = {}
    for name, upload in (("preview", hwb_plan()), ("errors", bad)):
        pages[name] = client.post(
            url,
            data={"file": (BytesIO(upload.data), upload.filename), "preview": "Preview"},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
    result = plan.import_plan(s["c"], srp_plan(), s["clerk"])
    db.session.commit()
    pages["tracker"] = client.get(f"/actions/?committee={s['c'].slug}").get_data(as_text=True)
    pages["action"] = client.get(f"/actions/{result.created[0].id}").get_data(as_text=True)
    assert "Actions by theme" in pages["tracker"] and "Also leading" in pages["action"]
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html)
    messages = vnu_messages(tmp_path.glob("*.html"))
    assert not [m for m in messages if m.get("type") == "error"], messages
