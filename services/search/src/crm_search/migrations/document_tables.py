"""The tables a migration of the documents' shape must change: the live one and
every rebuild generation still present (later generations copy the live one)."""

from alembic import op


def document_tables() -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT table_name FROM search_rebuilds WHERE table_name IN "
        "(SELECT tablename FROM pg_tables WHERE schemaname = current_schema())").fetchall()
    return ["search_documents", *(row[0] for row in rows)]
