"""Per-profile health scores and their history, from crm.healthscore.changed.v1,
for the Enterprise Summary: a score profile choice, and the average over time
(R-CSW-3, R-HLTH-4).

`workspace_health_scores` keeps each customer's newest score per profile (a
NULL score: the customer left the profile's segments); the newest `changed_at`
wins, so late and repeated events change nothing. `workspace_health_changes`
keeps every change, which the average over time replays per day.
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE workspace_health_scores (
        account_id    bigint      NOT NULL,
        profile_id    text        NOT NULL,
        customer_type text        NOT NULL,
        customer_id   bigint      NOT NULL,
        profile_name  text        NOT NULL,
        score         double precision,
        band          text,
        changed_at    timestamptz NOT NULL,
        PRIMARY KEY (account_id, profile_id, customer_type, customer_id)
    );

    CREATE TABLE workspace_health_changes (
        account_id    bigint      NOT NULL,
        profile_id    text        NOT NULL,
        customer_type text        NOT NULL,
        customer_id   bigint      NOT NULL,
        changed_at    timestamptz NOT NULL,
        score         double precision,
        PRIMARY KEY (account_id, profile_id, customer_type, customer_id, changed_at)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE workspace_health_scores, workspace_health_changes;")
