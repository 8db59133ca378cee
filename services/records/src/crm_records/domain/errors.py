"""Domain exceptions. Each carries what the API needs to name the problem.

`category` follows the hosted CRM's error body (`VALIDATION_ERROR`,
`OBJECT_NOT_FOUND`); the API layer maps every `DomainError` to 400 unless the
category says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    category = "VALIDATION_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PropertyError:
    """One bad property value: which property, what was sent, and why."""

    name: str
    value: object
    code: str  # PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE, INVALID_OPTION, INVALID_NUMBER, ...
    message: str


class InvalidPropertyValues(DomainError):
    def __init__(self, errors: list[PropertyError]) -> None:
        self.errors = list(errors)
        details = "; ".join(e.message for e in self.errors)
        super().__init__(f"Property values were not valid: {details}")


class UnknownObjectType(DomainError):
    category = "OBJECT_NOT_FOUND"

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"Unknown object type: {reference!r}")


class InvalidPropertyName(DomainError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Invalid property name {name!r}: {reason}")


class InvalidPropertyDefinition(DomainError):
    def __init__(self, name: str, reasons: list[str]) -> None:
        self.name = name
        self.reasons = list(reasons)
        super().__init__(f"Invalid definition of property {name!r}: {'; '.join(reasons)}")


class LifecycleRegression(DomainError):
    def __init__(self, current: str, requested: str) -> None:
        self.current = current
        self.requested = requested
        super().__init__(
            f"lifecyclestage cannot move backward from {current!r} to {requested!r}; "
            "clear it first (set it to an empty value), then set the earlier stage"
        )


class UnknownCreationSource(DomainError):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(f"Unknown creation source: {source!r}")


class InvalidPipeline(DomainError):
    def __init__(self, pipeline_id: str, reasons: list[str]) -> None:
        self.pipeline_id = pipeline_id
        self.reasons = list(reasons)
        super().__init__(f"Invalid pipeline {pipeline_id!r}: {'; '.join(reasons)}")


class UnknownPipelineStage(DomainError):
    def __init__(self, pipeline_id: str, stage_id: str) -> None:
        self.pipeline_id = pipeline_id
        self.stage_id = stage_id
        super().__init__(f"Stage {stage_id!r} does not exist in pipeline {pipeline_id!r}")


class MissingRequiredProperties(DomainError):
    def __init__(self, stage_id: str, missing: list[str], stage_label: str = "") -> None:
        self.stage_id = stage_id
        self.stage_label = stage_label or stage_id
        self.missing = list(missing)
        super().__init__(
            f"Moving to stage {self.stage_label!r} requires properties: {', '.join(self.missing)}"
        )


class InvalidEmailAddress(DomainError):
    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(f"{value!r} is not a valid email address")


class UniqueValueConflict(DomainError):
    """A second record with the same value of a unique property (R-REC-2); 409 as hosted."""

    category = "CONFLICT"

    def __init__(self, name: str, value: str, holder_id: int | None) -> None:
        self.name = name
        self.value = value
        self.holder_id = holder_id
        where = f" Existing ID: {holder_id}" if holder_id is not None else " (twice in one request)"
        if name == "email":
            super().__init__(f"Contact already exists.{where}")
        else:
            super().__init__(f"A record with {name} {value!r} already exists.{where}")
