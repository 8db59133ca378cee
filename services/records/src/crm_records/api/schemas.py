"""The hosted CRM's JSON shapes for objects (SimplePublicObject and friends),
so a client written for that API reads ours unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PropertyValues = dict[str, str | int | float | bool | None]


class ObjectInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    properties: PropertyValues = Field(default_factory=dict)
    associations: list[dict[str, Any]] = Field(default_factory=list)


class BatchCreateInput(BaseModel):
    inputs: list[ObjectInput]


class IdInput(BaseModel):
    id: str


class BatchReadInput(BaseModel):
    inputs: list[IdInput]
    properties: list[str] = Field(default_factory=list)
    propertiesWithHistory: list[str] = Field(default_factory=list)
    idProperty: str | None = None


class UpdateInput(BaseModel):
    id: str
    properties: PropertyValues
    idProperty: str | None = None


class BatchUpdateInput(BaseModel):
    inputs: list[UpdateInput]


class BatchIdsInput(BaseModel):
    inputs: list[IdInput]


class ValueWithHistory(BaseModel):
    value: str | None
    timestamp: datetime
    sourceType: str
    sourceId: str | None = None
    updatedByUserId: int | None = None


class SimplePublicObject(BaseModel):
    id: str
    properties: dict[str, str | None]
    propertiesWithHistory: dict[str, list[ValueWithHistory]] | None = None
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False
    archivedAt: datetime | None = None
    # With ?associations=: {companies: {results: [{id, type}]}} (the hosted shape).
    associations: dict[str, Any] | None = None


class NextPage(BaseModel):
    after: str
    link: str | None = None


class Paging(BaseModel):
    next: NextPage | None = None


class CollectionResponse(BaseModel):
    results: list[SimplePublicObject]
    paging: Paging | None = None


class BatchResponse(BaseModel):
    status: str = "COMPLETE"
    results: list[SimplePublicObject]
    startedAt: datetime
    completedAt: datetime
    numErrors: int | None = None
    errors: list[dict[str, Any]] | None = None


class PropertyChangeOut(BaseModel):
    """One entry of a record's history (our endpoint; entries as propertiesWithHistory)."""

    propertyName: str
    value: str
    timestamp: datetime
    sourceType: str
    sourceId: str | None = None
    updatedByUserId: int | None = None


class RecordHistory(BaseModel):
    results: list[PropertyChangeOut]
