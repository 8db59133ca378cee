"""Property definitions and groups per account and object type (R-REC-2).

An account's catalogue of an object type is seeded from the standard
definitions the first time the type is used (`property_catalogs` marks it),
so standard and custom definitions are read the same way, and an account may
add options to a standard enumeration without touching anyone else's.
"""

from alembic import op

revision = "0010"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE property_catalogs (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        seeded_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, object_type)
    );

    CREATE TABLE property_definitions (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        name        text        NOT NULL,
        definition  jsonb       NOT NULL,
        archived    boolean     NOT NULL DEFAULT false,
        archived_at timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        created_by  bigint,
        updated_by  bigint,
        PRIMARY KEY (account_id, object_type, name)
    );

    CREATE TABLE property_groups (
        account_id    bigint  NOT NULL,
        object_type   text    NOT NULL,
        name          text    NOT NULL,
        label         text    NOT NULL,
        display_order integer NOT NULL DEFAULT -1,
        archived      boolean NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, object_type, name)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE property_groups, property_definitions, property_catalogs;")
