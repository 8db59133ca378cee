"""The feed's read model of associations (R-CSW-9) and unfollowed records
(R-CSW-5).

One row per direction of an associated pair, as crm.associations.v1 publishes
them; `associated` false keeps a removal so an older "added" delivered late
changes nothing (the newest `changed_at` wins, R-BUS-3).
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE workspace_associations (
        account_id  bigint      NOT NULL,
        from_type   text        NOT NULL,
        from_id     bigint      NOT NULL,
        to_type     text        NOT NULL,
        to_id       bigint      NOT NULL,
        associated  boolean     NOT NULL,
        changed_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, from_type, from_id, to_type, to_id)
    );

    CREATE TABLE workspace_unfollowed (
        account_id  bigint      NOT NULL,
        user_id     bigint      NOT NULL,
        object_type text        NOT NULL,
        record_id   bigint      NOT NULL,
        unfollowed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, user_id, object_type, record_id)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE workspace_associations, workspace_unfollowed;")
