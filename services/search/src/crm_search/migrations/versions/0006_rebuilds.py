"""R-SRCH-3: the live table pointer and rebuild progress."""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE search_live_table (
        only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        table_name text    NOT NULL
    );
    INSERT INTO search_live_table (table_name) VALUES ('search_documents');
    CREATE TABLE search_rebuilds (
        id             bigserial   PRIMARY KEY,
        table_name     text        NOT NULL,
        consumer_group text        NOT NULL,
        state          text        NOT NULL,
        events_applied bigint      NOT NULL DEFAULT 0,
        end_offsets    jsonb       NOT NULL DEFAULT '{}',
        positions      jsonb       NOT NULL DEFAULT '{}',
        error          text,
        started_at     timestamptz NOT NULL DEFAULT now(),
        switched_at    timestamptz,
        finished_at    timestamptz
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE search_rebuilds; DROP TABLE search_live_table;")
