"""The health score store: profiles, the facts per customer (built only from bus
events), scores with their explanation, every change of score, and alerts.

Facts keep each record's version: an event older than the stored version changes
nothing, so repeated and out-of-order deliveries leave the facts, and the scores
computed from them, exact. A deleted record stays as a tombstone (gone, version kept)
so a late event cannot bring it back.
"""

from alembic import op

from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL
from crm_platform.outbox import OUTBOX_TABLE_SQL

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE profiles (
        account_id   bigint      NOT NULL,
        profile_id   text        NOT NULL,
        live         jsonb,
        draft        jsonb,
        created_by   bigint      NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        PRIMARY KEY (account_id, profile_id)
    );

    CREATE TABLE account_settings (
        account_id           bigint PRIMARY KEY,
        customer_object_type text   NOT NULL,
        csm_property         text   NOT NULL,
        version              bigint NOT NULL
    );

    CREATE TABLE property_types (
        account_id  bigint NOT NULL,
        object_type text   NOT NULL,
        name        text   NOT NULL,
        type        text   NOT NULL,
        archived    boolean NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, object_type, name)
    );

    CREATE TABLE customers (
        account_id  bigint  NOT NULL,
        object_type text    NOT NULL,
        record_id   bigint  NOT NULL,
        version     bigint  NOT NULL,
        gone        boolean NOT NULL DEFAULT false,
        properties  jsonb   NOT NULL,
        PRIMARY KEY (account_id, object_type, record_id)
    );

    CREATE TABLE activities (
        account_id  bigint NOT NULL,
        object_type text   NOT NULL,
        record_id   bigint NOT NULL,
        version     bigint NOT NULL,
        event       jsonb,
        PRIMARY KEY (account_id, object_type, record_id)
    );

    CREATE TABLE activity_links (
        account_id    bigint NOT NULL,
        activity_type text   NOT NULL,
        activity_id   bigint NOT NULL,
        customer_type text   NOT NULL,
        customer_id   bigint NOT NULL,
        PRIMARY KEY (account_id, activity_type, activity_id, customer_type, customer_id)
    );
    CREATE INDEX activity_links_customer ON activity_links
        (account_id, customer_type, customer_id);

    CREATE TABLE scores (
        account_id     bigint      NOT NULL,
        profile_id     text        NOT NULL,
        customer_type  text        NOT NULL,
        customer_id    bigint      NOT NULL,
        score          integer     NOT NULL,
        band           text        NOT NULL,
        result         jsonb       NOT NULL,
        computed_at    timestamptz NOT NULL,
        next_change_at timestamptz,
        PRIMARY KEY (account_id, profile_id, customer_type, customer_id)
    );
    CREATE INDEX scores_due ON scores (next_change_at) WHERE next_change_at IS NOT NULL;

    CREATE TABLE score_changes (
        id            bigserial   PRIMARY KEY,
        account_id    bigint      NOT NULL,
        profile_id    text        NOT NULL,
        customer_type text        NOT NULL,
        customer_id   bigint      NOT NULL,
        old_score     integer,
        new_score     integer,
        old_band      text,
        new_band      text,
        cause         text        NOT NULL,
        at            timestamptz NOT NULL
    );
    CREATE INDEX score_changes_customer ON score_changes
        (account_id, profile_id, customer_type, customer_id, at);
    CREATE INDEX score_changes_profile ON score_changes (account_id, profile_id, at);

    CREATE TABLE alerts (
        seq           bigserial   PRIMARY KEY,
        alert_id      text        NOT NULL UNIQUE,
        account_id    bigint      NOT NULL,
        user_id       bigint,
        profile_id    text        NOT NULL,
        customer_type text        NOT NULL,
        customer_id   bigint      NOT NULL,
        old_band      text        NOT NULL,
        new_band      text        NOT NULL,
        score         integer     NOT NULL,
        cause         text        NOT NULL,
        fired_at      timestamptz NOT NULL,
        expires_at    timestamptz NOT NULL
    );
    CREATE INDEX alerts_per_user ON alerts (account_id, user_id, seq);
    """)
    op.execute(OUTBOX_TABLE_SQL)
    op.execute(PROCESSED_EVENTS_TABLE_SQL)
    op.execute(IDENTITY_TABLES_SQL)


def downgrade() -> None:
    op.execute("""DROP TABLE alerts, score_changes, scores, activity_links, activities,
                  customers, property_types, account_settings, profiles, outbox,
                  processed_events;""")
