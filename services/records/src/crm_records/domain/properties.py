"""Property definitions and value validation (R-REC-2, R-REC-3).

Values are kept in the hosted CRM's string form, whatever JSON type the
client sent:
- number:      a plain decimal string ("1500", "0.25"); no exponent, no NaN.
- date:        "YYYY-MM-DD"; accepted as that, as epoch milliseconds or as an
               ISO-8601 datetime, but only at midnight UTC.
- datetime:    ISO-8601 UTC with milliseconds and Z ("2024-05-01T09:30:00.000Z");
               accepted as ISO-8601 (naive means UTC), a bare date, or epoch ms.
- bool:        "true" / "false".
- enumeration: an option's value; multi-select (field type "checkbox") is
               ";"-separated, each part an option value.
- clearing:    "" or null is stored as None.

`validate_values` collects every problem before raising, so one 400 names
every bad property at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from crm_records.domain.errors import (
    InvalidEmailAddress,
    InvalidPropertyDefinition,
    InvalidPropertyName,
    InvalidPropertyValues,
    PropertyError,
)

PROPERTY_TYPES = ("string", "number", "date", "datetime", "enumeration", "bool")
FIELD_TYPES_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "html", "phonenumber", "file"}),
    "number": frozenset({"number", "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
}
MAX_STRING_LENGTH = 65_536
MULTI_SELECT_SEPARATOR = ";"


@dataclass(frozen=True)
class PropertyOption:
    label: str
    value: str
    display_order: int = 0
    hidden: bool = False
    description: str = ""


@dataclass(frozen=True)
class PropertyGroup:
    name: str
    label: str
    display_order: int = -1


@dataclass(frozen=True)
class PropertyDefinition:
    name: str
    label: str
    type: str  # one of PROPERTY_TYPES
    field_type: str
    group_name: str
    description: str = ""
    options: tuple[PropertyOption, ...] = ()
    display_order: int = -1
    has_unique_value: bool = False
    read_only: bool = False  # modificationMetadata.readOnlyValue: clients may not write it
    calculated: bool = False  # the platform derives it (roll-ups, scores, probabilities)
    hubspot_defined: bool = False  # standard property: its definition cannot be changed
    hidden: bool = False
    form_field: bool = False
    # Options are the account's users (hubspot_owner_id and custom "user" properties, R-REC-3).
    user_type: bool = False
    # Options live elsewhere: pipelines and their stages (pipeline, dealstage, hs_pipeline_stage).
    external_options: bool = False
    holds_email_address: bool = False
    archived: bool = False

    @property
    def is_multi_select(self) -> bool:
        return self.type == "enumeration" and self.field_type == "checkbox"

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


# ---------------------------------------------------------------- value forms

def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def format_datetime(moment: datetime) -> str:
    """The stored datetime form: ISO-8601 UTC, milliseconds, Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(value: object) -> datetime:
    """A timezone-aware UTC datetime from ISO-8601, a bare date or epoch ms; ValueError if none."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError("not a time")
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    parsed = datetime.fromisoformat(text)  # 3.11 accepts "Z" and bare dates
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _normalise_number(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(
        r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value.strip()
    ):
        raise ValueError
    number = Decimal(value.strip()).normalize()
    text = format(number, "f")
    return "0" if text in ("-0", "+0") else text


def _normalise_date(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip()).isoformat()
    moment = parse_datetime(value)
    if moment.timetz().replace(tzinfo=None) != time(0, 0):
        raise ValueError("date properties must be at midnight UTC")
    return moment.date().isoformat()


def _normalise_bool(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise ValueError


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _normalise_number(value)
    if isinstance(value, str):
        return value
    raise ValueError


def normalise_email(value: object) -> str:
    """Trimmed, lower-cased address; raises InvalidEmailAddress (R-REC-8 keys emails by it)."""
    if not isinstance(value, str):
        raise InvalidEmailAddress(value)
    address = value.strip().lower()
    if len(address) > 254 or not re.fullmatch(
        r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
        r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+",
        address,
    ):
        raise InvalidEmailAddress(value)
    local = address.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmailAddress(value)
    return address


# ---------------------------------------------------------------- validation

class _NotAnOption(Exception):
    pass


def _error(definition: PropertyDefinition, value: object, code: str, why: str) -> PropertyError:
    return PropertyError(definition.name, value, code, f"{value!r} is not valid for "
                         f"{definition.name!r} ({definition.type}): {why}")


def _normalise_enumeration(definition: PropertyDefinition, value: object,
                           user_ids: Collection[str] | None) -> str:
    if isinstance(value, list | tuple):
        parts = [_as_text(part).strip() for part in value]
    else:
        text = _as_text(value).strip()
        parts = text.split(MULTI_SELECT_SEPARATOR) if definition.is_multi_select else [text]
    parts = list(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if len(parts) > 1 and not definition.is_multi_select:
        raise ValueError("only one option may be chosen")
    if definition.user_type:
        allowed: Collection[str] | None = user_ids
        for part in parts:
            if not part.isdigit() or (allowed is not None and part not in allowed):
                raise _NotAnOption(f"{part} is not a user of this account")
    elif not definition.external_options:
        for part in parts:
            if part not in definition.option_values:
                raise _NotAnOption(f"{part} was not one of the allowed options: "
                                  f"[{', '.join(definition.option_values)}]")
    return MULTI_SELECT_SEPARATOR.join(parts)


def normalise_value(definition: PropertyDefinition, value: object, *,
                    user_ids: Collection[str] | None = None) -> str | None:
    """One value in stored form, or None when cleared; raises InvalidPropertyValues."""
    if is_blank(value):
        return None
    try:
        match definition.type:
            case "number":
                return _normalise_number(value)
            case "date":
                return _normalise_date(value)
            case "datetime":
                return format_datetime(parse_datetime(value))
            case "bool":
                return _normalise_bool(value)
            case "enumeration":
                return _normalise_enumeration(definition, value, user_ids)
            case _:
                text = _as_text(value)
                if definition.holds_email_address:
                    return normalise_email(text)
                if len(text) > MAX_STRING_LENGTH:
                    raise ValueError(f"longer than {MAX_STRING_LENGTH} characters")
                return text
    except InvalidEmailAddress:
        raise InvalidPropertyValues(
            [_error(definition, value, "INVALID_EMAIL", "not an email address")]) from None
    except _NotAnOption as problem:
        raise InvalidPropertyValues(
            [_error(definition, value, "INVALID_OPTION", str(problem))]) from None
    except (ValueError, InvalidOperation, OverflowError, OSError) as problem:
        expected = {
            "number": "expected a decimal number",
            "date": "expected YYYY-MM-DD or epoch milliseconds at midnight UTC",
            "datetime": "expected ISO-8601 or epoch milliseconds",
            "bool": 'expected "true" or "false"',
        }.get(definition.type, "expected text")
        reason = f"{expected} ({problem})" if str(problem) else expected
        code = f"INVALID_{definition.type.upper()}" if definition.type != "string" else (
            "INVALID_STRING")
        raise InvalidPropertyValues([_error(definition, value, code, reason)]) from None


def validate_values(definitions: Mapping[str, PropertyDefinition], values: Mapping[str, object],
                    *, user_ids: Collection[str] | None = None,
                    allow_read_only: bool = False) -> dict[str, str | None]:
    """Every value normalised to stored form, or InvalidPropertyValues naming each bad one.

    `user_ids`: the account's user ids, to check user-type properties (None skips the
    membership check). `allow_read_only`: True only for the platform's own writers
    (roll-ups, scores, merge), never for a client request.
    """
    normalised: dict[str, str | None] = {}
    errors: list[PropertyError] = []
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None or definition.archived:
            errors.append(PropertyError(name, value, "PROPERTY_DOESNT_EXIST",
                                        f'Property "{name}" does not exist'))
            continue
        if definition.read_only and not allow_read_only:
            errors.append(PropertyError(
                name, value, "READ_ONLY_VALUE",
                f'"{name}" is a read only property; its value cannot be set'))
            continue
        try:
            normalised[name] = normalise_value(definition, value, user_ids=user_ids)
        except InvalidPropertyValues as invalid:
            errors.extend(invalid.errors)
    if errors:
        raise InvalidPropertyValues(errors)
    return normalised


# ---------------------------------------------------------------- custom definitions

# Names the API itself uses, and the hosted CRM's own prefix, are not free for custom properties.
RESERVED_NAMES = frozenset({
    "id", "properties", "associations", "archived", "archivedat", "createdat", "updatedat",
    "objecttypeid", "object_id", "objectid", "portalid", "propertieswithhistory", "type",
})
RESERVED_PREFIXES = ("hs_", "hubspot_")
MAX_NAME_LENGTH = 100


def validate_property_name(name: str, existing: Iterable[str] = ()) -> None:
    """Custom property (and group) names: lowercase [a-z0-9_], starting with a letter."""
    if not name:
        raise InvalidPropertyName(name, "must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidPropertyName(name, f"longer than {MAX_NAME_LENGTH} characters")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InvalidPropertyName(
            name, "use lowercase letters, digits and underscores, starting with a letter")
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        raise InvalidPropertyName(name, "reserved by the platform")
    if name in set(existing):
        raise InvalidPropertyName(name, "a property with this name already exists")


def validate_definition(definition: PropertyDefinition) -> None:
    """Type, field type and options agree; raises InvalidPropertyDefinition listing each problem."""
    reasons: list[str] = []
    if definition.type not in PROPERTY_TYPES:
        reasons.append(f"type must be one of {', '.join(PROPERTY_TYPES)}")
    elif definition.field_type not in FIELD_TYPES_BY_TYPE[definition.type]:
        allowed = ", ".join(sorted(FIELD_TYPES_BY_TYPE[definition.type]))
        reasons.append(f"field type {definition.field_type!r} does not fit type "
                       f"{definition.type!r} (allowed: {allowed})")
    values = definition.option_values
    if len(set(values)) != len(values):
        reasons.append("option values must be unique")
    if any(not value.strip() for value in values):
        reasons.append("option values must not be empty")
    if definition.options and definition.type not in ("enumeration", "bool"):
        reasons.append("only enumeration and bool properties have options")
    if (definition.type == "enumeration" and not definition.options
            and not (definition.user_type or definition.external_options)):
        reasons.append("an enumeration needs at least one option")
    if definition.has_unique_value and definition.type not in ("string", "number"):
        reasons.append("only string and number properties can require unique values")
    if reasons:
        raise InvalidPropertyDefinition(definition.name, reasons)


BOOL_OPTIONS = (PropertyOption("Yes", "true", 0), PropertyOption("No", "false", 1))
