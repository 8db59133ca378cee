"""Property types per account and object type, fed by crm.properties.v1."""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE search_property_types (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        name        text        NOT NULL,
        type        text        NOT NULL,
        archived    boolean     NOT NULL DEFAULT false,
        defined_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, name)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE search_property_types;")
