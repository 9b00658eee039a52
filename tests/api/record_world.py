"""A committee's record with exempt and draft material in it, and the four readers the read
tests ask as: the public, a member of the committee, a member of another committee, a clerk."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from app.actions import services as actions
from app.agenda import publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.auth.services import issue_token
from app.meetings import attendance
from app.minutes import services as minutes
from app.models import MembershipRole, Minute, Role
from tests.pdfs import make_pdf

# Words that appear only in exempt or draft material: whoever may not see that material must
# find them nowhere in what they are given.
EXEMPT = "Zanzibarcanary"
DRAFT = "Quokkadraft"
REASON = (
    "The public interest in maintaining the exemption outweighs the public interest in "
    "disclosing the information."
)
READERS = ("public", "member", "outsider", "clerk")


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def build(db, f) -> dict:
    board = f.committee("Health Board", first_minute_number=101)
    other = f.committee("Schools Forum")
    chair, member = f.person("Lakin"), f.person("Sue Wilson")
    f.membership(board, chair, MembershipRole.CHAIR)
    f.membership(board, member)
    member_user = f.user(Role.MEMBER, person=member)
    outsider = f.member_user(other)
    clerk = f.user(Role.CLERK)

    start = datetime.now(UTC).replace(microsecond=0)
    held = f.meeting(board, starts_at=start - timedelta(days=60))
    budget = agenda.add_item(held, title="Pharmacy budget")
    add_document(budget, io.BytesIO(make_pdf(2, "Budget report")), "budget.pdf", "Budget report")
    tender = add_document(
        budget,
        io.BytesIO(make_pdf(1, f"Tender {EXEMPT}")),
        "tender.pdf",
        f"Tender prices {EXEMPT}",
        visibility="exempt",
        exempt_paragraphs=[3],
        public_interest_reason=REASON,
    )
    staffing = agenda.add_item(
        held,
        title="Staffing restructure",
        visibility="exempt",
        exempt_paragraphs=[1],
        public_interest_reason=REASON,
        purpose=f"Agree the posts {EXEMPT}",
    )
    contract = add_document(
        staffing,
        io.BytesIO(make_pdf(1, f"Posts {EXEMPT}")),
        "posts.pdf",
        f"Posts {EXEMPT}",
    )
    publication.publish_agenda(held, late_reason="Recorded afterwards")
    attendance.set_attendance(held, chair, "present", in_chair=True)
    attendance.set_attendance(held, member, "present", arrived_at_item_id=budget.id)
    attendance.add_declaration(held, budget.id, chair, "non_registrable", "Governor of a school")
    attendance.add_declaration(held, staffing.id, member, "other_registrable", f"Spouse {EXEMPT}")
    minutes.draft_minutes(held)
    by_item = {m.agenda_item_id: m for m in db.session.query(Minute).filter_by(meeting_id=held.id)}
    public_minute, exempt_minute = by_item[budget.id], by_item[staffing.id]
    minutes.save_minute(public_minute, "The board **discussed** the budget.", None)
    minutes.save_minute(exempt_minute, f"The board agreed {EXEMPT} posts.", None)
    decided = minutes.add_resolution(
        public_minute,
        "That the pharmacy budget be approved.",
        named_votes=[(chair.id, "for"), (member.id, "against")],
    )
    noted = minutes.add_resolution(
        public_minute, "That progress be reported in March.", kind="noted"
    )
    secret = minutes.add_resolution(exempt_minute, f"That the {EXEMPT} posts be created.")
    action = actions.create_from_resolution(decided, "Write to the pharmacies", member.id)
    secret_action = actions.create_from_resolution(secret, f"Advertise {EXEMPT}", member.id)
    minutes.publish_minutes(held)

    # The meeting that approved them, whose own minutes are still a clerk's draft.
    later = f.meeting(board, starts_at=start - timedelta(days=30))
    previous = agenda.add_item(later, title="Minutes of the previous meeting")
    publication.publish_agenda(later, late_reason="Recorded afterwards")
    minutes.approve_minutes(
        held, later, "Subject to a correction", "Lakin", date.today() - timedelta(days=30)
    )
    (draft_minute,) = minutes.draft_minutes(later)
    assert draft_minute.agenda_item_id == previous.id
    minutes.save_minute(draft_minute, f"Approved, {DRAFT}.", None)
    draft_resolution = minutes.add_resolution(draft_minute, f"That {DRAFT} be signed.")
    attendance.set_attendance(later, chair, "present")
    attendance.add_declaration(later, previous.id, chair, "non_registrable", f"Friend {DRAFT}")

    # A meeting whose agenda is still a clerk's draft.
    coming = f.meeting(board, starts_at=start + timedelta(days=20))
    plans = agenda.add_item(coming, title=f"Plans {DRAFT}")
    draft_paper = add_document(plans, io.BytesIO(make_pdf(1, f"Plans {DRAFT}")), "plans.pdf", "P")
    db.session.commit()
    return {
        "board": board,
        "other": other,
        "chair": chair,
        "member": member,
        "held": held,
        "later": later,
        "coming": coming,
        "budget": budget,
        "staffing": staffing,
        "public_minute": public_minute,
        "exempt_minute": exempt_minute,
        "draft_minute": draft_minute,
        "decided": decided,
        "noted": noted,
        "secret": secret,
        "draft_resolution": draft_resolution,
        "action": action,
        "secret_action": secret_action,
        "paper": budget.documents[0],
        "tender": tender,
        "contract": contract,
        "draft_paper": draft_paper,
        "users": {"member": member_user, "outsider": outsider, "clerk": clerk},
        "headers": {
            "public": {},
            "member": bearer(member_user),
            "outsider": bearer(outsider),
            "clerk": bearer(clerk),
        },
    }
