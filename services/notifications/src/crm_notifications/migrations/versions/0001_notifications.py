"""In-app notifications and the sent-mail record (one row per source event and
recipient) that makes email delivery retryable and never duplicated."""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL
from crm_platform.outbox import OUTBOX_TABLE_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE notifications (
        notification_id  bigserial   PRIMARY KEY,
        account_id       bigint      NOT NULL,
        user_id          bigint      NOT NULL,
        source_event_id  text        NOT NULL,
        kind             text        NOT NULL,
        title            text        NOT NULL,
        body             text        NOT NULL,
        link             text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        read_at          timestamptz,
        deleted_at       timestamptz,
        UNIQUE (source_event_id, user_id)
    );
    CREATE INDEX notifications_mine ON notifications (account_id, user_id, created_at DESC)
        WHERE deleted_at IS NULL;

    CREATE TABLE sent_mail (
        event_id         text        NOT NULL,
        account_id       bigint      NOT NULL,
        user_id          bigint      NOT NULL,
        recipient        text,
        source_topic     text        NOT NULL,
        source_type      text        NOT NULL,
        subject          text        NOT NULL,
        body             text        NOT NULL,
        status           text        NOT NULL DEFAULT 'pending',
        attempts         int         NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_error       text,
        sent_at          timestamptz,
        PRIMARY KEY (event_id, user_id)
    );
    CREATE INDEX sent_mail_due ON sent_mail (next_attempt_at)
        WHERE status IN ('pending', 'sending');
    """)
    op.execute(OUTBOX_TABLE_SQL)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("DROP TABLE notifications, sent_mail, outbox, processed_events;")
