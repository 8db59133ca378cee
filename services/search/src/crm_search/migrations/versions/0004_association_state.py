"""Associations kept with their state: a removed pair stays as a tombstone
(associated = false) so that a late, older `added` cannot bring it back."""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE search_associations
        ADD COLUMN associated boolean NOT NULL DEFAULT true,
        ADD COLUMN changed_at timestamptz NOT NULL DEFAULT '-infinity';
    CREATE INDEX search_associations_to ON search_associations
        (account_id, to_type, to_id, from_type, from_id);
    """)


def downgrade() -> None:
    op.execute("DROP INDEX search_associations_to;"
               " ALTER TABLE search_associations DROP COLUMN associated, DROP COLUMN changed_at;")
