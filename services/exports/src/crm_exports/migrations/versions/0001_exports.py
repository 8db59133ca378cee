"""Export jobs (the request, its progress, its file) and the property
definitions the exporter labels and types columns with (from crm.properties.v1)."""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL
from crm_platform.outbox import OUTBOX_TABLE_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE export_jobs (
        export_id      bigserial   PRIMARY KEY,
        account_id     bigint      NOT NULL,
        user_id        bigint      NOT NULL,
        spec           jsonb       NOT NULL,
        status         text        NOT NULL DEFAULT 'PENDING',
        reason         text,
        rows_written   bigint      NOT NULL DEFAULT 0,
        rows_expected  bigint,
        attempts       int         NOT NULL DEFAULT 0,
        lease_until    timestamptz,
        accepted_at    timestamptz,
        requested_at   timestamptz NOT NULL DEFAULT now(),
        started_at     timestamptz,
        completed_at   timestamptz,
        file_key       text,
        file_name      text,
        file_size      bigint
    );
    CREATE INDEX export_jobs_queue ON export_jobs (status, requested_at)
        WHERE status IN ('PENDING', 'PROCESSING');
    CREATE INDEX export_jobs_by_user ON export_jobs (account_id, user_id, requested_at DESC);

    CREATE TABLE export_properties (
        account_id   bigint  NOT NULL,
        object_type  text    NOT NULL,
        name         text    NOT NULL,
        label        text    NOT NULL,
        type         text    NOT NULL,
        archived     boolean NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, object_type, name)
    );
    """)
    op.execute(OUTBOX_TABLE_SQL)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("DROP TABLE export_jobs, export_properties, outbox, processed_events;")
