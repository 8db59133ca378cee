"""The Alembic environment shared by every service (see crm_platform.db.migrate)."""

from alembic import context
from sqlalchemy import create_engine, text

MIGRATION_LOCK = 7_242_001  # any constant: one migrator at a time per database

config = context.config
engine = create_engine(config.attributes["dsn"])
with engine.connect() as connection:
    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
    connection.commit()
    try:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
engine.dispose()
