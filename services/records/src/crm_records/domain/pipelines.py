"""Pipelines and their stages (R-PIPE-1, R-PIPE-2).

Deal stages carry a win probability (0..1) and a closed flag: closed with
probability 1 is *closed won*, closed with probability 0 is *closed lost*,
as in the hosted CRM. Ticket stages carry a ticketState (OPEN / CLOSED);
other pipelines (services, custom objects) just a closed flag.

`Stage.metadata` is the hosted API's form: every value a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crm_records.domain.errors import (
    InvalidPipeline,
    InvalidPropertyValues,
    MissingRequiredProperties,
    PropertyError,
    UnknownPipelineStage,
)
from crm_records.domain.properties import is_blank


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    display_order: int
    is_closed: bool = False
    probability: float | None = None  # deals only
    ticket_state: str | None = None  # tickets only: "OPEN" | "CLOSED"
    # R-PIPE-2: properties a record must have before it may enter this stage.
    required_properties: tuple[str, ...] = ()

    @property
    def is_closed_won(self) -> bool:
        return self.is_closed and self.probability == 1.0

    @property
    def is_closed_lost(self) -> bool:
        return self.is_closed and self.probability == 0.0

    @property
    def metadata(self) -> dict[str, str]:
        if self.ticket_state is not None:
            return {"ticketState": self.ticket_state}
        meta = {"isClosed": "true" if self.is_closed else "false"}
        if self.probability is not None:
            meta["probability"] = str(self.probability)
        return meta


@dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        reasons = []
        if not self.stages:
            reasons.append("a pipeline needs at least one stage")
        ids = [stage.id for stage in self.stages]
        if len(set(ids)) != len(ids):
            reasons.append("stage ids must be unique")
        for stage in self.stages:
            if stage.probability is not None and not 0.0 <= stage.probability <= 1.0:
                reasons.append(f"stage {stage.id!r}: probability must be between 0 and 1")
            if stage.ticket_state not in (None, "OPEN", "CLOSED"):
                reasons.append(f"stage {stage.id!r}: ticketState must be OPEN or CLOSED")
        if reasons:
            raise InvalidPipeline(self.id, reasons)

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise UnknownPipelineStage(self.id, stage_id)

    @property
    def ordered_stages(self) -> tuple[Stage, ...]:
        return tuple(sorted(self.stages, key=lambda stage: stage.display_order))


def deal_stage(id_: str, label: str, order: int, probability: float,
               closed: bool = False) -> Stage:
    return Stage(id_, label, order, is_closed=closed, probability=probability)


def ticket_stage(id_: str, label: str, order: int, state: str) -> Stage:
    return Stage(id_, label, order, is_closed=state == "CLOSED", ticket_state=state)


DEFAULT_DEAL_PIPELINE = Pipeline("default", "Sales Pipeline", 0, (
    deal_stage("appointmentscheduled", "Appointment Scheduled", 0, 0.2),
    deal_stage("qualifiedtobuy", "Qualified To Buy", 1, 0.4),
    deal_stage("presentationscheduled", "Presentation Scheduled", 2, 0.6),
    deal_stage("decisionmakerboughtin", "Decision Maker Bought-In", 3, 0.8),
    deal_stage("contractsent", "Contract Sent", 4, 0.9),
    deal_stage("closedwon", "Closed Won", 5, 1.0, closed=True),
    deal_stage("closedlost", "Closed Lost", 6, 0.0, closed=True),
))

DEFAULT_TICKET_PIPELINE = Pipeline("0", "Support Pipeline", 0, (
    ticket_stage("1", "New", 0, "OPEN"),
    ticket_stage("2", "Waiting on contact", 1, "OPEN"),
    ticket_stage("3", "Waiting on us", 2, "OPEN"),
    ticket_stage("4", "Closed", 3, "CLOSED"),
))

# Our own default: the hosted CRM does not publish the stages of its services pipeline.
DEFAULT_SERVICE_PIPELINE = Pipeline("default", "Service Pipeline", 0, (
    Stage("planning", "Planning", 0),
    Stage("in_progress", "In progress", 1),
    Stage("on_hold", "On hold", 2),
    Stage("completed", "Completed", 3, is_closed=True),
    Stage("canceled", "Canceled", 4, is_closed=True),
))

DEFAULT_PIPELINES: Mapping[str, tuple[Pipeline, ...]] = {
    "deals": (DEFAULT_DEAL_PIPELINE,),
    "tickets": (DEFAULT_TICKET_PIPELINE,),
    "services": (DEFAULT_SERVICE_PIPELINE,),
}


def pipeline_property_names(object_type: str) -> tuple[str, str]:
    """(pipeline property, stage property): deals use the hosted CRM's older names."""
    if object_type == "deals":
        return "pipeline", "dealstage"
    return "hs_pipeline", "hs_pipeline_stage"


def check_stage_move(pipeline: Pipeline, stage_id: str,
                     record_values: Mapping[str, str | None]) -> None:
    """R-PIPE-2: refuse entering a stage whose required properties are blank.

    `record_values` are the record's values as they will be after the write
    (stored values overlaid with the request's).
    """
    stage = pipeline.stage(stage_id)
    missing = [name for name in stage.required_properties if is_blank(record_values.get(name))]
    if missing:
        raise MissingRequiredProperties(stage.id, missing, stage.label)


def _invalid(name: str, value: object, why: str) -> InvalidPropertyValues:
    return InvalidPropertyValues([PropertyError(name, value, "INVALID_OPTION", why)])


def stage_values(object_type: str, pipelines: tuple[Pipeline, ...],
                 before: Mapping[str, str | None],
                 requested: Mapping[str, str | None]) -> dict[str, str | None]:
    """The requested values plus what a pipeline stage implies (R-PIPE-1, R-PIPE-2).

    A stage without a pipeline lands in the type's first pipeline; an unknown
    pipeline or stage is refused naming the property; entering a stage whose
    required properties are blank (after this write) raises
    MissingRequiredProperties. Deals also get the stage's probability and
    closed flags, which the deal automation reads (R-LIFE-4..6).
    """
    pipeline_name, stage_name = pipeline_property_names(object_type)
    out = dict(requested)
    if not pipelines or (pipeline_name not in requested and stage_name not in requested):
        return out
    after = {**before, **requested}
    stage_id = after.get(stage_name)
    if is_blank(stage_id):
        return out
    assert stage_id is not None
    pipeline_id = after.get(pipeline_name)
    if is_blank(pipeline_id):
        pipeline_id = out[pipeline_name] = pipelines[0].id
    pipeline = next((p for p in pipelines if p.id == pipeline_id), None)
    if pipeline is None:
        raise _invalid(pipeline_name, pipeline_id, f"{pipeline_id} is not a pipeline of "
                       f"{object_type}: [{', '.join(p.id for p in pipelines)}]")
    try:
        stage = pipeline.stage(stage_id)
    except UnknownPipelineStage:
        raise _invalid(stage_name, stage_id, f"{stage_id} is not a stage of pipeline "
                       f"{pipeline.id}: [{', '.join(s.id for s in pipeline.stages)}]") from None
    moved = stage_id != before.get(stage_name) or pipeline_id != before.get(pipeline_name)
    if moved:
        check_stage_move(pipeline, stage_id, after)
    if object_type == "deals":
        out["hs_deal_stage_probability"] = (None if stage.probability is None
                                            else format(stage.probability, "g"))
        out["hs_is_closed"] = "true" if stage.is_closed else "false"
        out["hs_is_closed_won"] = "true" if stage.is_closed_won else "false"
    return out
