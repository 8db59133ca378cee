"""Plan every search with its own values (plan_cache_mode = force_custom_plan).

asyncpg prepares each statement, and after five runs PostgreSQL may switch a
prepared statement to a generic plan, made without the parameter values. For
a search that is the wrong trade: the filter_terms operands are what tell the
planner how selective a filter is (GIN element statistics), so the generic
plan of bench_search's 3-filter query over 1,000,000 contacts scanned
~25x longer than the custom one (118 ms against 4.6 ms). Planning a search
costs about a millisecond. Set for the whole database, so the service's
connections get it when they open; the indexer's one upsert per batch pays
the same small planning cost.
"""

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format("
               "'ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());"
               " END $$;")


def downgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format("
               "'ALTER DATABASE %I RESET plan_cache_mode', current_database()); END $$;")
