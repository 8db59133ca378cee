"""Number ranges answered by the GIN index: `filter_terms` also holds number terms.

The total of bench_search's query (lifecyclestage EQ, country IN, score GT 50,
1,000,000 contacts) counted up to 10,000 matches by reading every candidate
row's jsonb to compare `score`: ~20,000 rows on ~18,000 heap pages. With the
terms of `crm_search.domain.number_terms` in the same GIN-indexed column, one
index scan answers all three filters exactly (23,809 rows, no recheck) and the
count reads only the matching rows: about half the time under the same load.

`search_number_terms_of` mirrors `number_terms.stored_terms` (an integration
test compares them on edge values); it runs only on values that read as a
number by `typing.NUMBER_PATTERN`, the same check as the typed comparison's.

PostgreSQL 15 cannot change a generated column's expression, so the column is
made again: a rewrite of each document table (about 3 minutes per million
documents on the 2-core dev machine), and its index is rebuilt. ANALYZE then
gives the planner the new column's element statistics at once (a search
planned without them may pick the wrong index until autovacuum's analyze).
"""

from alembic import op

from crm_search.migrations.document_tables import document_tables

revision = "0009"
down_revision = "0008"

# crm_search.domain.typing.NUMBER_PATTERN, anchored
NUMBER_SHAPE = r"^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?)$"
LIMIT = "1e15"  # crm_search.domain.number_terms.LIMIT

FUNCTIONS_SQL = r"""
CREATE FUNCTION search_number_terms_of(key text, value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    number numeric;
    floored numeric;
    family text;
    digits text;
    size int;
    terms text[];
BEGIN
    IF value !~ '{number_shape}' THEN
        RETURN '{}';
    END IF;
    number := value::numeric;
    floored := floor(number);
    IF floored >= {limit} THEN
        RETURN ARRAY[key || '#max'];
    ELSIF floored < -{limit} THEN
        RETURN ARRAY[key || '#min'];
    ELSIF floored >= 0 THEN
        family := 'p';
        digits := floored::text;
    ELSE
        family := 'n';
        digits := (-floored)::text;
    END IF;
    size := length(digits);
    terms := ARRAY[key || '#' || family || 'd' || size];
    FOR i IN 1 .. size - 1 LOOP
        terms := terms || (key || '#' || family || size || ':' || left(digits, i));
    END LOOP;
    RETURN terms || (key || '#' || family || size || ':' || digits
                     || CASE WHEN number <> floored THEN '.' ELSE '' END);
END
$fn$;

-- Every number-shaped value's terms, for keys that are plain identifiers; not
-- hs_object_id, whose whole-number comparisons read the record_id column
-- (query_sql._on_record_id), so its terms would never be looked up.
CREATE FUNCTION search_number_terms(properties jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT coalesce(array_agg(term), '{}')
FROM jsonb_each_text(properties) AS p(key, value),
     unnest(search_number_terms_of(key, value)) AS t(term)
WHERE left(value, 1) IN ('+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
  AND key ~ '^[A-Za-z_][A-Za-z0-9_]*$' AND key <> 'hs_object_id'
$fn$;
""".replace("{number_shape}", NUMBER_SHAPE).replace("{limit}", LIMIT)


def _remake_filter_terms(table: str, expression: str) -> str:
    return f"""
    ALTER TABLE {table} DROP COLUMN filter_terms,
        ADD COLUMN filter_terms text[] GENERATED ALWAYS AS ({expression}) STORED;
    CREATE INDEX {table}_filter_terms ON {table} USING gin (filter_terms);
    ANALYZE {table};
    """



def upgrade() -> None:
    op.get_bind().exec_driver_sql(FUNCTIONS_SQL)
    for table in document_tables():
        op.execute(_remake_filter_terms(
            table, "search_filter_terms(properties) || search_number_terms(properties)"))


def downgrade() -> None:
    for table in document_tables():
        op.execute(_remake_filter_terms(table, "search_filter_terms(properties)"))
    op.execute("DROP FUNCTION search_number_terms(jsonb);"
               " DROP FUNCTION search_number_terms_of(text, text);")
