"""Typed columns on the read model, so the Summary reads indexes, not JSON.

The task counts, today's schedule and the health overview filtered every row
of the user's records by values inside `properties` (451 ms p99 for 50,000
tasks). The record-event consumer now also writes:
- `scheduled_at`: a task's due time (`hs_timestamp`) or a meeting's start
  (`hs_meeting_start_time`), parsed; NULL when absent or not a datetime.
- `task_status`: `hs_task_status` of a task.
- `health_score` / `health_band`: `health_score` / `health_status` of a
  customer, as the records service writes them (R-CSW-3).

The backfill parses only the records service's own datetime form (UTC, `Z`),
the form `domain.read_model.parsed_datetime` accepts, so both agree.
"""

from alembic import op

revision = "0003"
down_revision = "0002"

# The records service's datetime form; `domain.read_model.parsed_datetime`
# accepts the same, and a value of that shape that is no real time (Feb 30) is
# NULL in both.
DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
NUMBER = r"'^-?\d{1,9}(\.\d+)?$'"
WHEN = ("(CASE object_type WHEN 'tasks' THEN properties->>'hs_timestamp'"
        " WHEN 'meetings' THEN properties->>'hs_meeting_start_time' END)")


def upgrade() -> None:
    op.execute(f"""
    ALTER TABLE workspace_records
        ADD COLUMN scheduled_at timestamptz,
        ADD COLUMN task_status  text,
        ADD COLUMN health_score double precision,
        ADD COLUMN health_band  text;

    CREATE FUNCTION pg_temp.workspace_instant(value text) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        IF value !~ '{DATETIME}' THEN RETURN NULL; END IF;
        RETURN value::timestamptz;
    EXCEPTION WHEN others THEN RETURN NULL;
    END $$;

    UPDATE workspace_records SET
        scheduled_at = pg_temp.workspace_instant({WHEN}),
        task_status = CASE WHEN object_type = 'tasks' THEN properties->>'hs_task_status' END,
        health_score = CASE WHEN properties->>'health_score' ~ {NUMBER}
                            THEN (properties->>'health_score')::double precision END,
        health_band = properties->>'health_status';

    -- Summary counts: open tasks of a user by due time (index-only range scans).
    CREATE INDEX workspace_open_tasks_due ON workspace_records
        (account_id, owner_id, scheduled_at)
        WHERE object_type = 'tasks' AND NOT archived
          AND task_status IS DISTINCT FROM 'COMPLETED';
    -- Schedule: a user's tasks and meetings by time.
    CREATE INDEX workspace_records_scheduled ON workspace_records
        (account_id, object_type, owner_id, scheduled_at)
        WHERE scheduled_at IS NOT NULL AND NOT archived;
    -- Health overview of customers whose CSM property is the owner.
    CREATE INDEX workspace_records_health ON workspace_records
        (account_id, object_type, owner_id) INCLUDE (health_score, health_band)
        WHERE health_score IS NOT NULL AND NOT archived;
    -- The counts are index-only scans only on pages the visibility map marks
    -- all-visible: vacuum after 2% of the rows changed, not the default 20%.
    ALTER TABLE workspace_records SET (autovacuum_vacuum_scale_factor = 0.02,
                                       autovacuum_vacuum_insert_scale_factor = 0.02,
                                       autovacuum_analyze_scale_factor = 0.02);
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE workspace_records RESET (autovacuum_vacuum_scale_factor,
        autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor);
    DROP INDEX workspace_open_tasks_due, workspace_records_scheduled, workspace_records_health;
    ALTER TABLE workspace_records DROP COLUMN scheduled_at, DROP COLUMN task_status,
        DROP COLUMN health_score, DROP COLUMN health_band;
    """)
