"""The two-level category taxonomy, each category mapped to a default department."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.tickets import LANGUAGES


class CategoryConfigError(ValueError):
    """The category file is malformed; the message names the bad entry."""


FIELD_DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
_FIELD_CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


@dataclass(frozen=True)
class FieldValue:
    """One choice of a list field: its key and its names."""

    key: str
    names: Mapping[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True)
class CategoryField:
    """An extra question of a category (``fields`` in ``data/categories.json``)."""

    code: str
    datatype: str
    required: bool
    descriptions: Mapping[str, str]
    values: tuple[FieldValue, ...] = ()

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or self.descriptions["en"]


@dataclass(frozen=True)
class Category:
    code: str
    names: Mapping[str, str]
    department: str
    parent: str | None = None
    children: tuple[Category, ...] = ()
    # Extra questions this category asks (Open311 service attributes); none by default.
    fields: tuple[CategoryField, ...] = ()

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True)
class Taxonomy:
    """Top-level categories in display order, and every category (top or child) by code."""

    top: tuple[Category, ...]
    by_code: Mapping[str, Category]

    def get(self, code: str) -> Category | None:
        return self.by_code.get(code)

    def as_public(self, language: str) -> list[dict[str, Any]]:
        """The shape of ``GET /v1/categories``."""
        return [
            {
                "code": c.code,
                "name": c.name(language),
                "names": dict(c.names),
                "department": c.department,
                "children": [
                    {
                        "code": k.code,
                        "name": k.name(language),
                        "names": dict(k.names),
                        "department": k.department,
                    }
                    for k in c.children
                ],
            }
            for c in self.top
        ]


def _names(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("en"), str):
        raise CategoryConfigError(f"{where}.name: needs at least an 'en' text")
    names = {}
    for lang, text in raw.items():
        if lang not in LANGUAGES or not isinstance(text, str) or not text.strip():
            raise CategoryConfigError(f"{where}.name.{lang}: unknown language or empty name")
        names[lang] = text
    return names


def _fields(raw: object, where: str) -> tuple[CategoryField, ...]:
    """Validate a category's optional ``fields`` list."""
    if not isinstance(raw, list):
        raise CategoryConfigError(f"{where}.fields: must be a list")
    out: list[CategoryField] = []
    for i, entry in enumerate(raw):
        fwhere = f"{where}.fields[{i}]"
        if not isinstance(entry, Mapping):
            raise CategoryConfigError(f"{fwhere}: must be an object")
        code, datatype = entry.get("code"), entry.get("datatype")
        if not isinstance(code, str) or not _FIELD_CODE.match(code):
            raise CategoryConfigError(f"{fwhere}.code: 1 to 50 letters, digits, - or _")
        if code in {f.code for f in out}:
            raise CategoryConfigError(f"{fwhere}.code: duplicate field {code!r}")
        if datatype not in FIELD_DATATYPES:
            raise CategoryConfigError(f"{fwhere}.datatype: one of {', '.join(FIELD_DATATYPES)}")
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise CategoryConfigError(f"{fwhere}.required: must be true or false")
        values: list[FieldValue] = []
        raw_values = entry.get("values", [])
        if not isinstance(raw_values, list):
            raise CategoryConfigError(f"{fwhere}.values: must be a list")
        for j, value in enumerate(raw_values):
            vwhere = f"{fwhere}.values[{j}]"
            key = value.get("key") if isinstance(value, Mapping) else None
            if not isinstance(key, str) or not key or key in {v.key for v in values}:
                raise CategoryConfigError(f"{vwhere}.key: a unique, non-empty text")
            values.append(FieldValue(key, _names(value.get("name"), vwhere)))
        if datatype.endswith("valuelist") != bool(values):
            raise CategoryConfigError(f"{fwhere}.values: list fields, and only they, need values")
        descriptions = _names(entry.get("description"), f"{fwhere}.description")
        out.append(CategoryField(code, str(datatype), required, descriptions, tuple(values)))
    return tuple(out)


def load_taxonomy(data: Mapping[str, Any]) -> Taxonomy:
    """Validate and build the taxonomy from its JSON form (see ``data/categories.json``)."""
    raw_list = data.get("categories")
    if not isinstance(raw_list, list) or not raw_list:
        raise CategoryConfigError("categories: must be a non-empty list")
    by_code: dict[str, Category] = {}
    top: list[Category] = []
    for i, raw in enumerate(raw_list):
        where = f"categories[{i}]"
        if not isinstance(raw, Mapping):
            raise CategoryConfigError(f"{where}: must be an object")
        code, department = raw.get("code"), raw.get("department")
        if not isinstance(code, str) or not code or not isinstance(department, str):
            raise CategoryConfigError(f"{where}: needs 'code' and 'department' texts")
        children = []
        for j, child in enumerate(raw.get("children", [])):
            cwhere = f"{where}.children[{j}]"
            ccode = child.get("code") if isinstance(child, Mapping) else None
            if not isinstance(ccode, str) or not ccode:
                raise CategoryConfigError(f"{cwhere}: needs a 'code'")
            cdept = child.get("department", department)
            if not isinstance(cdept, str):
                raise CategoryConfigError(f"{cwhere}.department: must be a text")
            kid = Category(
                ccode,
                _names(child.get("name"), cwhere),
                cdept,
                parent=code,
                fields=_fields(child.get("fields", []), cwhere),
            )
            children.append(kid)
        category = Category(
            code,
            _names(raw.get("name"), where),
            department,
            None,
            tuple(children),
            _fields(raw.get("fields", []), where),
        )
        for c in (category, *children):
            if c.code in by_code:
                raise CategoryConfigError(f"{where}: duplicate category code {c.code!r}")
            by_code[c.code] = c
        top.append(category)
    return Taxonomy(tuple(top), by_code)
