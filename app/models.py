"""Every model, imported in one place so the metadata is complete wherever it is needed
(the app factory, Alembic, tests)."""

from app.actions.models import Action, ActionStatus, ActionUpdate, Rag
from app.agenda.models import (
    SCHEDULE_12A,
    AgendaItem,
    AgendaItemParagraph,
    Document,
    DocumentParagraph,
    ItemKind,
    RevisionPaper,
    Visibility,
)
from app.audit.models import AuditEvent
from app.auth.models import ApiToken, User
from app.committees.models import Committee, Membership, MembershipRole, Regime
from app.core.permissions import Role
from app.core.stamp import ChangeStamp
from app.ical.models import IcalEventCache
from app.meetings.models import (
    AgendaPublication,
    AgendaState,
    Attendance,
    AttendanceStatus,
    Declaration,
    DeclarationKind,
    Meeting,
    MeetingStatus,
    MinutesState,
)
from app.minutes.models import (
    Minute,
    MinuteRevision,
    Resolution,
    ResolutionKind,
    ResolutionVote,
    RevisionKind,
    VoteChoice,
)
from app.notifications.models import Message, MessageStatus
from app.people.models import Person
from app.search.models import SearchEntry

__all__ = [
    "SCHEDULE_12A",
    "Action",
    "ActionStatus",
    "ActionUpdate",
    "AgendaItem",
    "AgendaItemParagraph",
    "AgendaPublication",
    "AgendaState",
    "ApiToken",
    "Attendance",
    "AttendanceStatus",
    "AuditEvent",
    "ChangeStamp",
    "Committee",
    "Declaration",
    "DeclarationKind",
    "Document",
    "DocumentParagraph",
    "IcalEventCache",
    "ItemKind",
    "Meeting",
    "MeetingStatus",
    "Membership",
    "MembershipRole",
    "Message",
    "MessageStatus",
    "Minute",
    "MinuteRevision",
    "MinutesState",
    "Person",
    "Rag",
    "Regime",
    "Resolution",
    "ResolutionKind",
    "ResolutionVote",
    "RevisionKind",
    "RevisionPaper",
    "Role",
    "SearchEntry",
    "User",
    "Visibility",
    "VoteChoice",
]
