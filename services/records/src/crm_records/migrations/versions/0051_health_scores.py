"""Health scores on records: the time of the newest score change applied per
record, so a late or repeated HealthScoreChanged never overwrites a newer score.
Chained from 0050."""

from alembic import op

revision = "0051"
down_revision = "0050"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE health_score_applied (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        record_id   bigint      NOT NULL,
        changed_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, record_id)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE health_score_applied;")
