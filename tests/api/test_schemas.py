"""The API's enums are the models' (app/api/schemas.py derives them), and what the document
offers is what ../shared/API.md promises."""

import pytest

from app.actions.models import ActionStatus, Rag
from app.agenda.models import ItemKind, Visibility
from app.api import schemas
from app.committees.models import MembershipRole, Regime
from app.committees.services import TEMPLATE_KINDS as STANDARD_ITEM_WORDS
from app.meetings.models import AttendanceStatus, DeclarationKind, MeetingStatus
from app.minutes.models import ResolutionKind, VoteChoice

VISIBILITY = ["public", "exempt", "confidential"]
ITEM_KINDS = [
    "apologies",
    "declarations",
    "previous_minutes",
    "matters_arising",
    "business",
    "aob",
    "next_meeting",
]
ACTION_STATUS = ["open", "in_progress", "complete", "cancelled"]
RAG = ["red", "amber", "green", "grey"]

# (component schema, property): the model's enum and the values API.md names.
BODIES = {
    ("CommitteeIn", "regime"): (Regime, ["principal", "parish", "none"]),
    ("MembershipIn", "role"): (
        MembershipRole,
        ["chair", "vice_chair", "member", "substitute", "co_opted", "observer", "officer"],
    ),
    ("MeetingPatch", "status"): (
        MeetingStatus,
        ["scheduled", "cancelled", "postponed", "held"],
    ),
    ("AgendaItemIn", "visibility"): (Visibility, VISIBILITY),
    ("AgendaItemPatch", "visibility"): (Visibility, VISIBILITY),
    ("DocumentUpload", "visibility"): (Visibility, VISIBILITY),
    ("AttendanceIn", "status"): (
        AttendanceStatus,
        ["present", "apologies", "absent", "substitute", "in_attendance"],
    ),
    ("DeclarationIn", "kind"): (
        DeclarationKind,
        ["disclosable_pecuniary", "other_registrable", "non_registrable"],
    ),
    ("ResolutionIn", "kind"): (ResolutionKind, ["resolved", "recommended", "noted"]),
    ("NamedVote", "vote"): (VoteChoice, ["for", "against", "abstain"]),
    ("UpdateIn", "status"): (ActionStatus, ACTION_STATUS),
    ("UpdateIn", "rag"): (Rag, RAG),
}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


@pytest.mark.parametrize("where", list(BODIES), ids=lambda w: ".".join(w))
def test_body_enums_are_the_models(spec, where):
    schema, prop = where
    model, contract = BODIES[where]
    offered = spec["components"]["schemas"][schema]["properties"][prop]["enum"]
    offered = [value for value in offered if value is not None]  # null, where it may be null
    assert offered == [member.value for member in model] == contract


def test_query_enums_are_the_models(spec):
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/actions"]["get"]["parameters"]}
    assert parameters["status"]["schema"]["enum"] == [s.value for s in ActionStatus]
    assert parameters["rag"]["schema"]["enum"] == [r.value for r in Rag]
    assert parameters["overdue"]["schema"]["type"] == "boolean"


def test_item_kinds_are_the_models_but_the_exclusion_item(spec):
    """The exclusion item is inserted by itself in front of Part 2, never sent; the standard
    items a committee's template may hold are the same kinds."""
    for schema in ("AgendaItemIn", "AgendaItemPatch", "TemplateItem"):
        assert spec["components"]["schemas"][schema]["properties"]["kind"]["enum"] == ITEM_KINDS
    assert [k.value for k in ItemKind if k is not ItemKind.EXCLUSION] == schemas.TEMPLATE_KINDS
    assert sorted(STANDARD_ITEM_WORDS) == sorted(ITEM_KINDS)
