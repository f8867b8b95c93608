"""Departments: names in each language and where their notifications go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.staff import check_slug
from chalicelib.errors import ValidationError


class DepartmentConfigError(ValueError):
    """The departments file is malformed; the message names the bad entry."""


@dataclass(frozen=True)
class Department:
    id: str
    names: Mapping[str, str]
    email: str
    supervisor_email: str

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True)
class Directory:
    departments: Mapping[str, Department]

    def ids(self) -> tuple[str, ...]:
        return tuple(self.departments)

    def get(self, department_id: str) -> Department:
        try:
            return self.departments[department_id]
        except KeyError:
            raise DepartmentConfigError(f"unknown department {department_id!r}") from None


def load_directory(data: Mapping[str, Any], required: set[str]) -> Directory:
    """Validate ``data/departments.json``; every department a category routes to must exist."""
    raw = data.get("departments")
    if not isinstance(raw, Mapping) or not raw:
        raise DepartmentConfigError("departments: must be a non-empty object")
    out = {}
    for dept_id, entry in raw.items():
        where = f"departments.{dept_id}"
        try:
            check_slug(dept_id, "department")
        except ValidationError:
            raise DepartmentConfigError(f"{where}: ids are lower-case slugs") from None
        if not isinstance(entry, Mapping):
            raise DepartmentConfigError(f"{where}: must be an object")
        names = entry.get("name")
        if not isinstance(names, Mapping) or not isinstance(names.get("en"), str):
            raise DepartmentConfigError(f"{where}.name: needs at least an 'en' name")
        email, supervisor = entry.get("email"), entry.get("supervisor_email")
        if not isinstance(email, str) or "@" not in email:
            raise DepartmentConfigError(f"{where}.email: must be an e-mail address")
        if not isinstance(supervisor, str) or "@" not in supervisor:
            raise DepartmentConfigError(f"{where}.supervisor_email: must be an e-mail address")
        out[dept_id] = Department(dept_id, dict(names), email, supervisor)
    missing = sorted(required - set(out))
    if missing:
        raise DepartmentConfigError(
            f"departments: missing {', '.join(missing)} (used by categories)"
        )
    return Directory(out)
