"""The two-level category taxonomy, each category mapped to a default department."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.tickets import LANGUAGES


class CategoryConfigError(ValueError):
    """The category file is malformed; the message names the bad entry."""


@dataclass(frozen=True)
class Category:
    code: str
    names: Mapping[str, str]
    department: str
    parent: str | None = None
    children: tuple[Category, ...] = ()

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
            kid = Category(ccode, _names(child.get("name"), cwhere), cdept, parent=code)
            children.append(kid)
        category = Category(code, _names(raw.get("name"), where), department, None, tuple(children))
        for c in (category, *children):
            if c.code in by_code:
                raise CategoryConfigError(f"{where}: duplicate category code {c.code!r}")
            by_code[c.code] = c
        top.append(category)
    return Taxonomy(tuple(top), by_code)
