from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from app.core.db import (
    UTCDateTime,
    created_at,
    fk,
    intpk,
    meeting_id_through,
    str_enum,
    updated_at,
    utcnow,
)
from app.extensions import db
from app.people.models import Person

if TYPE_CHECKING:
    from app.meetings.models import AgendaPublication, Meeting


class ItemKind(enum.StrEnum):
    APOLOGIES = "apologies"
    DECLARATIONS = "declarations"
    PREVIOUS_MINUTES = "previous_minutes"
    MATTERS_ARISING = "matters_arising"
    BUSINESS = "business"
    AOB = "aob"
    NEXT_MEETING = "next_meeting"
    EXCLUSION = "exclusion"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    EXEMPT = "exempt"  # exempt under Schedule 12A: paragraphs and public-interest statement
    CONFIDENTIAL = "confidential"  # confidential information under s.100A(3)

    @property
    def restricted(self) -> bool:
        return self is not Visibility.PUBLIC

    @property
    def rank(self) -> int:
        # Confidential information must be withheld (s.100A(2)); exempt information may be.
        return _VISIBILITY_RANK[self]

    @classmethod
    def strictest(cls, *values: Visibility) -> Visibility:
        return max(values, key=lambda v: v.rank)


_VISIBILITY_RANK = {Visibility.PUBLIC: 0, Visibility.EXEMPT: 1, Visibility.CONFIDENTIAL: 2}


# Part 1 of Schedule 12A to the Local Government Act 1972, in the words used on agendas.
SCHEDULE_12A = {
    1: "Information relating to any individual.",
    2: "Information which is likely to reveal the identity of an individual.",
    3: "Information relating to the financial or business affairs of any particular person "
    "(including the authority holding that information).",
    4: "Information relating to any consultations or negotiations, or contemplated "
    "consultations or negotiations, in connection with any labour relations matter arising "
    "between the authority or a Minister of the Crown and employees of, or office holders "
    "under, the authority.",
    5: "Information in respect of which a claim to legal professional privilege could be "
    "maintained in legal proceedings.",
    6: "Information which reveals that the authority proposes (a) to give under any enactment "
    "a notice under or by virtue of which requirements are imposed on a person; or (b) to "
    "make an order or direction under any enactment.",
    7: "Information relating to any action taken or to be taken in connection with the "
    "prevention, investigation or prosecution of crime.",
}


class ItemRules:
    """Who may see an item and its papers: the one rule for the working copy (AgendaItem) and
    for a published revision's items (agenda.revisions.PublishedItem). Needs `meeting`,
    `visibility` and `parent`."""

    @property
    def effective_visibility(self) -> Visibility:
        """The strictest of the item's own and its parent's, since a sub-item of exempt
        business is exempt business. (Part 2 holds exactly the restricted top-level items, so
        the Part adds nothing stricter.) The agenda services keep the stored value at least as
        strict as the parent's; this holds even for rows written before they did."""
        if self.parent is None:
            return self.visibility
        return Visibility.strictest(self.visibility, self.parent.visibility)

    @property
    def restricted(self) -> bool:
        return self.effective_visibility.restricted

    def can_view(self, user) -> bool:
        """The item's title: shown wherever the agenda is, even for exempt items."""
        return self.meeting.can_see_agenda(user)

    def can_see_papers(self, user) -> bool:
        if not self.can_view(user):
            return False
        if self.restricted:
            return self.meeting.can_see_restricted(user)
        return True


class PaperRules:
    """Who may see a paper, for the working copy (Document) and a published revision's papers
    (agenda.revisions.PublishedPaper). Needs `visibility` and `item`."""

    @property
    def restricted(self) -> bool:
        return self.visibility.restricted or self.item.restricted

    def can_view(self, user) -> bool:
        if not self.item.can_see_papers(user):
            return False
        if self.visibility.restricted:
            return self.item.meeting.can_see_restricted(user)
        return True


class AgendaItem(ItemRules, db.Model):
    __tablename__ = "agenda_items"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        CheckConstraint("parent_id IS NULL OR parent_id != id", name="not_own_parent"),
        CheckConstraint(
            "visibility != 'exempt' OR public_interest_reason IS NOT NULL",
            name="exempt_has_public_interest_reason",
        ),
        CheckConstraint("NOT urgent OR urgent_reason IS NOT NULL", name="urgent_has_reason"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Sub-items are ordered within their parent, top-level items within the meeting.
        UniqueConstraint("meeting_id", "parent_id", "position"),
        Index(
            "uq_agenda_items_top_level_position",
            "meeting_id",
            "position",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    id: Mapped[intpk]
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    parent_id: Mapped[int | None] = fk("agenda_items.id", ondelete="CASCADE", nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[ItemKind] = mapped_column(
        str_enum(ItemKind, "item_kind"), default=ItemKind.BUSINESS
    )
    title: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str | None] = mapped_column(Text)
    presenter_id: Mapped[int | None] = fk("people.id", ondelete="SET NULL", nullable=True)
    presenter_text: Mapped[str | None] = mapped_column(String(300))
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "visibility"), default=Visibility.PUBLIC
    )
    public_interest_reason: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    version: Mapped[int] = mapped_column(Integer, default=1)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    parent: Mapped[AgendaItem | None] = relationship(
        remote_side="AgendaItem.id", back_populates="children"
    )
    children: Mapped[list[AgendaItem]] = relationship(
        back_populates="parent", order_by="AgendaItem.position"
    )
    presenter: Mapped[Person | None] = relationship()
    paragraph_rows: Mapped[list[AgendaItemParagraph]] = relationship(
        cascade="all, delete-orphan", order_by="AgendaItemParagraph.paragraph"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Document.position"
    )

    @property
    def exempt_paragraphs(self) -> list[int]:
        return [r.paragraph for r in self.paragraph_rows]

    @exempt_paragraphs.setter
    def exempt_paragraphs(self, values) -> None:
        wanted = sorted(set(values or []))
        self.paragraph_rows = [AgendaItemParagraph(paragraph=p) for p in wanted]

    @property
    def number(self) -> str:
        for item, number in self.meeting.numbered_items():
            if item is self:
                return number
        raise LookupError("item is not on its meeting's agenda")

    @property
    def presenter_name(self) -> str | None:
        if self.presenter is not None:
            return self.presenter.name
        return self.presenter_text

    @classmethod
    def public_ids(cls) -> Select:
        """SQL form of `not item.restricted`: the ids of items public by the same rule."""
        parent = aliased(cls)
        return (
            select(cls.id)
            .outerjoin(parent, parent.id == cls.parent_id)
            .where(
                cls.visibility == Visibility.PUBLIC,
                or_(cls.parent_id.is_(None), parent.visibility == Visibility.PUBLIC),
            )
        )

    # --- permissions --------------------------------------------------------------------
    @property
    def record_meeting_id(self) -> int | None:
        return meeting_id_through(self.meeting_id, self.meeting)


class AgendaItemParagraph(db.Model):
    """A Schedule 12A paragraph under which an item is exempt."""

    __tablename__ = "agenda_item_paragraphs"
    __table_args__ = (CheckConstraint("paragraph BETWEEN 1 AND 7", name="paragraph_1_to_7"),)

    agenda_item_id: Mapped[int] = fk("agenda_items.id", ondelete="CASCADE", primary_key=True)
    paragraph: Mapped[int] = mapped_column(Integer, primary_key=True)


class Document(PaperRules, db.Model):
    """An uploaded paper (report, appendix) attached to an agenda item, stored by sha256."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("page_count >= 1", name="page_count_positive"),
        CheckConstraint("size_bytes >= 1", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint(
            "visibility != 'exempt' OR public_interest_reason IS NOT NULL",
            name="exempt_has_public_interest_reason",
        ),
        UniqueConstraint("agenda_item_id", "position"),
    )

    id: Mapped[intpk]
    agenda_item_id: Mapped[int] = fk("agenda_items.id", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "visibility"), default=Visibility.PUBLIC
    )
    public_interest_reason: Mapped[str | None] = mapped_column(Text)
    text_content: Mapped[str | None] = mapped_column(Text)  # extracted for search
    uploaded_by_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[AgendaItem] = relationship(back_populates="documents")
    paragraph_rows: Mapped[list[DocumentParagraph]] = relationship(
        cascade="all, delete-orphan", order_by="DocumentParagraph.paragraph"
    )

    @property
    def exempt_paragraphs(self) -> list[int]:
        return [r.paragraph for r in self.paragraph_rows]

    @exempt_paragraphs.setter
    def exempt_paragraphs(self, values) -> None:
        self.paragraph_rows = [DocumentParagraph(paragraph=p) for p in sorted(set(values or []))]

    @property
    def record_meeting_id(self) -> int | None:
        return self.item.record_meeting_id if self.item is not None else None


class DocumentParagraph(db.Model):
    __tablename__ = "document_paragraphs"
    __table_args__ = (CheckConstraint("paragraph BETWEEN 1 AND 7", name="paragraph_1_to_7"),)

    document_id: Mapped[int] = fk("documents.id", ondelete="CASCADE", primary_key=True)
    paragraph: Mapped[int] = mapped_column(Integer, primary_key=True)


class RevisionPaper(db.Model):
    """Which published revisions carry a paper: finds a paper's revisions by its id, even once
    the paper (or its item) has gone from the working copy."""

    __tablename__ = "revision_papers"

    publication_id: Mapped[int] = fk("agenda_publications.id", ondelete="CASCADE", primary_key=True)
    # Not a foreign key: the paper's row may be deleted while its revisions stand.
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    revision: Mapped[int] = mapped_column(Integer)

    publication: Mapped[AgendaPublication] = relationship()
