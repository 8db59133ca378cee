"""/crm/v3/pipelines/{objectType}: pipelines and their stages in the hosted
CRM's shapes (R-PIPE-1). Stage metadata carries probability and isClosed
(deals) or ticketState (tickets), all strings as hosted; our one addition is
`requiredProperties` ("a;b"), the properties a record needs before it may
enter the stage (R-PIPE-2)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.domain.errors import InvalidPipeline
from crm_records.domain.pipelines import Pipeline, Stage
from crm_records.handlers.pipelines import PipelineNotFound, StoredPipeline

router = APIRouter(prefix="/crm/v3/pipelines", tags=["pipelines"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]
REQUIRED = "requiredProperties"


class StageModel(BaseModel):
    id: str
    label: str
    displayOrder: int
    metadata: dict[str, str]
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False
    writePermissions: str = "CRM_PERMISSIONS_ENFORCEMENT"


class PipelineModel(BaseModel):
    id: str
    label: str
    displayOrder: int
    stages: list[StageModel]
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False


class PipelineCollection(BaseModel):
    results: list[PipelineModel]


class StageCollection(BaseModel):
    results: list[StageModel]


class StageInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    displayOrder: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)


class StagePatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str | None = None
    displayOrder: int | None = None
    metadata: dict[str, Any] | None = None


class PipelineInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    displayOrder: int = 0
    stages: list[StageInput]


class PipelinePatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str | None = None
    displayOrder: int | None = None


def _new_id() -> str:
    return str(uuid.uuid4().int % 10**9)


def _stage_of(stage_id: str, label: str, order: int, metadata: dict[str, Any]) -> Stage:
    def text(name: str) -> str | None:
        value = metadata.get(name)
        return None if value is None else str(value)

    required = text(REQUIRED) or ""
    probability = text("probability")
    state = text("ticketState")
    closed = (text("isClosed") or "").lower() == "true" or (state or "").upper() == "CLOSED"
    try:
        chance = float(probability) if probability not in (None, "") else None
    except ValueError:
        raise InvalidPipeline(stage_id, [f"probability {probability!r} is not a number"]) from None
    return Stage(stage_id, label, order, is_closed=closed, probability=chance,
                 ticket_state=state.upper() if state else None,
                 required_properties=tuple(p.strip() for p in required.replace(",", ";")
                                           .split(";") if p.strip()))


def _stage_json(stage: Stage, row: StoredPipeline) -> StageModel:
    metadata = dict(stage.metadata)
    if stage.required_properties:
        metadata[REQUIRED] = ";".join(stage.required_properties)
    return StageModel(id=stage.id, label=stage.label, displayOrder=stage.display_order,
                      metadata=metadata, createdAt=row.created_at, updatedAt=row.updated_at)


def _pipeline_json(row: StoredPipeline) -> PipelineModel:
    p = row.pipeline
    return PipelineModel(id=p.id, label=p.label, displayOrder=p.display_order,
                         stages=[_stage_json(s, row) for s in p.ordered_stages],
                         createdAt=row.created_at, updatedAt=row.updated_at)


def _stage_in(pipeline: Pipeline, stage_id: str) -> Stage:
    for stage in pipeline.stages:
        if stage.id == stage_id:
            return stage
    raise PipelineNotFound(f"Stage {stage_id} of pipeline {pipeline.id}")


@router.get("/{objectType}", response_model=PipelineCollection)
async def list_pipelines(objectType: str, caller: Caller, app: App) -> PipelineCollection:
    rows = await app.pipelines.list(caller.account_id, app.object_type(objectType))
    return PipelineCollection(results=[_pipeline_json(r) for r in rows])


@router.post("/{objectType}", status_code=201, response_model=PipelineModel)
async def create_pipeline(objectType: str, body: PipelineInput, caller: Caller,
                          app: App) -> PipelineModel:
    pipeline = Pipeline(_new_id(), body.label, body.displayOrder, tuple(
        _stage_of(_new_id(), s.label, s.displayOrder, s.metadata) for s in body.stages))
    row = await app.pipelines.change(caller.account_id, app.object_type(objectType), None,
                                     lambda _: pipeline)
    assert row is not None
    return _pipeline_json(row)


@router.get("/{objectType}/{pipelineId}", response_model=PipelineModel)
async def read_pipeline(objectType: str, pipelineId: str, caller: Caller,
                        app: App) -> PipelineModel:
    return _pipeline_json(await app.pipelines.get(caller.account_id,
                                                  app.object_type(objectType), pipelineId))


@router.patch("/{objectType}/{pipelineId}", response_model=PipelineModel)
async def update_pipeline(objectType: str, pipelineId: str, body: PipelinePatch,
                          caller: Caller, app: App) -> PipelineModel:
    def edit(current: Pipeline | None) -> Pipeline:
        assert current is not None
        return replace(current, label=body.label or current.label,
                       display_order=current.display_order if body.displayOrder is None
                       else body.displayOrder)

    row = await app.pipelines.change(caller.account_id, app.object_type(objectType),
                                     pipelineId, edit)
    assert row is not None
    return _pipeline_json(row)


@router.delete("/{objectType}/{pipelineId}", status_code=204, response_class=Response)
async def archive_pipeline(objectType: str, pipelineId: str, caller: Caller,
                           app: App) -> Response:
    await app.pipelines.change(caller.account_id, app.object_type(objectType), pipelineId,
                               lambda _: None)
    return Response(status_code=204)


@router.get("/{objectType}/{pipelineId}/stages", response_model=StageCollection)
async def list_stages(objectType: str, pipelineId: str, caller: Caller,
                      app: App) -> StageCollection:
    row = await app.pipelines.get(caller.account_id, app.object_type(objectType), pipelineId)
    return StageCollection(results=[_stage_json(s, row) for s in row.pipeline.ordered_stages])


@router.get("/{objectType}/{pipelineId}/stages/{stageId}", response_model=StageModel)
async def read_stage(objectType: str, pipelineId: str, stageId: str, caller: Caller,
                     app: App) -> StageModel:
    row = await app.pipelines.get(caller.account_id, app.object_type(objectType), pipelineId)
    return _stage_json(_stage_in(row.pipeline, stageId), row)


@router.post("/{objectType}/{pipelineId}/stages", status_code=201, response_model=StageModel)
async def create_stage(objectType: str, pipelineId: str, body: StageInput, caller: Caller,
                       app: App) -> StageModel:
    stage = _stage_of(_new_id(), body.label, body.displayOrder, body.metadata)

    def edit(current: Pipeline | None) -> Pipeline:
        assert current is not None
        return replace(current, stages=(*current.stages, stage))

    row = await app.pipelines.change(caller.account_id, app.object_type(objectType),
                                     pipelineId, edit)
    assert row is not None
    return _stage_json(stage, row)


@router.patch("/{objectType}/{pipelineId}/stages/{stageId}", response_model=StageModel)
async def update_stage(objectType: str, pipelineId: str, stageId: str, body: StagePatch,
                       caller: Caller, app: App) -> StageModel:
    def edit(current: Pipeline | None) -> Pipeline:
        assert current is not None
        old = _stage_in(current, stageId)
        metadata = {**old.metadata, REQUIRED: ";".join(old.required_properties),
                    **(body.metadata or {})}
        new = _stage_of(stageId, body.label or old.label,
                        old.display_order if body.displayOrder is None else body.displayOrder,
                        metadata)
        return replace(current, stages=tuple(new if s.id == stageId else s
                                             for s in current.stages))

    row = await app.pipelines.change(caller.account_id, app.object_type(objectType),
                                     pipelineId, edit)
    assert row is not None
    return _stage_json(_stage_in(row.pipeline, stageId), row)


@router.delete("/{objectType}/{pipelineId}/stages/{stageId}", status_code=204,
               response_class=Response)
async def archive_stage(objectType: str, pipelineId: str, stageId: str, caller: Caller,
                        app: App) -> Response:
    def edit(current: Pipeline | None) -> Pipeline:
        assert current is not None
        _stage_in(current, stageId)
        return replace(current, stages=tuple(s for s in current.stages if s.id != stageId))

    await app.pipelines.change(caller.account_id, app.object_type(objectType), pipelineId, edit)
    return Response(status_code=204)
