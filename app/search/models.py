from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, fk, intpk, utcnow
from app.extensions import db

# The one definition of what PostgreSQL indexes and searches (see app/search/services.py).
FULLTEXT_EXPRESSION = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))"
FULLTEXT_INDEX = "ix_search_entries_fulltext"
RECORD, WORKING, PUBLISHED = "record", "working", "published"


class SearchText(db.Model):
    """The text of one file (by its sha256), stored and indexed once however many papers, in
    however many meetings and copies of an agenda, are that file. It is found only through
    the document entries that name it, so it answers to their visibility; once none does, it
    is removed."""

    __tablename__ = "search_texts"

    id: Mapped[intpk]  # FTS5's external content is addressed by an integer rowid
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")


class SearchEntry(db.Model):
    """One searchable piece of text: an agenda item, a paper's title, a minute, a resolution.

    Entries are rebuilt from their sources whenever a meeting's content changes; who may see a
    hit is decided at query time by the source's own permission predicate. A paper's entry
    keeps its title and names its file's text (`sha256`, see SearchText)."""

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
    sha256: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("search_texts.sha256"), index=True, nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The DDL lists below are also what the migrations run (a1c3f0e2b7d4, b15a0c0revs01,
# b18a0c0texts1): change one only with a migration that makes the same change.

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


# The index of the texts: on SQLite an FTS5 table over search_texts ("external content", kept in
# step by triggers); on PostgreSQL a table of each text's tsvector (worked out once, when the
# text is stored) with a GIN index, kept in step by a trigger and going with its text. Both are
# named search_fts_texts: like search_fts, made by hand (the models do not describe them).
TEXT_FTS = "search_fts_texts"
TEXT_FULLTEXT_INDEX = "ix_search_fts_texts_fulltext"
TEXT_FULLTEXT_EXPRESSION = "to_tsvector('english', coalesce(NEW.body, ''))"
SQLITE_TEXT_FTS_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TEXT_FTS} USING fts5("
    "body, content='search_texts', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_texts_ai AFTER INSERT ON search_texts BEGIN "
    f"INSERT INTO {TEXT_FTS}(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_texts_ad AFTER DELETE ON search_texts BEGIN "
    f"INSERT INTO {TEXT_FTS}({TEXT_FTS}, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_texts_au AFTER UPDATE ON search_texts BEGIN "
    f"INSERT INTO {TEXT_FTS}({TEXT_FTS}, rowid, body) VALUES ('delete', old.id, old.body); "
    f"INSERT INTO {TEXT_FTS}(rowid, body) VALUES (new.id, new.body); END",
]
SQLITE_TEXT_FTS_DROP = [
    "DROP TRIGGER IF EXISTS search_texts_au",
    "DROP TRIGGER IF EXISTS search_texts_ad",
    "DROP TRIGGER IF EXISTS search_texts_ai",
    f"DROP TABLE IF EXISTS {TEXT_FTS}",
]
POSTGRES_TEXT_FTS_DDL = [
    f"CREATE TABLE IF NOT EXISTS {TEXT_FTS} ("
    "id integer PRIMARY KEY REFERENCES search_texts (id) ON DELETE CASCADE, "
    f"{FULLTEXT_COLUMN} tsvector NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TEXT_FULLTEXT_INDEX} ON {TEXT_FTS} USING gin ({FULLTEXT_COLUMN})",
    "CREATE OR REPLACE FUNCTION search_texts_index() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO {TEXT_FTS} (id, {FULLTEXT_COLUMN}) "
    f"VALUES (NEW.id, {TEXT_FULLTEXT_EXPRESSION}) "
    f"ON CONFLICT (id) DO UPDATE SET {FULLTEXT_COLUMN} = EXCLUDED.{FULLTEXT_COLUMN}; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER search_texts_index AFTER INSERT OR UPDATE OF body ON search_texts "
    "FOR EACH ROW EXECUTE FUNCTION search_texts_index()",
]
POSTGRES_TEXT_FTS_DROP = [
    f"DROP TABLE IF EXISTS {TEXT_FTS}",
    "DROP TRIGGER IF EXISTS search_texts_index ON search_texts",
    "DROP FUNCTION IF EXISTS search_texts_index()",
]

for _dialect, _create, _drop in (
    ("sqlite", SQLITE_TEXT_FTS_DDL, SQLITE_TEXT_FTS_DROP),
    ("postgresql", POSTGRES_TEXT_FTS_DDL, POSTGRES_TEXT_FTS_DROP),
):
    for _statement in _create:
        event.listen(
            SearchText.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
    for _statement in _drop:
        event.listen(
            SearchText.__table__, "before_drop", DDL(_statement).execute_if(dialect=_dialect)
        )
