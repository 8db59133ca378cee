"""Custom object schemas (R-REC-1): one row per custom object type of an account.

The type's records live in `records` under its name (object_type = "cars"),
its properties in `property_definitions` like any type's. objectTypeIds are
"2-<n>" with n from one sequence, so an id never names two types. Its own
branch from 0002 (migrations run `upgrade heads`).
"""

from alembic import op

revision = "0050"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    CREATE SEQUENCE custom_object_type_ids START 1000;
    CREATE TABLE object_schemas (
        account_id bigint NOT NULL,
        object_type_id text NOT NULL,
        name text NOT NULL,
        definition jsonb NOT NULL,
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type_id)
    );
    -- A name stays taken while its schema is archived: its records keep that name.
    CREATE UNIQUE INDEX object_schemas_name ON object_schemas (account_id, name);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE object_schemas; DROP SEQUENCE custom_object_type_ids;")
