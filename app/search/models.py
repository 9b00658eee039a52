from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, fk, intpk, utcnow
from app.extensions import db

# The one definition of what PostgreSQL indexes and searches (see app/search/services.py).
FULLTEXT_EXPRESSION = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))"
FULLTEXT_INDEX = "ix_search_entries_fulltext"
RECORD, WORKING, PUBLISHED = "record", "working", "published"


class SearchEntry(db.Model):
    """One searchable piece of text: an agenda item, a paper's text, a minute, a resolution.

    Entries are rebuilt from their sources whenever a meeting's content changes; who may see a
    hit is decided at query time by the source's own permission predicate."""

    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "copy"),
        # PostgreSQL full-text search is over the stored `fulltext` column made below (not
        # mapped: SQLite uses the FTS5 table made below instead).
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    committee_id: Mapped[int] = fk("committees.id", ondelete="CASCADE")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Which copy of the meeting the text is from: an agenda's items and papers are indexed as
    # the working copy (read by staff) and as the latest published revision (read by everyone
    # else); minutes and resolutions have one copy, the record.
    copy: Mapped[str] = mapped_column(String(10), default=RECORD, server_default=RECORD)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# SQLite's FTS5 index over the entries ("external content"), kept in step by triggers. The
# migration creates the same objects; this covers databases made with create_all (tests).
SQLITE_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "title, body, content='search_entries', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_entries_au AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS search_entries_au",
    "DROP TRIGGER IF EXISTS search_entries_ad",
    "DROP TRIGGER IF EXISTS search_entries_ai",
    "DROP TABLE IF EXISTS search_fts",
]

# PostgreSQL: the text as a tsvector, worked out once when the entry is written (not again for
# every match ranked), with the GIN index over it. The migration makes the same objects.
FULLTEXT_COLUMN = "fulltext"
POSTGRES_FTS_DDL = [
    f"ALTER TABLE search_entries ADD COLUMN IF NOT EXISTS {FULLTEXT_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({FULLTEXT_EXPRESSION}) STORED",
    f"CREATE INDEX IF NOT EXISTS {FULLTEXT_INDEX} ON search_entries USING gin ({FULLTEXT_COLUMN})",
]

for _statement in POSTGRES_FTS_DDL:
    event.listen(
        SearchEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
for _statement in SQLITE_FTS_DDL:
    event.listen(
        SearchEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in SQLITE_FTS_DROP:
    event.listen(SearchEntry.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
