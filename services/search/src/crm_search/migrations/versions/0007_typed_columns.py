"""Make a filtered, sorted search over a million documents answer in milliseconds.

Two costs dominated (bench/bench_search.py, 1,000,000 contacts):
- dates were parsed per row by `regexp_match` with twelve capture groups, which
  PostgreSQL's regex engine runs at about 1 ms a value; `search_epoch_millis`
  checks the shape with a capture-free pattern (fast) and reads the fields by
  position, about 60x faster, same results as `domain.typing.parse_epoch_millis`;
- every filter read every candidate row's jsonb: `filter_terms` (generated from
  the properties, under a GIN index) holds `name=value`, `name~lower(value)`
  and, for `;`-separated values, `name;option`, so EQ and IN on text,
  enumeration and bool properties are answered by the index exactly, and the
  planner estimates them from the column's element statistics.

And the dates people sort and filter by most get stored epoch-millisecond
columns (`ms_<property>`), so ordering 20,000 matches does not parse 20,000
dates. Generated columns keep every writer (the indexer, a rebuild, a bench
loading rows with SQL) right without knowing about them.

Applies to `search_documents` and to every rebuild generation already made
(`search_documents_g<id>`); later generations copy it (LIKE ... INCLUDING ALL).
"""

from alembic import op

from crm_search.migrations.document_tables import document_tables

revision = "0007"
down_revision = "0006"

# Kept in step with crm_search.adapters.query_sql.DATE_COLUMNS.
DATE_COLUMNS = {
    "createdate": "ms_createdate",
    "lastmodifieddate": "ms_lastmodifieddate",
    "hs_lastmodifieddate": "ms_hs_lastmodifieddate",
    "closedate": "ms_closedate",
    "hs_timestamp": "ms_hs_timestamp",
}
TERM_MAX_LENGTH = 200  # crm_search.adapters.query_sql.TERM_MAX_LENGTH
# crm_search.domain.typing.TIMESTAMP_PATTERN's ISO branch, capture-free and anchored
ISO_SHAPE = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)

FUNCTIONS_SQL = r"""
CREATE FUNCTION search_epoch_millis(value text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    millis bigint;
    rest text;
    digits int;
    zone_millis bigint;
BEGIN
    IF value ~ '^-?[0-9]{1,15}$' THEN
        RETURN value::bigint;
    END IF;
    -- typing.TIMESTAMP_PATTERN without its capture groups
    IF value !~ '{iso_shape}'
       OR left(value, 4) = '0000' THEN
        RETURN NULL;
    END IF;
    -- a day past the end of its month rolls over, as typing.parse_epoch_millis does
    millis := (make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, 1)
               - DATE '1970-01-01' + substr(value, 9, 2)::int - 1)::bigint * 86400000;
    IF length(value) = 10 THEN
        RETURN millis;
    END IF;
    millis := millis + substr(value, 12, 2)::bigint * 3600000
                     + substr(value, 15, 2)::bigint * 60000;
    rest := substr(value, 17);
    IF left(rest, 1) = ':' THEN
        millis := millis + substr(rest, 2, 2)::bigint * 1000;
        rest := substr(rest, 4);
        IF left(rest, 1) = '.' THEN
            digits := length(rest) - 1 - length(ltrim(substr(rest, 2), '0123456789'));
            millis := millis + rpad(substr(rest, 2, least(digits, 3)), 3, '0')::bigint;
            rest := substr(rest, 2 + digits);
        END IF;
    END IF;
    IF rest = '' OR rest = 'Z' THEN
        RETURN millis;
    END IF;
    zone_millis := substr(rest, 2, 2)::bigint * 3600000 + right(rest, 2)::bigint * 60000;
    RETURN CASE left(rest, 1) WHEN '+' THEN millis - zone_millis ELSE millis + zone_millis END;
END
$fn$;

-- Terms, for keys that are plain identifiers (so "key SEP text" reads one way):
--   key=value          the value as stored
--   key~lower(value)   when lower-casing changes it
--   key;option         each option of a ";"-separated value
CREATE FUNCTION search_filter_terms(properties jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT coalesce(array_agg(DISTINCT term), '{}')
FROM jsonb_each_text(properties) AS p(key, value),
     LATERAL (SELECT key || '=' || value WHERE length(value) <= {term_max}
              UNION ALL
              SELECT key || '~' || lower(value)
              WHERE length(value) <= {term_max} AND lower(value) <> value
              UNION ALL
              SELECT key || ';' || option FROM unnest(string_to_array(value, ';')) AS o(option)
              WHERE strpos(value, ';') > 0 AND option <> '' AND length(option) <= {term_max}
             ) AS t(term)
WHERE value <> '' AND key ~ '^[A-Za-z_][A-Za-z0-9_]*$'
$fn$;

-- The terms of which a record must hold one to match EQ/IN with these operands.
-- Strings and bools compare case-insensitively, enumerations exactly (a whole
-- value or one option): see crm_search.domain.typing.
CREATE FUNCTION search_filter_terms_of(name text, operands text[], case_insensitive boolean)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT coalesce(array_agg(term), '{}') FROM unnest(operands) AS operand,
LATERAL (SELECT name || '=' || lower(operand) WHERE case_insensitive
         UNION ALL SELECT name || '~' || lower(operand) WHERE case_insensitive
         UNION ALL SELECT name || '=' || operand WHERE NOT case_insensitive
         UNION ALL SELECT name || ';' || operand WHERE NOT case_insensitive) AS t(term)
$fn$;
""".replace("{term_max}", str(TERM_MAX_LENGTH)).replace("{iso_shape}", ISO_SHAPE)


def _table_sql(table: str) -> str:
    columns = ",\n".join(
        f"ADD COLUMN {column} bigint GENERATED ALWAYS AS"
        f" (search_epoch_millis(properties ->> '{name}')) STORED"
        for name, column in DATE_COLUMNS.items())
    return f"""
    ALTER TABLE {table}
        ADD COLUMN filter_terms text[] GENERATED ALWAYS AS (search_filter_terms(properties)) STORED,
        {columns};
    CREATE INDEX {table}_filter_terms ON {table} USING gin (filter_terms);
    CREATE INDEX {table}_createdate_desc ON {table}
        (account_id, object_type, ms_createdate DESC NULLS LAST, record_id);
    """



def upgrade() -> None:
    # As the driver's own text: SQLAlchemy would read the regex's ":[0-5]" as a bind.
    op.get_bind().exec_driver_sql(FUNCTIONS_SQL)
    for table in document_tables():
        op.execute(_table_sql(table))


def downgrade() -> None:
    for table in document_tables():
        drops = ", ".join(f"DROP COLUMN {c}" for c in ["filter_terms", *DATE_COLUMNS.values()])
        op.execute(f"ALTER TABLE {table} {drops};")  # their indexes go with them
    op.execute("DROP FUNCTION search_filter_terms_of(text, text[], boolean);"
               " DROP FUNCTION search_filter_terms(jsonb);"
               " DROP FUNCTION search_epoch_millis(text);")
