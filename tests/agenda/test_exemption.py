"""One rule for the grounds of exempt business, asked by items and papers alike
(app/agenda/exemption.py): what is refused, and what is cleared, is the same for both."""

import io

import pytest

from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.core.errors import ValidationError
from tests.pdfs import make_pdf

REASON = "Tender prices would prejudice the council's position."


@pytest.fixture
def meeting(db, f):
    return f.meeting(f.committee())


def item_with(meeting, **grounds):
    return agenda.add_item(meeting, title="Depot lease", **grounds)


def paper_with(meeting, **grounds):
    item = agenda.add_item(meeting, title="Depot", visibility="confidential")
    return add_document(item, io.BytesIO(make_pdf(1)), "lease.pdf", "Lease", **grounds)


@pytest.mark.parametrize("make", [item_with, paper_with], ids=["item", "paper"])
@pytest.mark.parametrize(
    ("grounds", "errors"),
    [
        (
            {"exempt_paragraphs": []},
            {
                "exempt_paragraphs": ["Choose the paragraph(s) of Schedule 12A that apply."],
                "public_interest_reason": ["Say why the public interest favours exemption."],
            },
        ),
        (
            {"exempt_paragraphs": [3, 9], "public_interest_reason": REASON},
            {"exempt_paragraphs": ["Paragraphs are numbers from 1 to 7."]},
        ),
        (
            {"exempt_paragraphs": ["three"], "public_interest_reason": REASON},
            {"exempt_paragraphs": ["Paragraphs are numbers from 1 to 7."]},
        ),
        (
            {"exempt_paragraphs": [3], "public_interest_reason": " \u202e "},
            {"public_interest_reason": ["Say why the public interest favours exemption."]},
        ),
    ],
)
def test_exempt_grounds_are_refused_alike(meeting, make, grounds, errors):
    with pytest.raises(ValidationError) as info:
        make(meeting, visibility="exempt", **grounds)
    assert info.value.errors == errors


@pytest.mark.parametrize("make", [item_with, paper_with], ids=["item", "paper"])
@pytest.mark.parametrize("visibility", ["public", "confidential"])
def test_grounds_are_cleared_alike_for_public_and_confidential_business(meeting, make, visibility):
    record = make(
        meeting, visibility=visibility, exempt_paragraphs=[3], public_interest_reason=REASON
    )
    assert record.exempt_paragraphs == [] and record.public_interest_reason is None


@pytest.mark.parametrize("make", [item_with, paper_with], ids=["item", "paper"])
def test_exempt_grounds_are_kept_cleaned_alike(meeting, make):
    record = make(
        meeting,
        visibility="exempt",
        exempt_paragraphs=["3", 1, 3],
        public_interest_reason=f"  {REASON}\u202e ",
    )
    assert record.exempt_paragraphs == [1, 3] and record.public_interest_reason == REASON


def test_an_item_made_confidential_loses_its_grounds(meeting):
    item = item_with(
        meeting, visibility="exempt", exempt_paragraphs=[3], public_interest_reason=REASON
    )
    agenda.update_item(item, visibility="confidential")
    assert item.exempt_paragraphs == [] and item.public_interest_reason is None
