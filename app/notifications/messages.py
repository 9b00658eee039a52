"""The messages themselves: who is told what when an agenda is published, apologies are
sent or an action is assigned. Each receiver runs inside the sender's transaction and queues
one message per recipient, worded for what that recipient may see (the models' predicates,
asked with a PersonReader for the recipient)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from app.actions import signals as action_signals
from app.actions.models import Action
from app.agenda import revisions
from app.agenda import signals as agenda_signals
from app.auth.models import User
from app.committees.models import Committee, MembershipRole
from app.core.permissions import Role
from app.core.web import format_local_date, format_local_datetime
from app.extensions import db
from app.meetings import signals as meeting_signals
from app.meetings.models import MEMBERS_PACK, AgendaPublication, Attendance, Meeting
from app.minutes import signals as minute_signals
from app.minutes.models import Minute
from app.notifications import owner_links, subscriptions
from app.notifications.models import Kind, Message
from app.notifications.preferences import preferences_url, wants
from app.notifications.services import PersonReader, link, queue, sender_for
from app.people.models import Person

# Told of each publication: the committee's people who take part, not its observers.
AGENDA_ROLES = (
    MembershipRole.CHAIR,
    MembershipRole.VICE_CHAIR,
    MembershipRole.MEMBER,
    MembershipRole.CO_OPTED,
    MembershipRole.SUBSTITUTE,
    MembershipRole.OFFICER,
)


@dataclass
class Recipient:
    email: str
    name: str | None
    person_id: int | None = None


def render(name: str, **context) -> tuple[str, str]:
    """The plain-text and HTML parts of a message from its pair of templates."""
    env = current_app.jinja_env
    context.setdefault("site_name", current_app.config.get("SITE_NAME", "Minutebook"))
    context.setdefault("link_days", owner_links.lifetime().days)
    text = env.get_template(f"notifications/{name}.txt").render(**context)
    html = env.get_template(f"notifications/{name}.html").render(**context)
    return text.strip() + "\n", html


def _unique(recipients) -> list[Recipient]:
    seen: set[str] = set()
    out = []
    for r in recipients:
        email = (r.email or "").strip()
        if not email or email.lower() in seen:
            continue
        seen.add(email.lower())
        out.append(Recipient(email, r.name, r.person_id))
    return out


def agenda_recipients(committee: Committee) -> list[Recipient]:
    """The committee's current members, substitutes and officers who have an e-mail address,
    each once."""
    people = [m.person for m in committee.current_memberships() if m.role in AGENDA_ROLES]
    return _unique(Recipient(p.email, p.display_name, p.id) for p in people if p.email)


def clerk_recipients(committee: Committee) -> list[Recipient]:
    """The committee's clerk, as its page names them; failing that every active clerk, so the
    message reaches someone who can act on it."""
    if committee.clerk_email:
        return _unique([Recipient(committee.clerk_email, committee.clerk_name)])
    clerks = db.session.scalars(
        select(User).where(User.role == Role.CLERK, User.active.is_(True)).order_by(User.id)
    )
    return _unique(Recipient(u.email, u.name, u.person_id) for u in clerks)


# --- the agenda and its supplements -----------------------------------------------------


@dataclass
class AgendaView:
    """The agenda as one reader may see it in a message."""

    rows: list[dict] = field(default_factory=list)
    pack_url: str = ""
    members_pack: bool = False
    changes: list[str] = field(default_factory=list)
    changes_withheld: bool = False


def agenda_view(meeting: Meeting, publication: AgendaPublication, reader) -> AgendaView:
    view = AgendaView()
    restricted_words: list[str] = []
    # The revision this message announces, as published (not the working copy since).
    for item, number in revisions.published(meeting, publication.revision).numbered_items():
        may_see = item.can_see_papers(reader)
        if item.restricted and not may_see:
            # A message travels further than the page: business not for publication is
            # named only to those who may read its papers.
            restricted_words.append(item.title)
            restricted_words.extend(d.title for d in item.documents)
            view.rows.append({"number": number, "title": None, "restricted": True, "papers": []})
            continue
        papers = []
        for d in item.documents:
            if d.can_view(reader):
                papers.append({"title": d.title, "restricted": d.restricted})
            else:
                restricted_words.append(d.title)
        view.rows.append(
            {"number": number, "title": item.title, "restricted": item.restricted, "papers": papers}
        )
    # The version of the pack this reader is offered everywhere, of the revision announced.
    variant = meeting.pack_variant_for(reader)
    view.members_pack = variant == MEMBERS_PACK
    args = {"variant": MEMBERS_PACK} if view.members_pack else {}
    view.pack_url = link("packs.pack", meeting_id=meeting.id, revision=publication.revision, **args)
    if publication.revision > 1 and publication.summary:
        for line in publication.summary.splitlines():
            if not line.strip():
                continue
            if any(word and word in line for word in restricted_words):
                view.changes_withheld = True
            else:
                view.changes.append(line)
    return view


def agenda_message(meeting: Meeting, publication: AgendaPublication, reader, **links) -> dict:
    """Subject and parts of the publication message as `reader` may see it (reader None: the
    public, as a subscriber is sent it). `links` are the recipient's own: preferences_url, or
    a subscriber's manage_url and unsubscribe_url."""
    committee = meeting.committee
    when = format_local_datetime(meeting.starts_at, meeting.timezone)
    day = format_local_date(meeting.starts_at, meeting.timezone)
    if publication.revision == 1:
        subject = f"Agenda published: {meeting.display_title}, {day}"
    else:
        subject = (
            f"Agenda revised (revision {publication.revision}): {meeting.display_title}, {day}"
        )
    context = {
        "subject": subject,
        "meeting": meeting,
        "committee": committee,
        "publication": publication,
        "when": when,
        "meeting_url": link("meetings.show", meeting_id=meeting.id),
        "view": agenda_view(meeting, publication, reader),
        **links,
    }
    text, html = render("agenda", **context)
    return {"subject": subject, "body_text": text, "body_html": html}


@agenda_signals.agenda_published.connect
def _agenda_published(meeting: Meeting, *, publication: AgendaPublication, **_kw) -> None:
    sender = sender_for(meeting.committee.name)
    told: set[str] = set()
    for r in agenda_recipients(meeting.committee):
        if not wants(r.person_id, Kind.AGENDA):
            continue
        told.add(r.email.lower())
        queue(
            key=f"agenda:{meeting.id}:r{publication.revision}:p{r.person_id}",
            kind="agenda_published",
            recipient=r.email,
            recipient_name=r.name,
            person_id=r.person_id,
            sender=sender,
            **agenda_message(
                meeting,
                publication,
                PersonReader(r.person_id),
                preferences_url=preferences_url(r.person_id),
            ),
        )
    # Subscribers are sent what the public may see, however else they are known: the
    # address alone is all that was confirmed. A member already sent their own is not sent
    # the public one too.
    for subscription in subscriptions.confirmed_subscriptions(meeting.committee):
        if not wants(subscription, Kind.AGENDA) or subscription.email in told:
            continue
        unsubscribe = subscriptions.unsubscribe_url(subscription)
        queue(
            key=f"agenda:{meeting.id}:r{publication.revision}:s{subscription.id}",
            kind="agenda_published",
            recipient=subscription.email,
            subscription_id=subscription.id,
            unsubscribe_url=unsubscribe,
            sender=sender,
            **agenda_message(
                meeting,
                publication,
                None,
                manage_url=subscriptions.manage_url(subscription),
                unsubscribe_url=unsubscribe,
            ),
        )


# --- apologies ---------------------------------------------------------------------------


@meeting_signals.apologies_sent.connect
def _apologies_sent(meeting: Meeting, *, attendance: Attendance, user=None, **_kw) -> None:
    person: Person = attendance.person
    committee = meeting.committee
    day = format_local_date(meeting.starts_at, meeting.timezone)
    stamp = attendance.apologies_sent_at.strftime("%Y%m%dT%H%M%S%f")
    context = {
        "meeting": meeting,
        "committee": committee,
        "person": person,
        "note": attendance.note,
        "when": format_local_datetime(meeting.starts_at, meeting.timezone),
        "meeting_url": link("meetings.show", meeting_id=meeting.id),
    }
    sender = sender_for(committee.name)
    own = (person.email or getattr(user, "email", None) or "").strip()
    subject = f"Apologies from {person.display_name}: {meeting.display_title}, {day}"
    for r in clerk_recipients(committee):
        if own and r.email.lower() == own.lower():
            continue  # the acknowledgement below tells them
        if not wants(r.person_id, "apologies_received"):
            continue
        text, html = render(
            "apologies_clerk",
            subject=subject,
            preferences_url=preferences_url(r.person_id),
            **context,
        )
        queue(
            key=f"apologies:{attendance.id}:{stamp}:to:{r.email.lower()}",
            kind="apologies_received",
            recipient=r.email,
            recipient_name=r.name,
            person_id=r.person_id,
            sender=sender,
            subject=subject,
            body_text=text,
            body_html=html,
        )
    if own and wants(person, "apologies_acknowledged"):
        subject = f"Your apologies are received: {meeting.display_title}, {day}"
        text, html = render(
            "apologies_ack", subject=subject, preferences_url=preferences_url(person.id), **context
        )
        queue(
            key=f"apologies:{attendance.id}:{stamp}:ack",
            kind="apologies_acknowledged",
            recipient=own,
            recipient_name=person.display_name,
            person_id=person.id,
            sender=sender,
            subject=subject,
            body_text=text,
            body_html=html,
        )


# --- actions -----------------------------------------------------------------------------


@action_signals.action_assigned.connect
def _action_assigned(action: Action, *, user=None, **_kw) -> None:
    owner = action.owner
    if owner is not None:
        # A link sent to a previous owner reports for them no longer.
        owner_links.revoke_links(action, user, keep_person_id=owner.id)
    if owner is None or not owner.email or action.status.closed:
        return
    if not action.can_view(PersonReader(owner.id)) or not wants(owner, "action_assigned"):
        return
    key = f"action:{action.id}:v{action.version}:owner:{owner.id}"
    if db.session.scalar(select(Message.id).where(Message.key == key)) is not None:
        return
    subject = f"Action for you: {action.title}"
    text, html = render(
        "action_assigned",
        subject=subject,
        action=action,
        owner=owner,
        committee=action.committee,
        due=format_local_date(action.due_date) if action.due_date else None,
        action_url=link("actions.show", action_id=action.id),
        update_url=owner_links.make_link(action),
        preferences_url=preferences_url(owner.id),
    )
    queue(
        key=key,
        kind="action_assigned",
        recipient=owner.email,
        recipient_name=owner.display_name,
        person_id=owner.id,
        sender=sender_for(action.committee.name),
        subject=subject,
        body_text=text,
        body_html=html,
    )


# --- draft minutes -----------------------------------------------------------------------


def minutes_rows(meeting: Meeting, reader) -> list[dict]:
    """The minutes' headings as `reader` may see them: a minute of business not for
    publication is named only to those who may read it, and nothing is listed to one who may
    not read the draft at all."""
    if not meeting.can_see_minutes(reader):
        return []
    rows = []
    minutes = db.session.scalars(
        select(Minute).where(Minute.meeting_id == meeting.id).order_by(Minute.number)
    )
    for minute in minutes:
        if minute.can_view(reader):
            rows.append(
                {
                    "number": minute.display_number,
                    "title": minute.title,
                    "restricted": minute.restricted,
                }
            )
        else:
            rows.append({"number": minute.display_number, "title": None, "restricted": True})
    return rows


def minutes_message(meeting: Meeting, reader, **links) -> dict:
    day = format_local_date(meeting.starts_at, meeting.timezone)
    subject = f"Draft minutes circulated: {meeting.display_title}, {day}"
    text, html = render(
        "minutes_published",
        subject=subject,
        meeting=meeting,
        committee=meeting.committee,
        when=format_local_datetime(meeting.starts_at, meeting.timezone),
        meeting_url=link("meetings.show", meeting_id=meeting.id),
        rows=minutes_rows(meeting, reader),
        **links,
    )
    return {"subject": subject, "body_text": text, "body_html": html}


@minute_signals.minutes_published.connect
def _minutes_published(meeting: Meeting, **_kw) -> None:
    sender = sender_for(meeting.committee.name)
    stamp = meeting.minutes_published_at.strftime("%Y%m%dT%H%M%S%f")
    for r in agenda_recipients(meeting.committee):
        if not wants(r.person_id, Kind.MINUTES):
            continue
        queue(
            key=f"minutes:{meeting.id}:{stamp}:p{r.person_id}",
            kind="minutes_published",
            recipient=r.email,
            recipient_name=r.name,
            person_id=r.person_id,
            sender=sender,
            **minutes_message(
                meeting, PersonReader(r.person_id), preferences_url=preferences_url(r.person_id)
            ),
        )
