"""Records, their property history, the outbox and the applied-event ids.

Every table leads with account_id: it is the tenancy boundary (R-AUTH-1) and the
Citus distribution column when one primary is not enough.
"""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.outbox import OUTBOX_TABLE_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE SEQUENCE record_ids START 1001;

    CREATE TABLE records (
        account_id   bigint      NOT NULL,
        object_type  text        NOT NULL,
        record_id    bigint      NOT NULL,
        version      bigint      NOT NULL DEFAULT 1,
        properties   jsonb       NOT NULL,
        archived     boolean     NOT NULL DEFAULT false,
        archived_at  timestamptz,
        merged_into  bigint,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, record_id)
    );
    CREATE INDEX records_listing ON records (account_id, object_type, archived, record_id);

    CREATE TABLE property_history (
        account_id   bigint      NOT NULL,
        object_type  text        NOT NULL,
        record_id    bigint      NOT NULL,
        property     text        NOT NULL,
        seq          bigserial,
        value        text,
        changed_at   timestamptz NOT NULL,
        source_type  text        NOT NULL,
        source_id    text,
        user_id      bigint,
        PRIMARY KEY (account_id, object_type, record_id, property, seq)
    );

    -- One row per unique-valued property value: the primary key refuses a second
    -- record with the same value, even under concurrent writes.
    CREATE TABLE unique_values (
        account_id   bigint NOT NULL,
        object_type  text   NOT NULL,
        property     text   NOT NULL,
        value        text   NOT NULL,
        record_id    bigint NOT NULL,
        PRIMARY KEY (account_id, object_type, property, value)
    );
    """)
    op.execute(OUTBOX_TABLE_SQL)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)


def downgrade() -> None:
    op.execute("DROP TABLE unique_values, property_history, records, outbox, processed_events;"
               "DROP SEQUENCE record_ids;")
