"""A version per (account, object type) catalogue of property definitions, changed by
every statement that writes the definitions (a trigger, so no writer can forget it).
Every record write reads its type's catalogue; with the version a process keeps the
parsed catalogue and reads one small row instead (crm_records.adapters.postgres). The
version is a random uuid, so a catalogue cached from one database never matches
another's (tests make and drop databases with the same account ids). On the property
catalogue's branch, after 0011."""

from alembic import op

revision = "0053"
down_revision = "0011"


def upgrade() -> None:
    op.execute("""
    CREATE TABLE property_catalog_versions (
        account_id  bigint NOT NULL,
        object_type text   NOT NULL,
        version     uuid   NOT NULL,
        PRIMARY KEY (account_id, object_type)
    );
    INSERT INTO property_catalog_versions (account_id, object_type, version)
    SELECT account_id, object_type, gen_random_uuid()
    FROM (SELECT DISTINCT account_id, object_type FROM property_definitions) AS catalogs;

    CREATE FUNCTION property_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO property_catalog_versions AS v (account_id, object_type, version)
        SELECT account_id, object_type, gen_random_uuid()
        FROM (SELECT DISTINCT account_id, object_type FROM changed) AS catalogs
        ON CONFLICT (account_id, object_type) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END $$;
    CREATE TRIGGER property_definitions_inserted AFTER INSERT ON property_definitions
        REFERENCING NEW TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION property_catalog_changed();
    CREATE TRIGGER property_definitions_updated AFTER UPDATE ON property_definitions
        REFERENCING NEW TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION property_catalog_changed();
    CREATE TRIGGER property_definitions_deleted AFTER DELETE ON property_definitions
        REFERENCING OLD TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION property_catalog_changed();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER property_definitions_inserted ON property_definitions;
    DROP TRIGGER property_definitions_updated ON property_definitions;
    DROP TRIGGER property_definitions_deleted ON property_definitions;
    DROP FUNCTION property_catalog_changed();
    DROP TABLE property_catalog_versions;
    """)
