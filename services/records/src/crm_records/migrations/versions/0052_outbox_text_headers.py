"""Outbox headers as text[] instead of jsonb (the write path's profile: every event's
ten headers were JSON-encoded in Python and parsed to jsonb by the server, then
decoded again by the relay). Entries still queued are carried over. Chained from 0051."""

from alembic import op

from crm_platform.outbox import OUTBOX_HEADERS_AS_JSONB_SQL, OUTBOX_HEADERS_AS_TEXT_SQL

revision = "0052"
down_revision = "0051"


def upgrade() -> None:
    op.execute(OUTBOX_HEADERS_AS_TEXT_SQL)


def downgrade() -> None:
    op.execute(OUTBOX_HEADERS_AS_JSONB_SQL)
