"""Keyword rules that raise priority and routing rules that pick a department.

Rules come from a JSON file (``data/rules.json`` by default)::

    {"priority_keywords": [{"name": "major-incident-words", "priority": "P1",
                            "keywords": ["urgent", "紧急"]}],
     "routes": [{"name": "hazards-to-safety", "category": "safety-hazard",
                 "department": "safety"}]}

Latin keywords match whole words, case-insensitively ("outage" matches "Outage!" but not
"outages-free"); keywords in scripts without spaces between words (Chinese) match as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.text import fold_width
from chalicelib.domain.tickets import PRIORITIES

DEFAULT_PRIORITY_BY_TYPE = {
    "complaint": "P2",
    "report": "P2",
    "suggestion": "P3",
    "inquiry": "P3",
    "praise": "P3",
}


class RulesConfigError(ValueError):
    """The rules file is malformed; the message names the bad entry."""


@dataclass(frozen=True)
class KeywordRule:
    name: str
    priority: str
    keywords: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RouteRule:
    name: str
    category: str
    department: str


@dataclass(frozen=True)
class Rules:
    keyword_rules: tuple[KeywordRule, ...]
    routes: tuple[RouteRule, ...]


@dataclass(frozen=True)
class TriageDecision:
    """The priority and department chosen, with the names of the rules that decided them."""

    priority: str
    department: str
    priority_rule: str | None
    keywords: tuple[str, ...]
    route_rule: str | None


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for k in keywords:
        escaped = re.escape(k.casefold())
        parts.append(rf"(?<!\w){escaped}(?!\w)" if k.isascii() else escaped)
    return re.compile("|".join(parts))


def load_rules(data: Mapping[str, Any], taxonomy: Taxonomy) -> Rules:
    """Validate the rules file against the taxonomy and compile its keyword patterns."""
    keyword_rules = []
    for i, raw in enumerate(data.get("priority_keywords", [])):
        where = f"priority_keywords[{i}]"
        name, priority, keywords = raw.get("name"), raw.get("priority"), raw.get("keywords")
        if not isinstance(name, str) or not name:
            raise RulesConfigError(f"{where}.name: must be a non-empty text")
        if priority not in PRIORITIES:
            raise RulesConfigError(f"{where}.priority: must be one of {', '.join(PRIORITIES)}")
        if not isinstance(keywords, list) or not keywords:
            raise RulesConfigError(f"{where}.keywords: must be a non-empty list")
        if not all(isinstance(k, str) and k.strip() for k in keywords):
            raise RulesConfigError(f"{where}.keywords: every keyword must be a non-empty text")
        kws = tuple(fold_width(k.strip()) for k in keywords)
        keyword_rules.append(KeywordRule(name, priority, kws, _keyword_pattern(kws)))
    routes = []
    for i, raw in enumerate(data.get("routes", [])):
        where = f"routes[{i}]"
        name, category, department = raw.get("name"), raw.get("category"), raw.get("department")
        if not isinstance(name, str) or not name:
            raise RulesConfigError(f"{where}.name: must be a non-empty text")
        if not isinstance(category, str) or taxonomy.get(category) is None:
            raise RulesConfigError(f"{where}.category: unknown category {category!r}")
        if not isinstance(department, str) or not department:
            raise RulesConfigError(f"{where}.department: must be a non-empty text")
        routes.append(RouteRule(name, category, department))
    extra = set(data) - {"priority_keywords", "routes"}
    if extra:
        raise RulesConfigError(f"{sorted(extra)[0]}: unknown key")
    return Rules(tuple(keyword_rules), tuple(routes))


def triage(
    ticket_type: str, category: str, text: str, taxonomy: Taxonomy, rules: Rules
) -> TriageDecision:
    """Decide priority (type default, raised by keyword rules) and department (category, routes).

    A keyword rule only ever raises priority (P1 is highest); it never lowers it.
    """
    priority = DEFAULT_PRIORITY_BY_TYPE[ticket_type]
    priority_rule: str | None = None
    matched: tuple[str, ...] = ()
    haystack = fold_width(text).casefold()
    for rule in rules.keyword_rules:
        found = tuple(dict.fromkeys(m.group(0) for m in rule.pattern.finditer(haystack)))
        if found and PRIORITIES.index(rule.priority) < PRIORITIES.index(priority):
            priority, priority_rule, matched = rule.priority, rule.name, found
    cat = taxonomy.get(category)
    department = cat.department if cat else "general"
    route_rule = None
    for route in rules.routes:
        if route.category == category:
            department, route_rule = route.department, route.name
            break
    return TriageDecision(priority, department, priority_rule, matched, route_rule)
