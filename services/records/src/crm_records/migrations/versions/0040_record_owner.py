"""Record-level visibility (R-AUTH-3): the owner as an indexed bigint column.

`owner_id` is generated from the owner property (`hubspot_owner_id`, a user
id kept as a string in the jsonb), NULL when blank or not a number, so list
queries filter by scope inside the query and paging stays right. Its own
branch from 0002 (migrations run `upgrade heads`).
"""

from alembic import op

revision = "0040"
down_revision = "0002"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE records ADD COLUMN owner_id bigint GENERATED ALWAYS AS (
        CASE WHEN properties->>'hubspot_owner_id' ~ '^[0-9]{1,18}$'
             THEN (properties->>'hubspot_owner_id')::bigint END) STORED;
    CREATE INDEX records_listing_by_owner
        ON records (account_id, object_type, archived, owner_id, record_id);
    """)


def downgrade() -> None:
    op.execute("DROP INDEX records_listing_by_owner; ALTER TABLE records DROP COLUMN owner_id;")
