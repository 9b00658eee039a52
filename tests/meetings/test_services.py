from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.agenda import publication as agenda_publication
from app.agenda.services import add_item
from app.core.errors import Conflict, ValidationError
from app.meetings import services
from app.models import AuditEvent, MeetingStatus

LONDON = ZoneInfo("Europe/London")


def test_naive_times_mean_the_committees_timezone(db, f):
    c = f.committee(default_venue="Town Hall")
    summer = services.schedule_meeting(c, datetime(2026, 7, 15, 14, 0))
    winter = services.schedule_meeting(c, datetime(2026, 12, 16, 14, 0))
    assert summer.starts_at == datetime(2026, 7, 15, 13, 0, tzinfo=UTC)
    assert winter.starts_at == datetime(2026, 12, 16, 14, 0, tzinfo=UTC)
    assert summer.venue == "Town Hall"
    assert summer.ical_uid != winter.ical_uid


def test_schedule_refuses_end_before_start(db, f):
    with pytest.raises(ValidationError) as info:
        services.schedule_meeting(
            f.committee(), datetime(2026, 7, 15, 14), datetime(2026, 7, 15, 13)
        )
    assert "ends_at" in info.value.errors


def test_reschedule_keeps_uid_and_raises_sequence(db, f):
    m = services.schedule_meeting(
        f.committee(), datetime(2026, 7, 15, 14), datetime(2026, 7, 15, 16), venue="Town Hall"
    )
    uid, seq = m.ical_uid, m.ical_sequence
    assert services.reschedule(m, starts_at=datetime(2026, 7, 22, 14, tzinfo=LONDON))
    assert m.ical_uid == uid and m.ical_sequence == seq + 1
    assert m.local_end.hour == 16  # length kept
    assert not services.reschedule(m, venue="Town Hall")  # nothing changed, no new sequence
    assert m.ical_sequence == seq + 1
    assert services.reschedule(m, venue="Committee Room 1")
    assert m.ical_sequence == seq + 2
    assert db.session.query(AuditEvent).filter_by(verb="meeting_rescheduled").count() == 2


def test_cancel_needs_reason_keeps_meeting_and_raises_sequence(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    with pytest.raises(ValidationError):
        services.set_status(m, MeetingStatus.CANCELLED, "  ")
    services.set_status(m, "cancelled", "Insufficient business")
    assert m.status == MeetingStatus.CANCELLED and m.ical_sequence == 1
    db.session.commit()
    with pytest.raises(Conflict):
        services.reschedule(m, venue="Elsewhere")
    with pytest.raises(ValidationError):
        services.set_status(m, "abandoned")


def test_stale_version_is_a_conflict(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    version = m.version
    services.reschedule(m, venue="Room 2", expected_version=version)
    with pytest.raises(Conflict) as info:
        services.reschedule(m, venue="Room 3", expected_version=version)
    assert info.value.status == 409
    assert m.venue == "Room 2"


def test_series_third_wednesday_every_second_month(db, f):
    from datetime import date, time

    c = f.committee(default_venue="Town Hall")
    rule = services.SeriesRule(
        first=date(2026, 1, 1),
        until=date(2026, 12, 31),
        weekday=2,
        at=time(14, 0),
        every=2,
        unit="months",
        nth=3,
    )
    starts = services.series_dates(rule, "Europe/London")
    assert [s.date() for s in starts] == [
        date(2026, 1, 21),
        date(2026, 3, 18),
        date(2026, 5, 20),
        date(2026, 7, 15),
        date(2026, 9, 16),
        date(2026, 11, 18),
    ]
    assert {s.hour for s in starts} == {14}  # local time, both sides of the clock change
    assert {s.utcoffset().total_seconds() for s in starts} == {0, 3600}
    created = services.schedule_series(c, rule)
    assert len(created) == 6 and all(m.venue == "Town Hall" for m in created)
    # Running it again creates no duplicates.
    assert services.schedule_series(c, rule) == []


def test_series_every_two_weeks_and_validation(db, f):
    from datetime import date, time

    rule = services.SeriesRule(
        first=date(2026, 3, 2),
        until=date(2026, 4, 30),
        weekday=0,
        at=time(18, 30),
        every=2,
        unit="weeks",
    )
    assert [s.day for s in services.series_dates(rule, "Europe/London")] == [2, 16, 30, 13, 27]
    bad = services.SeriesRule(
        first=date(2026, 3, 2),
        until=date(2026, 1, 1),
        weekday=9,
        at=time(18),
        every=0,
        unit="fortnights",
    )
    with pytest.raises(ValidationError) as info:
        services.series_dates(bad, "Europe/London")
    assert {"until", "weekday", "every", "unit"} <= set(info.value.errors)
    empty = services.SeriesRule(
        first=date(2026, 3, 3), until=date(2026, 3, 8), weekday=0, at=time(18), unit="weeks"
    )
    with pytest.raises(ValidationError) as info:
        services.series_dates(empty, "Europe/London")
    assert "no dates" in info.value.detail
    huge = services.SeriesRule(
        first=date(2026, 1, 1), until=date(2036, 1, 1), weekday=0, at=time(18), unit="weeks"
    )
    with pytest.raises(ValidationError):
        services.series_dates(huge, "Europe/London")


def test_publish_on_time_late_and_supplements(db, f):
    from app.models import AgendaState, Regime

    c = f.committee(regime=Regime.PRINCIPAL)
    m = services.schedule_meeting(c, datetime(2013, 7, 17, 14, 0))
    with pytest.raises(ValidationError):
        agenda_publication.publish_agenda(
            m, now=datetime(2013, 7, 1, 9, tzinfo=UTC)
        )  # empty agenda
    f.item(m, "Apologies")
    on_time = agenda_publication.publish_agenda(m, now=datetime(2013, 7, 9, 9, tzinfo=UTC))
    assert on_time.revision == 1 and not on_time.late
    assert on_time.deadline == datetime(2013, 7, 9, 23, tzinfo=UTC)  # midnight BST
    assert m.agenda_state == AgendaState.PUBLISHED and m.agenda_published_at is not None
    with pytest.raises(Conflict) as info:
        agenda_publication.publish_agenda(m, now=datetime(2013, 7, 12, 9, tzinfo=UTC))
    assert info.value.detail.startswith("Nothing has changed since revision 1")
    assert m.agenda_revision == 1 and len(m.publications) == 1
    add_item(m, title="Flood report", urgent=True, urgent_reason="Flooding on 10 July")
    supplement = agenda_publication.publish_agenda(
        m,
        late_reason="The storm came after the deadline.",
        summary="The report follows the storm.",
        now=datetime(2013, 7, 12, 9, tzinfo=UTC),
    )
    assert supplement.summary == "Added urgent item 2: Flood report\nThe report follows the storm."
    assert supplement.revision == 2 and supplement.late
    assert supplement.late_reason == "The storm came after the deadline."
    assert m.agenda_revision == 2
    assert m.agenda_published_at == datetime(2013, 7, 9, 9, tzinfo=UTC)  # first publication


def test_late_first_publication_needs_a_reason(db, f):
    from app.models import Regime

    m = services.schedule_meeting(f.committee(regime=Regime.PARISH), datetime(2026, 3, 16, 19))
    f.item(m, "Apologies")
    late = datetime(2026, 3, 12, 12, tzinfo=UTC)  # deadline was Wednesday 11 March
    with pytest.raises(ValidationError) as info:
        agenda_publication.publish_agenda(m, now=late)
    assert "Wednesday 11 March 2026" in info.value.detail
    publication = agenda_publication.publish_agenda(m, late_reason="Clerk was ill", now=late)
    assert publication.late and publication.late_reason == "Clerk was ill"


def test_every_late_supplement_needs_its_own_reason_never_the_change_list(db, f):
    from app.models import Regime

    m = services.schedule_meeting(f.committee(regime=Regime.PARISH), datetime(2026, 3, 16, 19))
    f.item(m, "Apologies")
    late = datetime(2026, 3, 12, 12, tzinfo=UTC)
    agenda_publication.publish_agenda(m, late_reason="Clerk was ill", now=late)
    add_item(m, title="Flood report")
    with pytest.raises(ValidationError) as info:
        agenda_publication.publish_agenda(m, summary="Added at the chair's request", now=late)
    assert info.value.errors["late_reason"][0].startswith("The deadline for publishing revision 2")
    assert m.agenda_revision == 1
    second = agenda_publication.publish_agenda(
        m, late_reason="Report came in late", summary="Added at the chair's request", now=late
    )
    add_item(m, title="Bridge closure")
    third = agenda_publication.publish_agenda(m, late_reason="Road closed on Friday", now=late)
    reasons = [p.late_reason for p in m.publications]
    assert reasons == ["Clerk was ill", "Report came in late", "Road closed on Friday"]
    assert "Flood report" in second.summary and "Flood report" not in second.late_reason
    assert "Bridge closure" in third.summary
    published = [e for e in AuditEvent.query.all() if e.verb == "agenda_published"]
    assert [(e.data["revision"], e.data["late_reason"]) for e in published] == [
        (1, "Clerk was ill"),
        (2, "Report came in late"),
        (3, "Road closed on Friday"),
    ]
    assert all(e.summary == f"Published late: {e.data['late_reason']}" for e in published)


def test_an_on_time_publication_keeps_no_late_reason(db, f):
    from app.models import Regime

    m = services.schedule_meeting(f.committee(regime=Regime.PARISH), datetime(2026, 3, 16, 19))
    f.item(m, "Apologies")
    p = agenda_publication.publish_agenda(
        m, summary="note", now=datetime(2026, 3, 2, 9, tzinfo=UTC)
    )
    assert not p.late and p.late_reason is None


def test_retitle_validates_audits_and_tells_calendars(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    seq, version = m.ical_sequence, m.version
    assert services.retitle(m, "  Budget\u202e meeting ", expected_version=version)
    assert m.title == "Budget meeting"
    assert m.ical_sequence == seq + 1 and m.version == version + 1
    event = AuditEvent.query.filter_by(verb="meeting_retitled").one()
    assert event.data["changes"] == {"title": [None, "Budget meeting"]}
    assert not services.retitle(m, "Budget meeting")  # unchanged: nothing recorded
    with pytest.raises(ValidationError) as info:
        services.retitle(m, "x" * 1000)
    assert "title" in info.value.errors
    with pytest.raises(Conflict):
        services.retitle(m, "Other", expected_version=version)
    assert services.retitle(m, "")
    assert m.title is None


def test_cancelled_meeting_cannot_be_published(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    f.item(m, "Apologies")
    services.set_status(m, "cancelled", "No business")
    with pytest.raises(Conflict):
        agenda_publication.publish_agenda(m)


def test_a_supplement_lists_what_changed_since_the_last_revision(db, f):
    import io

    from app.agenda import services as agenda
    from app.agenda.documents import add_document
    from app.models import Regime
    from tests.pdfs import make_pdf

    m = services.schedule_meeting(f.committee(regime=Regime.NONE), datetime(2026, 7, 15, 14))
    budget = add_item(m, title="Budget")
    report = add_item(m, title="Annual report")
    old = add_item(m, title="Old business")
    land = add_item(
        m,
        title="Land sale",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Negotiations continue.",
    )
    agenda_publication.publish_agenda(m)
    assert agenda_publication.unpublished_changes(m) == []
    agenda.update_item(budget, title="Budget")  # saved unchanged: not a change
    assert agenda_publication.unpublished_changes(m) == []

    agenda.update_item(budget, title="Budget 2026/27", purpose="To approve")
    agenda.update_item(report, section="For Information")
    agenda.move_item(report, -1)
    agenda.delete_item(old)
    passing = add_item(m, title="Added then removed")
    agenda.delete_item(passing)
    flood = add_item(m, title="Flood response", urgent=True, urgent_reason="Storm damage")
    add_document(flood, io.BytesIO(make_pdf(1, "map")), "map.pdf", "Flood map")
    add_document(land, io.BytesIO(make_pdf(1, "bids")), "bids.pdf", "Bids SECRETTITLE")
    numbers = {i.title: n for i, n in m.numbered_items()}
    assert (numbers["Annual report"], numbers["Budget 2026/27"], numbers["Flood response"]) == (
        "1",
        "2",
        "3",
    )
    changes = agenda_publication.unpublished_changes(m)
    assert changes == [
        "Item 1 (Annual report): section heading changed",
        "Annual report moved: now item 1",
        "Item 2 renamed from \u201cBudget\u201d to \u201cBudget 2026/27\u201d",
        "Item 2 (Budget 2026/27): purpose changed",
        "Added urgent item 3: Flood response",
        "Paper added to item 3: Flood map",
        "Paper added to item 5 (not for publication)",
        "Removed item: Old business",
    ]
    supplement = agenda_publication.publish_agenda(m, summary="Flooding on 3 July.")
    assert supplement.revision == 2
    assert supplement.summary.splitlines() == [*changes, "Flooding on 3 July."]
    assert "SECRETTITLE" not in supplement.summary
    assert agenda_publication.unpublished_changes(m) == []
    with pytest.raises(Conflict) as info:
        agenda_publication.publish_agenda(m, summary="Just a note")
    assert info.value.detail.startswith("Nothing has changed since revision 2")
    assert m.agenda_revision == 2


def test_postpone_needs_a_reason_and_rescheduling_reinstates(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    uid, seq = m.ical_uid, m.ical_sequence
    with pytest.raises(ValidationError) as info:
        services.set_status(m, "postponed", " ")
    assert "status_reason" in info.value.errors and m.status == MeetingStatus.SCHEDULED
    services.set_status(m, "postponed", "The chair is unwell", expected_version=m.version)
    assert (m.status, m.status_reason) == (MeetingStatus.POSTPONED, "The chair is unwell")
    assert m.ical_uid == uid and m.ical_sequence == seq + 1
    event = db.session.query(AuditEvent).filter_by(verb="meeting_postponed").one()
    assert event.summary == "The chair is unwell"
    # A postponed meeting keeps its identity and is scheduled again when it is given a date.
    assert services.reschedule(m, starts_at=datetime(2026, 7, 29, 14))
    assert (m.status, m.status_reason) == (MeetingStatus.SCHEDULED, None)
    assert m.ical_uid == uid and m.ical_sequence == seq + 2


def test_a_supplement_reports_a_new_date_or_venue(db, f):
    from app.models import Regime

    m = services.schedule_meeting(
        f.committee(regime=Regime.NONE), datetime(2026, 7, 15, 14), venue="Town Hall"
    )
    add_item(m, title="Budget")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    services.reschedule(m, venue="Room 2")
    services.reschedule(m, venue="Town Hall")  # and back again: nothing to publish
    assert agenda_publication.unpublished_changes(m) == []
    services.reschedule(m, starts_at=datetime(2026, 7, 22, 14), venue="Room 2")
    assert agenda_publication.unpublished_changes(m) == [
        "The meeting is now on Wednesday 22 July 2026, 2pm, Room 2"
    ]
    assert agenda_publication.publish_agenda(m).summary.startswith("The meeting is now on")


def test_a_supplement_reports_papers_removed(db, f):
    import io

    from app.agenda.documents import add_document, remove_document
    from app.models import Regime
    from tests.pdfs import make_pdf

    m = services.schedule_meeting(f.committee(regime=Regime.NONE), datetime(2026, 7, 15, 14))
    budget = add_item(m, title="Budget")
    land = add_item(
        m,
        title="Land sale",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Negotiations continue.",
    )
    public = add_document(budget, io.BytesIO(make_pdf(1)), "b.pdf", "Budget report")
    secret = add_document(land, io.BytesIO(make_pdf(1)), "v.pdf", "Valuation SECRETTITLE")
    agenda_publication.publish_agenda(m)
    passing = add_document(budget, io.BytesIO(make_pdf(1)), "x.pdf", "Uploaded by mistake")
    remove_document(passing)  # added and removed since the last revision: nothing to say
    assert agenda_publication.unpublished_changes(m) == []
    remove_document(public)
    remove_document(secret)
    assert agenda_publication.unpublished_changes(m) == [
        "Paper removed from item 1: Budget report",
        "Paper removed from item 3",  # item 2 is the exclusion of the press and public
    ]
