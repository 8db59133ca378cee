"""The contact header (R-REC-5): first name, last name, job title and the primary
associated company. It is fixed: no setting or request parameter changes what
it shows. The free-text `company` property is not the company shown here (R-REC-6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HEADER_PROPERTIES = ("firstname", "lastname", "jobtitle")


@dataclass(frozen=True)
class PrimaryCompany:
    id: int
    name: str | None


def contact_header(properties: Mapping[str, str | None],
                   primary_company: PrimaryCompany | None) -> dict[str, object]:
    header: dict[str, object] = {name: properties.get(name) for name in HEADER_PROPERTIES}
    header["primaryCompany"] = (None if primary_company is None else
                                {"id": str(primary_company.id), "name": primary_company.name})
    return header
