"""Drop the GIN index on properties: no compiled search uses jsonb containment
(filters compare typed expressions of `properties ->> name`), and keeping a
jsonb_path_ops GIN up to date costs the indexer about half its throughput."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS search_documents_properties;")


def downgrade() -> None:
    op.execute("CREATE INDEX search_documents_properties ON search_documents"
               " USING gin (properties jsonb_path_ops);")
