"""Pipelines per account and object type (R-PIPE-1). An account without rows for
a type uses the defaults in domain.pipelines; its first pipeline change stores
them, so every later read comes from here."""

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE pipelines (
        account_id   bigint      NOT NULL,
        object_type  text        NOT NULL,
        pipeline_id  text        NOT NULL,
        definition   jsonb       NOT NULL,
        archived     boolean     NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, object_type, pipeline_id)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE pipelines;")
