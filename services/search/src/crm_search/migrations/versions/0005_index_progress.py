"""Index progress per object type, for GET /search/v1/lag."""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE search_index_progress (
        object_type     text        PRIMARY KEY,
        events_applied  bigint      NOT NULL,
        last_event_at   timestamptz NOT NULL,
        last_applied_at timestamptz NOT NULL
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE search_index_progress;")
