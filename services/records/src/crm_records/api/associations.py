"""/crm/v4/objects/.../associations and /crm/v4/associations/...: the hosted CRM's
associations v4 endpoints (R-REC-6, R-REC-7), status codes as hosted (labelled
create 201, default create 200, delete and batch archive 204, batch create 201,
partial batches 207), so the official SDK's `crm.associations.v4` works."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.api.errors import to_api_error
from crm_records.bootstrap import Container
from crm_records.domain.associations import AssociationType, object_type_id, type_name
from crm_records.domain.record import Record, iso_millis
from crm_records.handlers.associations import NewAssociation, PairLabels, TypeSpec
from crm_records.handlers.records import Actor

router = APIRouter(tags=["associations"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]
MAX_BATCH = 1000  # hosted: 1,000 inputs per v4 batch


class Spec(BaseModel):
    model_config = ConfigDict(extra="ignore")
    associationCategory: str = "HUBSPOT_DEFINED"
    associationTypeId: int


class ObjectId(BaseModel):
    id: str


class MultiPost(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: ObjectId = Field(alias="from")
    to: ObjectId
    types: list[Spec] = Field(default_factory=list)


class BatchMultiPost(BaseModel):
    inputs: list[MultiPost]


class MultiArchive(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: ObjectId = Field(alias="from")
    to: list[ObjectId]


class BatchMultiArchive(BaseModel):
    inputs: list[MultiArchive]


class FetchInput(BaseModel):
    id: str
    after: str | None = None


class BatchFetch(BaseModel):
    inputs: list[FetchInput]


class LabelCreate(BaseModel):
    label: str
    name: str | None = None
    inverseLabel: str | None = None


def _actor(caller: Principal) -> Actor:
    return Actor(account_id=caller.account_id, user_id=caller.user_id, source="API")


def _size(count: int) -> None:
    if count > MAX_BATCH:
        raise ApiError(400, f"Batch of {count} inputs is over the limit of {MAX_BATCH}.")


def _specs(types: Sequence[Spec]) -> list[TypeSpec]:
    return [TypeSpec(t.associationCategory, t.associationTypeId) for t in types]


def spec_out(t: AssociationType) -> dict[str, Any]:
    return {"category": t.category, "typeId": t.type_id, "label": t.label}


def labels_out(pair: PairLabels) -> dict[str, Any]:
    return {"fromObjectTypeId": object_type_id(pair.from_type), "fromObjectId": pair.from_id,
            "toObjectTypeId": object_type_id(pair.to_type), "toObjectId": pair.to_id,
            "labels": pair.labels}


def _error(error: Exception, ids: Sequence[str]) -> dict[str, Any]:
    problem = to_api_error(error)
    return {"status": "error", "category": problem.category or "VALIDATION_ERROR",
            "message": problem.message,
            "context": {"ids": list(ids)}}


def _batch(results: list[Any], errors: list[dict[str, Any]], started: datetime,
           response: Response, ok_status: int = 200) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                            "startedAt": started, "completedAt": datetime.now(UTC)}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        response.status_code = 207
    else:
        response.status_code = ok_status
    return body


# ------------------------------------------------------------------ one pair


@router.put("/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
            status_code=201)
async def create(objectType: str, objectId: str, toObjectType: str, toObjectId: str,
                 body: list[Spec], caller: Caller, app: App) -> dict[str, Any]:
    """Associate with the given types (labels, primary); the default type always comes too."""
    pair = await app.associations.associate(
        _actor(caller), app.object_type(objectType), presenter.parse_id(objectId),
        app.object_type(toObjectType), presenter.parse_id(toObjectId), _specs(body))
    return labels_out(pair)


@router.put("/crm/v4/objects/{objectType}/{objectId}/associations/default/{toObjectType}/"
            "{toObjectId}")
async def create_default(objectType: str, objectId: str, toObjectType: str, toObjectId: str,
                         caller: Caller, app: App, response: Response) -> dict[str, Any]:
    started = datetime.now(UTC)
    from_type, to_type = app.object_type(objectType), app.object_type(toObjectType)
    from_id, to_id = presenter.parse_id(objectId), presenter.parse_id(toObjectId)
    await app.associations.associate(_actor(caller), from_type, from_id, to_type, to_id)
    types = await app.associations.types(caller.account_id, from_type, to_type)
    default = next(t for t in types if t.is_default)
    results = [{"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
                "associationSpec": {"associationCategory": default.category,
                                    "associationTypeId": default.type_id}}]
    return _batch(results, [], started, response)


@router.get("/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}")
async def get_page(objectType: str, objectId: str, toObjectType: str, caller: Caller,
                   app: App, limit: Annotated[int, Query(ge=1, le=500)] = 500,
                   after: str | None = None) -> dict[str, Any]:
    from_type, to_type = app.object_type(objectType), app.object_type(toObjectType)
    from_id = presenter.parse_id(objectId)
    found = await app.associations.associated(caller.account_id, from_type, [from_id],
                                              to_type, after=presenter.parse_after(after),
                                              limit=limit + 1, viewer=caller)
    if from_id not in found:
        raise presenter.object_not_found(objectId)
    rows = found[from_id]
    page, more = rows[:limit], len(rows) > limit
    body: dict[str, Any] = {"results": [
        {"toObjectId": to_id, "associationTypes": [spec_out(t) for t in types]}
        for to_id, types in page]}
    if more:
        body["paging"] = {"next": {"after": str(page[-1][0])}}
    return body


@router.delete("/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/"
               "{toObjectId}", status_code=204, response_class=Response)
async def archive(objectType: str, objectId: str, toObjectType: str, toObjectId: str,
                  caller: Caller, app: App) -> Response:
    await app.associations.remove_many(
        _actor(caller), app.object_type(objectType), app.object_type(toObjectType),
        [(presenter.parse_id(objectId), presenter.parse_id(toObjectId))])
    return Response(status_code=204)


# ------------------------------------------------------------------ batches


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create",
             status_code=201)
async def batch_create(fromObjectType: str, toObjectType: str, body: BatchMultiPost,
                       caller: Caller, app: App, response: Response) -> dict[str, Any]:
    _size(len(body.inputs))
    started = datetime.now(UTC)
    results = await app.associations.associate_many(
        _actor(caller), app.object_type(fromObjectType), app.object_type(toObjectType),
        [(presenter.parse_id(i.from_.id), presenter.parse_id(i.to.id), _specs(i.types))
         for i in body.inputs])
    done = [labels_out(r) for r in results if isinstance(r, PairLabels)]
    errors = [_error(r, [i.from_.id, i.to.id]) for r, i in zip(results, body.inputs,
                                                               strict=True)
              if isinstance(r, Exception)]
    return _batch(done, errors, started, response, ok_status=201)


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default")
async def batch_create_default(fromObjectType: str, toObjectType: str, body: BatchMultiPost,
                               caller: Caller, app: App, response: Response) -> dict[str, Any]:
    _size(len(body.inputs))
    started = datetime.now(UTC)
    from_type, to_type = app.object_type(fromObjectType), app.object_type(toObjectType)
    results = await app.associations.associate_many(
        _actor(caller), from_type, to_type,
        [(presenter.parse_id(i.from_.id), presenter.parse_id(i.to.id), None)
         for i in body.inputs])
    default = next(t for t in await app.associations.types(caller.account_id, from_type,
                                                           to_type) if t.is_default)
    done = [{"from": {"id": str(r.from_id)}, "to": {"id": str(r.to_id)},
             "associationSpec": {"associationCategory": default.category,
                                 "associationTypeId": default.type_id}}
            for r in results if isinstance(r, PairLabels)]
    errors = [_error(r, [i.from_.id, i.to.id]) for r, i in zip(results, body.inputs,
                                                               strict=True)
              if isinstance(r, Exception)]
    return _batch(done, errors, started, response)


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read")
async def batch_read(fromObjectType: str, toObjectType: str, body: BatchFetch,
                     caller: Caller, app: App, response: Response) -> dict[str, Any]:
    _size(len(body.inputs))
    started = datetime.now(UTC)
    ids = [presenter.parse_id(i.id) for i in body.inputs]
    found = await app.associations.associated(caller.account_id,
                                              app.object_type(fromObjectType), ids,
                                              app.object_type(toObjectType), viewer=caller)
    results = [{"from": {"id": str(i)}, "to": [
        {"toObjectId": to_id, "associationTypes": [spec_out(t) for t in types]}
        for to_id, types in found[i]]} for i in dict.fromkeys(ids) if i in found]
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    errors = [presenter.missing_ids_error(missing)] if missing else []
    return _batch(results, errors, started, response)


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive",
             status_code=204, response_class=Response)
async def batch_archive(fromObjectType: str, toObjectType: str, body: BatchMultiArchive,
                        caller: Caller, app: App) -> Response:
    _size(len(body.inputs))
    await app.associations.remove_many(
        _actor(caller), app.object_type(fromObjectType), app.object_type(toObjectType),
        [(presenter.parse_id(i.from_.id), presenter.parse_id(to.id))
         for i in body.inputs for to in i.to])
    return Response(status_code=204)


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/labels/archive",
             status_code=204, response_class=Response)
async def batch_archive_labels(fromObjectType: str, toObjectType: str, body: BatchMultiPost,
                               caller: Caller, app: App) -> Response:
    """Removes only the named types of each pair (the association itself stays)."""
    _size(len(body.inputs))
    from_type, to_type = app.object_type(fromObjectType), app.object_type(toObjectType)
    for i in body.inputs:
        await app.associations.remove_many(
            _actor(caller), from_type, to_type,
            [(presenter.parse_id(i.from_.id), presenter.parse_id(i.to.id))],
            only_types=[s for s in _specs(i.types)])
    return Response(status_code=204)


# ------------------------------------------------------------------ labels


@router.get("/crm/v4/associations/{fromObjectType}/{toObjectType}/labels")
async def labels(fromObjectType: str, toObjectType: str, caller: Caller,
                 app: App) -> dict[str, Any]:
    types = await app.associations.types(caller.account_id, app.object_type(fromObjectType),
                                         app.object_type(toObjectType))
    return {"results": [spec_out(t) for t in types]}


@router.post("/crm/v4/associations/{fromObjectType}/{toObjectType}/labels")
async def create_label(fromObjectType: str, toObjectType: str, body: LabelCreate,
                       caller: Caller, app: App) -> dict[str, Any]:
    made = await app.associations.create_label(
        _actor(caller), app.object_type(fromObjectType), app.object_type(toObjectType),
        body.label, body.name, body.inverseLabel)
    return {"results": [spec_out(t) for t in made]}


# ------------------------------------------------------------------ for /crm/v3/objects

# R-REC-7: names the associations a create left out because the record was full
# (JSON list of {"toObjectType", "toObjectId", "message"}); absent when none were.
UNASSOCIATED_HEADER = "X-CRM-Unassociated"
# R-ROLL-2: when the roll-up consumer last brought each roll-up up to date (JSON
# object: roll-up property -> ISO time); absent until it has looked at the record.
ROLLUPS_HEADER = "X-CRM-Rollups-Updated-At"


def new_associations(raw: Sequence[dict[str, Any]]) -> list[NewAssociation]:
    """The hosted create body's associations[]: {to: {id}, types: [{...}]}."""
    parsed = []
    for entry in raw:
        try:
            to_id = presenter.parse_id(str(entry["to"]["id"]))
            types = [Spec.model_validate(t) for t in entry.get("types") or ()]
        except (KeyError, TypeError, ValueError) as bad:
            raise ApiError(400, f"Invalid association input: {entry!r}") from bad
        if not types:
            raise ApiError(400, "An association needs at least one type in types[]")
        parsed.append(NewAssociation(to_id, _specs(types)))
    return parsed


async def create_with_associations(app: Container, actor: Actor, object_type: str,
                                   values: dict[str, str | None],
                                   raw_associations: Sequence[dict[str, Any]],
                                   response: Response) -> Record:
    created = await app.associations.create_records(
        actor, object_type, [(values, new_associations(raw_associations))])
    if created.unassociated:
        response.headers[UNASSOCIATED_HEADER] = json.dumps([
            {"toObjectType": to_type, "toObjectId": str(to_id), "message": message}
            for _, to_type, to_id, message in created.unassociated])
    return created.records[0]


async def associations_of(app: Container, account_id: int, object_type: str, record_id: int,
                          to_type_names: Sequence[str],
                          viewer: Principal | None = None) -> dict[str, Any]:
    """The hosted read's `associations`: {companies: {results: [{id, type}]}}, one
    entry per association type of each associated record `viewer` may see (R-AUTH-3)."""
    out: dict[str, Any] = {}
    for name in to_type_names:
        to_type = app.object_type(name)
        found = await app.associations.associated(account_id, object_type, [record_id],
                                                  to_type, viewer=viewer)
        results = [{"id": str(to_id), "type": type_name(t)}
                   for to_id, types in found.get(record_id, []) for t in types]
        if results:
            out[to_type] = {"results": results}
    return out


async def set_rollups_header(app: Container, response: Response, account_id: int,
                             object_type: str, record_id: int) -> None:
    progress = await app.rollups_updated_at(account_id, object_type, record_id)
    if progress:
        response.headers[ROLLUPS_HEADER] = json.dumps(
            {name: iso_millis(at) for name, at in sorted(progress.items())})
