"""Emails keyed by what makes them one email: `notice:{event}:{user}` for a
notice, `{account}:{recipient idempotency key}` for a message of a list email
(so a key already stored sends nothing more, whichever event carries it). A
list email also has its own sender, an HTML part, a fixed address and the
list fields its delivery event reports; it may name no user."""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE sent_mail
        ADD COLUMN mail_key text,
        ADD COLUMN sender   text,
        ADD COLUMN html     text,
        ADD COLUMN delivery jsonb NOT NULL DEFAULT '{}';
    UPDATE sent_mail SET mail_key = 'notice:' || event_id || ':' || user_id;
    ALTER TABLE sent_mail ALTER COLUMN mail_key SET NOT NULL;
    ALTER TABLE sent_mail DROP CONSTRAINT sent_mail_pkey;
    ALTER TABLE sent_mail ADD PRIMARY KEY (mail_key);
    ALTER TABLE sent_mail ALTER COLUMN user_id DROP NOT NULL;
    CREATE INDEX sent_mail_by_event ON sent_mail (event_id);
    """)


def downgrade() -> None:
    op.execute("""
    DELETE FROM sent_mail WHERE mail_key NOT LIKE 'notice:%';
    DROP INDEX sent_mail_by_event;
    ALTER TABLE sent_mail DROP CONSTRAINT sent_mail_pkey;
    ALTER TABLE sent_mail ALTER COLUMN user_id SET NOT NULL;
    ALTER TABLE sent_mail ADD PRIMARY KEY (event_id, user_id);
    ALTER TABLE sent_mail DROP COLUMN mail_key, DROP COLUMN sender, DROP COLUMN html,
        DROP COLUMN delivery;
    """)
