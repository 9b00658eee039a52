"""Who is told what, through the real services and a real SMTP server: the agenda and each
supplement to the committee's members, substitutes and officers with an address (worded for
what each may see), apologies to the clerk with an acknowledgement to the sender, an action
to its owner."""

from __future__ import annotations

from datetime import date

from app.actions import services as actions
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.models import Visibility
from app.committees.models import MembershipRole
from app.core.permissions import Role
from app.meetings import attendance
from app.notifications import services
from app.notifications.messages import agenda_message
from app.notifications.models import Message


def _committee(f):
    committee = f.committee(
        "Children's Partnership", clerk_name="Jo Clerk", clerk_email="jo@example.org"
    )
    people = {}
    for name, role, extra in [
        ("Sue Member", MembershipRole.MEMBER, {}),
        ("Cllr Chair", MembershipRole.CHAIR, {}),
        ("Sam Substitute", MembershipRole.SUBSTITUTE, {}),
        ("Olive Officer", MembershipRole.OFFICER, {}),
        ("Obi Observer", MembershipRole.OBSERVER, {}),
        (
            "Former Member",
            MembershipRole.MEMBER,
            {"end_date": date(2020, 1, 1)},
        ),
    ]:
        person = f.person(name, email=f"{name.split()[0].lower()}@example.org")
        f.membership(committee, person, role, **extra)
        people[name] = person
    no_address = f.person("Nia Noaddress")
    f.membership(committee, no_address, MembershipRole.MEMBER)
    people["Nia Noaddress"] = no_address
    return committee, people


def _meeting(f, committee):
    meeting = f.meeting(committee, venue="Town Hall")
    public = f.item(meeting, "Budget monitoring")
    f.document(public, "Budget report")
    exempt = f.exempt_item(meeting, "Chief officer disciplinary case")
    f.document(
        exempt,
        "Investigation report",
        visibility=Visibility.EXEMPT,
        public_interest_reason="The public interest lies in withholding it.",
    )
    return meeting


def test_the_agenda_goes_to_members_substitutes_and_officers_once(db, f, smtp):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    publication = agenda_publication.publish_agenda(meeting)
    db.session.commit()
    assert services.send_due(db.session) == 4
    assert smtp.recipients == [
        "cllr@example.org",
        "olive@example.org",
        "sam@example.org",
        "sue@example.org",
    ]
    sue = smtp.to("sue@example.org")[0]
    assert sue["From"] == "Children's Partnership <clerks@example.org>"
    assert sue["Subject"].startswith("Agenda published: Children's Partnership, ")
    plain = sue.get_body(("plain",)).get_content()
    html = sue.get_body(("html",)).get_content()
    # Members may read the business not for publication, and are sent the members' pack.
    for part in (plain, html):
        assert f"/meetings/{meeting.id}/" in part
        assert f"/meetings/{meeting.id}/pack.pdf?revision=1&variant=members" in part.replace(
            "&amp;", "&"
        )
        assert "Chief officer disciplinary case" in part
        assert "Investigation report" in part
        assert "Budget report" in part
    assert 'lang="en-GB"' in html
    assert plain.startswith("Agenda published")

    # Publishing again is a new revision; the first one's messages are never sent again.
    assert services.send_due(db.session) == 0
    assert db.session.query(Message).count() == 4
    assert publication.revision == 1


def test_a_message_to_someone_who_may_not_see_exempt_business_never_names_it(db, f, smtp):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    publication = agenda_publication.publish_agenda(meeting)
    outsider = f.person("Pat Public", email="pat@example.org")
    for reader in (None, services.PersonReader(outsider.id)):
        message = agenda_message(meeting, publication, reader)
        for part in (message["body_text"], message["body_html"], message["subject"]):
            assert "Chief officer disciplinary case" not in part
            assert "Investigation report" not in part
            assert "variant=members" not in part
        assert "Budget monitoring" in message["body_text"]
        assert "Budget report" in message["body_text"]
        assert "Business not for publication" in message["body_text"]
        assert f"/meetings/{meeting.id}/pack.pdf" in message["body_text"]


def test_each_supplement_is_sent_and_says_what_changed(db, f, smtp):
    committee, _people = _committee(f)
    meeting = _meeting(f, committee)
    agenda_publication.publish_agenda(meeting)
    db.session.commit()
    services.send_due(db.session)
    smtp.envelopes.clear()

    agenda.add_item(meeting, title="Youth services review")
    agenda.add_item(
        meeting,
        title="Property acquisition terms",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason="Disclosure would prejudice the negotiation.",
    )
    supplement = agenda_publication.publish_agenda(meeting)
    db.session.commit()
    assert supplement.revision == 2
    assert services.send_due(db.session) == 4
    sue = smtp.to("sue@example.org")[0]
    assert "revision 2" in sue["Subject"]
    plain = sue.get_body(("plain",)).get_content()
    assert "Youth services review" in plain
    assert "Property acquisition terms" in plain

    public = agenda_message(meeting, supplement, None)["body_text"]
    assert "Youth services review" in public
    assert "Property acquisition terms" not in public
    assert "Changes to business not for publication." in public


def test_apologies_reach_the_clerk_and_are_acknowledged(db, f, smtp):
    committee, people = _committee(f)
    meeting = _meeting(f, committee)
    user = f.user(Role.MEMBER, email="sue.account@example.org", person=people["Sue Member"])
    attendance.send_apologies(meeting, user, "On leave that week.")
    db.session.commit()
    assert services.send_due(db.session) == 2
    assert smtp.recipients == ["jo@example.org", "sue@example.org"]
    clerk = smtp.to("jo@example.org")[0]
    assert clerk["Subject"].startswith("Apologies from Sue Member: ")
    assert "On leave that week." in clerk.get_body(("plain",)).get_content()
    assert "On leave that week." in clerk.get_body(("html",)).get_content()
    ack = smtp.to("sue@example.org")[0]
    assert ack["Subject"].startswith("Your apologies are received: ")
    assert ack["From"] == "Children's Partnership <clerks@example.org>"


def test_apologies_go_to_the_clerks_when_the_committee_names_none(db, f, smtp):
    committee, people = _committee(f)
    committee.clerk_email = None
    meeting = _meeting(f, committee)
    f.user(Role.CLERK, email="clerk1@example.org")
    f.user(Role.CLERK, email="gone@example.org", active=False)
    f.user(Role.ADMIN, email="admin@example.org")
    user = f.user(Role.MEMBER, person=people["Sam Substitute"])
    attendance.send_apologies(meeting, user)
    db.session.commit()
    services.send_due(db.session)
    assert smtp.recipients == ["clerk1@example.org", "sam@example.org"]


def test_an_action_is_sent_to_its_owner_when_assigned(db, f, smtp):
    committee, people = _committee(f)
    clerk = f.user(Role.CLERK)
    action = actions.create_action(
        committee, "Report on school places", people["Olive Officer"].id, user=clerk
    )
    actions.create_action(committee, "Nobody to tell", people["Nia Noaddress"].id, user=clerk)
    db.session.commit()
    assert services.send_due(db.session) == 1
    assert smtp.recipients == ["olive@example.org"]
    sent = smtp.messages[0]
    assert sent["Subject"] == "Action for you: Report on school places"
    assert f"/actions/{action.id}" in sent.get_body(("plain",)).get_content()
    assert f"/actions/{action.id}" in sent.get_body(("html",)).get_content()

    # Corrected to a new owner: the new owner is told; a correction of the title is not news.
    actions.correct_action(action, clerk, owner_id=people["Sue Member"].id)
    actions.correct_action(action, clerk, title="Report on school places in 2027")
    db.session.commit()
    assert services.send_due(db.session) == 1
    assert smtp.recipients == ["olive@example.org", "sue@example.org"]


def test_apologies_sent_from_the_page_land_in_the_outbox_after_the_request(
    db, f, outbox, client, sign_in
):
    committee, people = _committee(f)
    meeting = _meeting(f, committee)
    user = f.user(Role.MEMBER, person=people["Sue Member"])
    db.session.commit()
    sign_in(user)
    response = client.post(f"/meetings/{meeting.id}/apologies", data={"note": "Away"})
    assert response.status_code == 302
    files = sorted(p.name for p in outbox.glob("*.eml"))
    assert len(files) == 2
    assert all("apologies" in name for name in files)
