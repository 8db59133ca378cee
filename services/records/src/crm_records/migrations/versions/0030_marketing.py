"""Forms, tracking cookies and page views, lists and list sends (R-MKT-1..3).

Its own branch from 0002 (migrations run `upgrade heads`). Every table leads
with account_id, the tenancy boundary (R-AUTH-1).
"""

from alembic import op

revision = "0030"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE forms (
        account_id  bigint      NOT NULL,
        form_id     text        NOT NULL,
        definition  jsonb       NOT NULL,
        archived    boolean     NOT NULL DEFAULT false,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, form_id)
    );

    CREATE TABLE form_submissions (
        account_id    bigint      NOT NULL,
        form_id       text        NOT NULL,
        submission_id bigserial,
        contact_id    bigint      NOT NULL,
        created       boolean     NOT NULL,
        hutk          text,
        page_uri      text,
        submitted_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, form_id, submission_id)
    );

    -- A visitor cookie, linked to a contact once a form or an identify call names it.
    CREATE TABLE tracking_cookies (
        account_id  bigint      NOT NULL,
        hutk        text        NOT NULL,
        contact_id  bigint,
        linked_by   text,
        linked_at   timestamptz,
        first_seen  timestamptz NOT NULL,
        PRIMARY KEY (account_id, hutk)
    );
    CREATE INDEX tracking_cookies_contact ON tracking_cookies (account_id, contact_id)
        WHERE contact_id IS NOT NULL;

    -- The same view sent twice (a retried beacon) is one view.
    CREATE TABLE page_views (
        account_id  bigint      NOT NULL,
        hutk        text        NOT NULL,
        url         text        NOT NULL,
        viewed_at   timestamptz NOT NULL,
        title       text        NOT NULL DEFAULT '',
        email_click boolean     NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, hutk, viewed_at, url)
    );

    -- Roll-ups of a contact's linked views, with when they were brought up to date.
    CREATE TABLE contact_page_view_rollups (
        account_id    bigint      NOT NULL,
        contact_id    bigint      NOT NULL,
        page_views    bigint      NOT NULL,
        first_url     text,
        first_seen_at timestamptz,
        last_url      text,
        last_seen_at  timestamptz,
        updated_at    timestamptz NOT NULL,
        PRIMARY KEY (account_id, contact_id)
    );

    CREATE SEQUENCE list_ids START 1;
    CREATE TABLE lists (
        account_id      bigint      NOT NULL,
        list_id         bigint      NOT NULL,
        name            text        NOT NULL,
        processing_type text        NOT NULL,
        object_type_id  text        NOT NULL DEFAULT '0-1',
        filter_groups   jsonb,
        archived        boolean     NOT NULL DEFAULT false,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        PRIMARY KEY (account_id, list_id)
    );
    CREATE UNIQUE INDEX lists_name ON lists (account_id, lower(name)) WHERE NOT archived;

    CREATE TABLE list_memberships (
        account_id  bigint      NOT NULL,
        list_id     bigint      NOT NULL,
        record_id   bigint      NOT NULL,
        added_at    timestamptz NOT NULL,
        PRIMARY KEY (account_id, list_id, record_id)
    );
    CREATE INDEX list_memberships_record ON list_memberships (account_id, record_id);

    -- The newest record version the membership consumer has applied: an older
    -- snapshot arriving late changes nothing (R-BUS-4).
    CREATE TABLE list_record_versions (
        account_id  bigint NOT NULL,
        record_id   bigint NOT NULL,
        version     bigint NOT NULL,
        PRIMARY KEY (account_id, record_id)
    );

    CREATE TABLE email_suppressions (
        account_id  bigint      NOT NULL,
        address     text        NOT NULL,
        reason      text        NOT NULL,
        created_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, address)
    );

    CREATE TABLE list_sends (
        account_id   bigint      NOT NULL,
        send_id      text        NOT NULL,
        list_id      bigint      NOT NULL,
        user_id      bigint,
        subject      text        NOT NULL,
        created_at   timestamptz NOT NULL,
        PRIMARY KEY (account_id, send_id)
    );

    -- One row per contact per send, written with its engagement and event: the
    -- key that makes a retried send mail nobody twice.
    CREATE TABLE list_send_recipients (
        account_id    bigint NOT NULL,
        send_id       text   NOT NULL,
        contact_id    bigint NOT NULL,
        address       text,
        outcome       text   NOT NULL,
        reason        text,
        engagement_id bigint,
        PRIMARY KEY (account_id, send_id, contact_id)
    );
    """)


def downgrade() -> None:
    op.execute("""DROP TABLE list_send_recipients, list_sends, email_suppressions,
        list_record_versions, list_memberships, lists, contact_page_view_rollups, page_views,
        tracking_cookies, form_submissions, forms; DROP SEQUENCE list_ids;""")
