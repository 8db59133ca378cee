"""Accounts, users and tokens (the records service owns identity), and the
directory projection every service keeps from identity events."""

from alembic import op

from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE accounts (
        account_id  bigserial PRIMARY KEY,
        name        text        NOT NULL,
        tier        text        NOT NULL DEFAULT 'standard',
        created_at  timestamptz NOT NULL DEFAULT now()
    );
    -- Account ids (portal ids) start at a random 9-digit number per database:
    -- every Kafka key and read model is scoped by account, so two records
    -- databases sharing one bus (test runs, a restored copy) never collide.
    SELECT setval('accounts_account_id_seq', 100000000 + floor(random() * 800000000)::bigint);

    CREATE SEQUENCE user_ids START 5001;
    CREATE TABLE users (
        account_id  bigint      NOT NULL REFERENCES accounts,
        user_id     bigint      NOT NULL,
        email       text        NOT NULL,
        first_name  text,
        last_name   text,
        profile     jsonb       NOT NULL,
        version     bigint      NOT NULL DEFAULT 1,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, user_id),
        UNIQUE (account_id, email)
    );

    CREATE TABLE tokens (
        token_id    text PRIMARY KEY,
        account_id  bigint      NOT NULL,
        user_id     bigint      NOT NULL,
        issued_at   timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz,
        FOREIGN KEY (account_id, user_id) REFERENCES users
    );
    """)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("DROP TABLE tokens, users, accounts; DROP SEQUENCE user_ids;")
