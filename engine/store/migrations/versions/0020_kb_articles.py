"""kb_articles: the knowledge base's FAQ articles, searchable in full text

Markdown articles in Chinese or English, kept by the training staff (each save is also a ``kb.saved`` fact).
Searching: SQLite's FTS5 with its trigram tokenizer (Chinese has no spaces between words: trigrams match any
run of three characters, in any language), kept in step by triggers; PostgreSQL's own full-text search over the
'simple' configuration, with a GIN index. Shorter terms (a two-character Chinese word) are matched as substrings
of the few articles there are.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

DOCUMENT = "(title || ' ' || tags || ' ' || body)"


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("tags", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (to_tsvector('simple', {DOCUMENT}))")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_search USING fts5(title, tags, body, content='kb_articles', "
                   "content_rowid='id', tokenize='trigram')")  # fmt: skip
        add = "INSERT INTO kb_search(rowid, title, tags, body) VALUES (new.id, new.title, new.tags, new.body);"
        drop = ("INSERT INTO kb_search(kb_search, rowid, title, tags, body) "
                "VALUES ('delete', old.id, old.title, old.tags, old.body);")  # fmt: skip
        op.execute(f"CREATE TRIGGER kb_articles_ai AFTER INSERT ON kb_articles BEGIN {add} END")
        op.execute(f"CREATE TRIGGER kb_articles_ad AFTER DELETE ON kb_articles BEGIN {drop} END")
        op.execute(f"CREATE TRIGGER kb_articles_au AFTER UPDATE ON kb_articles BEGIN {drop} {add} END")

def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_kb_articles_search")
    else:
        for t in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER kb_articles_{t}")
        op.execute("DROP TABLE kb_search")
    op.drop_table("kb_articles")
