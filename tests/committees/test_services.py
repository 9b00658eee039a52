from datetime import date, time

import pytest
from sqlalchemy import func, select

from app.committees import services
from app.core.errors import ValidationError
from app.models import Committee, Membership, MembershipRole, Person, Regime


def test_slug_from_name():
    assert services.slugify("Children, Young People and Families Partnership") == (
        "children-young-people-and-families-partnership"
    )
    assert services.slugify("Planning & Licensing") == "planning-and-licensing"
    assert services.slugify("Children\u2019s Services") == "childrens-services"


def test_create_committee_with_settings(db):
    c = services.create_committee(
        name="Audit Committee",
        regime="parish",
        quorum="1/3",
        default_start_time="14:00",
        first_minute_number=208,
        clerk_email="Clerk@Example.org",
    )
    assert c.slug == "audit-committee" and c.regime == Regime.PARISH
    assert c.quorum_fraction == "1/3" and c.quorum_for(10) == 4
    assert c.default_start_time == time(14, 0)
    assert c.clerk_email == "Clerk@example.org"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "slug": "Bad Slug"}, "slug"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X", "regime": "federal"}, "regime"),
        ({"name": "X", "first_minute_number": 0}, "first_minute_number"),
        ({"name": "X", "quorum": "half"}, "quorum"),
        ({"name": "X", "quorum": "3/2"}, "quorum"),
        ({"name": "X", "clerk_email": "nope"}, "clerk_email"),
        ({"name": "X", "default_start_time": "25:00"}, "default_start_time"),
    ],
)
def test_bad_committee_fields_named(db, fields, field):
    with pytest.raises(ValidationError) as info:
        services.create_committee(**fields)
    assert field in info.value.errors


def test_duplicate_committee_name_is_a_validation_error(db):
    services.create_committee(name="Audit Committee")
    with pytest.raises(ValidationError) as info:
        services.create_committee(name="Audit Committee", slug="audit-2")
    assert "name" in info.value.errors
    db.session.commit()  # the transaction is still usable
    assert db.session.scalar(select(func.count()).select_from(Committee)) == 1


def test_memberships_add_change_end(db, f):
    c, p = f.committee(), f.person("Councillor Lakin")
    m = services.add_membership(c, p, "Chair", start_date=date(2013, 5, 1))
    assert m.role == MembershipRole.CHAIR
    with pytest.raises(ValidationError):
        services.add_membership(c, p, "member")
    with pytest.raises(ValidationError):
        services.add_membership(c, f.person(), "emperor")
    services.update_membership(m, role="vice-chair")
    assert m.role == MembershipRole.VICE_CHAIR
    with pytest.raises(ValidationError):
        services.end_membership(m, date(2013, 4, 1))
    services.end_membership(m, date(2014, 5, 1))
    assert not c.has_member(p.id, date(2014, 6, 1))
    # After the end, the same person can join again.
    services.add_membership(c, p, "member", start_date=date(2015, 1, 1))


GOOD_CSV = """name,honorific,job_title,organisation,email,role,start_date
Lakin,Councillor,,Rotherham MBC,lakin@example.org,chair,2013-05-01
Sue Wilson,,Performance and Quality Manager,Rotherham MBC,,member,01/05/2013
Sara Graham,,,Voluntary Action Rotherham,sara@example.org,co-opted,
"""


def test_csv_preview_then_import(db, f):
    c = f.committee()
    existing = f.person("Sue Wilson")
    preview = services.preview_import(c, GOOD_CSV.encode("utf-8-sig"))
    assert preview.ok, [r.errors for r in preview.rows]
    assert [r.creates_person for r in preview.rows] == [True, False, True]
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0
    services.apply_import(c, GOOD_CSV)
    roles = {m.person.name: m.role for m in c.memberships}
    assert roles == {
        "Lakin": MembershipRole.CHAIR,
        "Sue Wilson": MembershipRole.MEMBER,
        "Sara Graham": MembershipRole.CO_OPTED,
    }
    assert next(m for m in c.memberships if m.person_id == existing.id).start_date == date(
        2013, 5, 1
    )


def test_csv_with_a_bad_row_imports_nothing(db, f):
    c = f.committee()
    bad = GOOD_CSV + "Joyce Thacker,,,,not-an-email,overlord,2013-13-01\n"
    preview = services.preview_import(c, bad)
    assert not preview.ok
    bad_row = preview.rows[-1]
    assert bad_row.line == 5
    assert any("email" in e for e in bad_row.errors)
    assert any("Role" in e for e in bad_row.errors)
    assert any("not a date" in e for e in bad_row.errors)
    people_before = db.session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(ValidationError) as info:
        services.apply_import(c, bad)
    assert "line 5" in info.value.errors
    assert db.session.scalar(select(func.count()).select_from(Person)) == people_before
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        ("email,role\nx@example.org,member\n", "needs the column"),
        ("name,role,shoe_size\nA,member,9\n", "Unknown column"),
        ("name,role\n", "no rows"),
    ],
)
def test_csv_file_level_problems(db, f, data, message):
    preview = services.preview_import(f.committee(), data)
    assert not preview.ok
    assert message in " ".join(preview.errors)


def test_csv_duplicate_rows_and_existing_members(db, f):
    c = f.committee()
    p = f.person("Lakin")
    f.membership(c, p)
    preview = services.preview_import(
        c, "name,role\nSue Wilson,member\nsue wilson,member\nLakin,chair\n"
    )
    assert "Same person as line 2." in preview.rows[1].errors
    assert "Lakin is already a member." in preview.rows[2].errors


def test_agenda_template_from_the_clerks_lines(db):
    c = services.create_committee(
        name="Audit Committee",
        agenda_template="Apologies: Apologies for absence\n\n"
        "previous minutes:  Minutes of the last meeting \n"
        "Business: Budget monitoring | For Decision\n"
        "Annual report\n"
        "AOB: Any other business",
    )
    assert c.agenda_template == [
        {"kind": "apologies", "title": "Apologies for absence", "section": None},
        {"kind": "previous_minutes", "title": "Minutes of the last meeting", "section": None},
        {"kind": "business", "title": "Budget monitoring", "section": "For Decision"},
        {"kind": "business", "title": "Annual report", "section": None},
        {"kind": "aob", "title": "Any other business", "section": None},
    ]
    text = services.agenda_template_as_text(c.agenda_template)
    assert text.splitlines()[2] == "business: Budget monitoring | For Decision"
    services.update_committee(c, agenda_template=services.agenda_template_from_text(text))
    assert len(c.agenda_template) == 5


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("apologies: Apologies\nparty: Summer party", "Line 2: 'party' is not a kind"),
        ("exclusion: Exclusion of the press", "'exclusion' is not a kind"),
        ("apologies:   ", "Line 1: enter a title"),
        ([{"kind": "business"}], "Item 1: enter a title."),
        ([{"kind": "business", "title": "  "}], "Item 1: enter a title."),
        ([{"title": "X" * 501}], "Item 1: titles can be at most 500 characters."),
        ([{"title": "A"}, "B"], "Item 2: give a kind and a title."),
        ([{"title": "A"}] * 31, "at most 30 standard items"),
    ],
)
def test_bad_agenda_templates_are_refused_and_nothing_changes(db, template, message):
    c = services.create_committee(name="Audit Committee")
    db.session.commit()
    before = list(c.agenda_template)
    assert len(before) == 6
    with pytest.raises(ValidationError) as info:
        services.update_committee(c, agenda_template=template)
    assert message in info.value.errors["agenda_template"][0]
    db.session.rollback()
    assert db.session.scalar(select(Committee)).agenda_template == before


def test_a_stored_template_without_titles_is_a_clear_conflict(db, f):
    from app.agenda import services as agenda
    from app.core.errors import Conflict

    c = f.committee(agenda_template=[{"kind": "apologies"}])
    m = f.meeting(c)
    with pytest.raises(Conflict) as info:
        agenda.apply_template(m)
    assert "Item 1: enter a title" in info.value.detail and m.items == []


@pytest.mark.parametrize(
    "csv",
    [
        # The brief's case: one line with an address, one without: nothing tells them apart.
        "name,role,email\nSue Wilson,member,sue@example.org\nSue Wilson,vice_chair,\n",
        "name,role,email\nSue Wilson,member,\nsue  WILSON,member,sue@example.org\n",
        "name,role,email\nSue Wilson,member,\nSue Wilson,member,\n",
        "name,role,email\nSue Wilson,member,sue@example.org\nS. Wilson,member,SUE@example.org\n",
    ],
)
def test_csv_same_person_twice_in_one_file_is_refused(db, f, csv):
    c = f.committee()
    preview = services.preview_import(c, csv)
    assert not preview.ok and preview.rows[0].errors == []
    assert preview.rows[1].errors[0].startswith("Same person as line 2")
    with pytest.raises(ValidationError) as info:
        services.apply_import(c, csv)
    assert "line 3" in info.value.errors
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_csv_two_people_of_one_name_with_their_own_addresses(db, f):
    c = f.committee()
    csv = "name,role,email\nJohn Smith,member,john@a.example\nJohn Smith,officer,john@b.example\n"
    preview = services.apply_import(c, csv)
    assert preview.ok and [r.creates_person for r in preview.rows] == [True, True]
    emails = sorted(p.email for p in db.session.scalars(select(Person)))
    assert emails == ["john@a.example", "john@b.example"]
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 2
