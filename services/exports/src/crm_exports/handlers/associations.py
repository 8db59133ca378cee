"""Adds each page's association cells before it is written (R-EXP-4).

Per page and associated object type: one batch read of the page's associated
ids, then one batch read (per 100) of the ids a cell can hold (the first
1,000 a record has, or all of them for an ALL export), for their names. Both
as the requesting user, so only associated records the user may see appear.
Memory holds one page's associations at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from crm_exports.adapters.records_client import RecordsClient
from crm_exports.adapters.search_client import UserToken
from crm_exports.domain.associations import AssociationMode, ids_to_name, name_properties
from crm_exports.domain.rows import AssociatedRecord, ExportRecord, associated_records


async def page_associations(records: RecordsClient, object_type: str, page: Sequence[ExportRecord],
                            to_type: str, mode: AssociationMode, token: UserToken
                            ) -> dict[int, list[AssociatedRecord]]:
    """Per record of the page, its visible associated `to_type` records, named."""
    ids = await records.associated_ids(object_type, [r.id for r in page], to_type, token)
    wanted = {record_id: ids_to_name(found, mode) for record_id, found in ids.items()}
    unique = list(dict.fromkeys(i for found in wanted.values() for i in found))
    visible = (await records.read(to_type, unique, name_properties(to_type), token)
               if unique else {})
    return {record_id: associated_records(to_type, found, visible)
            for record_id, found in wanted.items()}


async def with_associations(pages: AsyncIterator[list[ExportRecord]], records: RecordsClient,
                            object_type: str, association_types: Sequence[str],
                            mode: AssociationMode, token: UserToken
                            ) -> AsyncIterator[list[ExportRecord]]:
    async for page in pages:
        if not association_types or not page:
            yield page
            continue
        per_type = {to_type: await page_associations(records, object_type, page, to_type,
                                                     mode, token)
                    for to_type in association_types}
        yield [replace(record, associations={t: per_type[t].get(record.id, [])
                                             for t in association_types})
               for record in page]
