"""The documents' GIN indexes take each write directly (fastupdate = off).

With PostgreSQL's default (fastupdate = on) a write lands in the index's pending
list, up to gin_pending_list_limit (4 MB), and every search reads that whole
list before it uses the index proper. On bench_search's 1,000,000 contacts a full
pending list (511 pages, 6,133 documents) doubled the capped count: p50 50 ms
against 25 ms with the list empty. A steadily written index always holds some
list, so searches paid between nothing and that, depending on when the last
flush was; the write that overflowed the list paid for its whole merge.

Without the list a write goes straight into the index: 8,442 documents/s
against 10,470 on the same 1,000,000-row table, 20 % slower to write, while the
indexer's catch-up rate (bench_index_lag) is bounded elsewhere. The pending list
already there is merged now, so no search keeps paying for it.

Rebuild generations copy their indexes from the live table (LIKE ... INCLUDING
ALL carries the storage parameters), and those already present are changed here.
"""

from alembic import op

from crm_search.migrations.document_tables import document_tables

revision = "0010"
down_revision = "0009"

GIN_INDEXES_SQL = """
SELECT index_class.oid::regclass::text
FROM pg_index
JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid
JOIN pg_am ON pg_am.oid = index_class.relam
WHERE pg_index.indrelid = %(table)s::regclass AND pg_am.amname = 'gin'
"""


def _gin_indexes() -> list[str]:
    bind = op.get_bind()
    return [row[0] for table in document_tables()
            for row in bind.exec_driver_sql(GIN_INDEXES_SQL, {"table": table}).fetchall()]


def upgrade() -> None:
    for index in _gin_indexes():
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    for index in _gin_indexes():
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
