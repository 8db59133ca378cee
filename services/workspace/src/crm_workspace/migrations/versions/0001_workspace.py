"""The workspace's own data: settings, saved views, dashboards, bulk jobs,
alerts, hidden feed items, and the read model of records built from record
events (customers, tasks, meetings and other engagements).

A read-model row keeps the record's version; an older event changes nothing,
so repeated and out-of-order deliveries leave it exact. User assignments keep
when a user-type property was set to a user (from the events' changes), which
the *Assigned in the last 30 days* view reads.
"""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL
from crm_platform.outbox import OUTBOX_TABLE_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE workspace_settings (
        account_id  bigint PRIMARY KEY,
        version     bigint      NOT NULL,
        settings    jsonb       NOT NULL,
        updated_by  bigint      NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE workspace_views (
        id               uuid PRIMARY KEY,
        account_id       bigint      NOT NULL,
        tab              text        NOT NULL,
        object_type      text        NOT NULL,
        name             text        NOT NULL,
        sharing          text        NOT NULL,
        owner_user_id    bigint,
        standard         text,
        description      text        NOT NULL DEFAULT '',
        default_position int,
        filter_groups    jsonb       NOT NULL DEFAULT '[]',
        columns          jsonb       NOT NULL DEFAULT '[]',
        sorts            jsonb       NOT NULL DEFAULT '[]',
        version          bigint      NOT NULL DEFAULT 1,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX workspace_views_account ON workspace_views (account_id, tab);
    -- Standard views are seeded once per account and tab, so a deleted one stays deleted.
    CREATE TABLE workspace_view_seeds (
        account_id bigint NOT NULL,
        tab        text   NOT NULL,
        PRIMARY KEY (account_id, tab)
    );

    CREATE TABLE workspace_dashboards (
        id            uuid PRIMARY KEY,
        account_id    bigint      NOT NULL,
        dashboard_id  text        NOT NULL,
        name          text        NOT NULL,
        visibility    text        NOT NULL,
        team_ids      bigint[]    NOT NULL DEFAULT '{}',
        added_by      bigint      NOT NULL,
        added_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, dashboard_id)
    );

    CREATE TABLE workspace_jobs (
        id          uuid PRIMARY KEY,
        account_id  bigint      NOT NULL,
        user_id     bigint      NOT NULL,
        kind        text        NOT NULL,
        request     jsonb       NOT NULL,
        status      text        NOT NULL,
        report      jsonb       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
    );

    CREATE TABLE workspace_records (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        record_id   bigint      NOT NULL,
        version     bigint      NOT NULL,
        owner_id    bigint,
        properties  jsonb       NOT NULL,
        archived    boolean     NOT NULL DEFAULT false,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, record_id)
    );
    CREATE INDEX workspace_records_owner ON workspace_records (account_id, object_type, owner_id);

    CREATE TABLE workspace_assignments (
        account_id  bigint      NOT NULL,
        object_type text        NOT NULL,
        record_id   bigint      NOT NULL,
        property    text        NOT NULL,
        user_id     bigint      NOT NULL,
        assigned_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, object_type, property, user_id, record_id, assigned_at)
    );

    CREATE TABLE workspace_alerts (
        id          text PRIMARY KEY,
        account_id  bigint      NOT NULL,
        user_id     bigint      NOT NULL,
        object_type text        NOT NULL,
        record_id   bigint      NOT NULL,
        detail      jsonb       NOT NULL,
        fired_at    timestamptz NOT NULL
    );
    CREATE INDEX workspace_alerts_user ON workspace_alerts (account_id, user_id, fired_at);

    CREATE TABLE workspace_feed_hidden (
        account_id  bigint NOT NULL,
        user_id     bigint NOT NULL,
        object_type text   NOT NULL,
        record_id   bigint NOT NULL,
        PRIMARY KEY (account_id, user_id, object_type, record_id)
    );
    """)
    op.execute(OUTBOX_TABLE_SQL)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("""DROP TABLE workspace_settings, workspace_views, workspace_view_seeds,
        workspace_dashboards, workspace_jobs, workspace_records, workspace_assignments,
        workspace_alerts, workspace_feed_hidden, outbox, processed_events;""")
