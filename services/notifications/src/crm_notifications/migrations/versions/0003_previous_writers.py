"""The previous version of this service keeps working on this schema while a
rolling deploy replaces it (and a second checkout sharing the local database):
its consumer inserts sent_mail rows without a mail_key and with
`ON CONFLICT (event_id, user_id)`. So (event_id, user_id) is unique again, a
trigger names those rows' mail_key, and a list email row has no user_id (its
address is fixed; NULLs never conflict), its sender user moving into
`delivery`. The previous mailer never matches rows without a user, so only
this version sends list emails. Drop the trigger once no replica of 0001 is left."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    UPDATE sent_mail SET delivery = delivery || jsonb_build_object('user_id', COALESCE(user_id, 0)),
                         user_id = NULL
     WHERE mail_key NOT LIKE 'notice:%';
    ALTER TABLE sent_mail ADD CONSTRAINT sent_mail_event_user UNIQUE (event_id, user_id);
    DROP INDEX sent_mail_by_event;
    CREATE FUNCTION sent_mail_notice_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.mail_key := COALESCE(NEW.mail_key, 'notice:' || NEW.event_id || ':' || NEW.user_id);
        RETURN NEW;
    END $$;
    CREATE TRIGGER sent_mail_notice_key BEFORE INSERT ON sent_mail
        FOR EACH ROW EXECUTE FUNCTION sent_mail_notice_key();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER sent_mail_notice_key ON sent_mail;
    DROP FUNCTION sent_mail_notice_key();
    ALTER TABLE sent_mail DROP CONSTRAINT sent_mail_event_user;
    CREATE INDEX sent_mail_by_event ON sent_mail (event_id);
    UPDATE sent_mail SET user_id = (delivery->>'user_id')::bigint
     WHERE mail_key NOT LIKE 'notice:%';
    """)
