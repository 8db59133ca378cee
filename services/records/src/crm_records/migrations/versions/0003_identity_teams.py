"""Teams, deactivated users and token look-ups (R-AUTH-2).

A user's team ids live in their access profile (what identity events carry);
`primary_team_id` says which of them the owners API calls primary, and
`active` mirrors the profile so the owners list can filter on a column.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = ("identity",)


def upgrade() -> None:
    op.execute("""
    CREATE SEQUENCE team_ids START 901;
    CREATE TABLE teams (
        account_id  bigint      NOT NULL REFERENCES accounts,
        team_id     bigint      NOT NULL,
        name        text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, team_id),
        UNIQUE (account_id, name)
    );

    ALTER TABLE users
        ADD COLUMN active boolean NOT NULL DEFAULT true,
        ADD COLUMN primary_team_id bigint;
    CREATE INDEX users_by_email ON users (account_id, lower(email));

    CREATE INDEX tokens_by_user ON tokens (account_id, user_id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX tokens_by_user;
    DROP INDEX users_by_email;
    ALTER TABLE users DROP COLUMN primary_team_id, DROP COLUMN active;
    DROP TABLE teams;
    DROP SEQUENCE team_ids;
    """)
