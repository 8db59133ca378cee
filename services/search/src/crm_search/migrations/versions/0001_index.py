"""The search index: one document per record, built only from record events.

A document keeps the record's version; an event older than the stored
version changes nothing, so out-of-order and repeated deliveries leave the
index exact. A permanently deleted record leaves a tombstone (no properties,
just the version) so a late event cannot bring it back.
"""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE search_documents (
        account_id   bigint      NOT NULL,
        object_type  text        NOT NULL,
        record_id    bigint      NOT NULL,
        version      bigint      NOT NULL,
        archived     boolean     NOT NULL DEFAULT false,
        deleted      boolean     NOT NULL DEFAULT false,
        owner_id     bigint,
        properties   jsonb       NOT NULL,
        search_text  tsvector,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        indexed_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, object_type, record_id)
    );
    CREATE INDEX search_documents_properties ON search_documents
        USING gin (properties jsonb_path_ops);
    CREATE INDEX search_documents_text ON search_documents USING gin (search_text);
    CREATE INDEX search_documents_created ON search_documents
        (account_id, object_type, created_at);

    CREATE TABLE search_associations (
        account_id  bigint NOT NULL,
        from_type   text   NOT NULL,
        from_id     bigint NOT NULL,
        to_type     text   NOT NULL,
        to_id       bigint NOT NULL,
        PRIMARY KEY (account_id, from_type, from_id, to_type, to_id)
    );
    """)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("DROP TABLE search_associations, search_documents, processed_events;")
