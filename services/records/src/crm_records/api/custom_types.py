"""Custom object types per request: before a route resolves the object types its
path names, the caller's account's custom types are loaded (only when a name is
not a standard type, so standard paths cost no query) and set for
`Container.object_type` (R-REC-1)."""

from __future__ import annotations

from fastapi import Request

from crm_records.adapters.schemas_pg import SchemaUnitOfWork
from crm_records.domain.errors import UnknownObjectType
from crm_records.domain.object_types import resolve_object_type
from crm_records.handlers.custom_objects import REQUEST_CUSTOM_TYPES, SchemasHandler

TYPE_PARAMETERS = ("objectType", "toObjectType", "fromObjectType")


def schemas_handler(request: Request) -> SchemasHandler:
    """The handler on the running container's pool (made on first use after start-up)."""
    state, pool = request.app.state, request.app.state.container.pool
    if getattr(state, "schemas_pool", None) is not pool:
        state.schemas = SchemasHandler(SchemaUnitOfWork(pool))
        state.schemas_pool = pool
    return state.schemas


def _names_in(request: Request) -> list[str]:
    names = [request.path_params[p] for p in TYPE_PARAMETERS if p in request.path_params]
    # ?associations=cars,companies on a record read names types too.
    names += [n for value in request.query_params.getlist("associations")
              for n in value.split(",") if n.strip()]
    return names


def _all_standard(names: list[str]) -> bool:
    try:
        for name in names:
            resolve_object_type(name)
    except UnknownObjectType:
        return False
    return True


async def load_custom_types(request: Request, account_id: int) -> None:
    if request.url.path.startswith("/crm/v3/schemas") or _all_standard(_names_in(request)):
        REQUEST_CUSTOM_TYPES.set(())
        return
    REQUEST_CUSTOM_TYPES.set(tuple(await schemas_handler(request).custom_types(account_id)))
