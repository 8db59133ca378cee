"""Associations (both directions), user-defined association labels, email
participants (R-REC-6..8) and roll-up progress (R-ROLL-2).

Its own branch from 0002 (migrations run `upgrade heads`). Every table leads
with account_id, the tenancy boundary (R-AUTH-1).
"""

from alembic import op

revision = "0020"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    -- One row per direction and type: a contact-company pair with a label holds
    -- 279 + the label on the contact's side and 280 + its inverse on the company's.
    CREATE TABLE associations (
        account_id  bigint      NOT NULL,
        from_type   text        NOT NULL,
        from_id     bigint      NOT NULL,
        to_type     text        NOT NULL,
        to_id       bigint      NOT NULL,
        type_id     integer     NOT NULL,
        created_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, from_type, from_id, to_type, to_id, type_id)
    );

    -- Per-account association types: user labels (a pair, one per direction) and
    -- the default type of pairs the hosted CRM has no fixed id for (custom objects).
    CREATE SEQUENCE association_type_ids START 100000;
    CREATE TABLE association_types (
        account_id  bigint  NOT NULL,
        type_id     integer NOT NULL,
        from_type   text    NOT NULL,
        to_type     text    NOT NULL,
        inverse_id  integer NOT NULL,
        label       text,
        name        text,
        archived    boolean NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, type_id)
    );
    CREATE UNIQUE INDEX association_types_default ON association_types
        (account_id, from_type, to_type) WHERE label IS NULL;

    -- R-REC-8: every address an email engagement was logged to or from.
    CREATE TABLE email_participants (
        account_id  bigint NOT NULL,
        address     text   NOT NULL,
        email_id    bigint NOT NULL,
        PRIMARY KEY (account_id, address, email_id)
    );
    CREATE INDEX email_participants_email ON email_participants (account_id, email_id);

    -- R-ROLL-2: when the roll-up consumer last brought each record up to date.
    CREATE TABLE rollup_progress (
        account_id   bigint      NOT NULL,
        object_type  text        NOT NULL,
        record_id    bigint      NOT NULL,
        rollup       text        NOT NULL,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, record_id, rollup)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE rollup_progress, email_participants, association_types, associations;"
               " DROP SEQUENCE association_type_ids;")
