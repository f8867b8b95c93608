import json
from pathlib import Path

import pytest

from chalicelib.domain.categories import CategoryConfigError, load_taxonomy
from chalicelib.domain.triage import RulesConfigError, load_rules, triage

DATA = Path(__file__).resolve().parents[2] / "api" / "chalicelib" / "data"
TAXONOMY = load_taxonomy(json.loads((DATA / "categories.json").read_text()))
RULES = load_rules(json.loads((DATA / "rules.json").read_text()), TAXONOMY)


@pytest.mark.parametrize(
    ("ticket_type", "text", "priority"),
    [
        ("complaint", "The queue was long", "P2"),
        ("report", "Broken bench", "P2"),
        ("suggestion", "More benches", "P3"),
        ("inquiry", "Opening hours?", "P3"),
        ("praise", "Great help", "P3"),
        ("suggestion", "URGENT: gas smell", "P1"),
        ("inquiry", "电梯故障，很危险", "P1"),
        ("praise", "ｕｒｇｅｎｔ thanks", "P1"),  # full-width letters fold
        ("suggestion", "outages-free week", "P3"),  # whole words only for Latin keywords
    ],
)
def test_priority_by_type_and_keywords(ticket_type: str, text: str, priority: str) -> None:
    assert triage(ticket_type, "service", text, TAXONOMY, RULES).priority == priority


def test_decision_names_the_rule_and_keywords() -> None:
    d = triage("complaint", "service", "danger! danger!", TAXONOMY, RULES)
    assert d.priority_rule == "major-incident-words"
    assert d.keywords == ("danger",)


def test_category_routes_to_its_department_and_rules_override() -> None:
    rules = load_rules(
        {
            "routes": [
                {"name": "noise-to-safety", "category": "environment-noise", "department": "safety"}
            ]
        },
        TAXONOMY,
    )
    assert triage("complaint", "environment", "x", TAXONOMY, rules).department == "facilities"
    d = triage("complaint", "environment-noise", "x", TAXONOMY, rules)
    assert (d.department, d.route_rule) == ("safety", "noise-to-safety")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"priority_keywords": [{"name": "a", "priority": "P9", "keywords": ["x"]}]}, "priority"),
        ({"priority_keywords": [{"name": "a", "priority": "P1", "keywords": []}]}, "keywords"),
        ({"routes": [{"name": "r", "category": "nope", "department": "d"}]}, "category"),
        ({"rotues": []}, "rotues"),
    ],
)
def test_bad_rules_name_the_key(data: dict[str, object], where: str) -> None:
    with pytest.raises(RulesConfigError, match=where):
        load_rules(data, TAXONOMY)


def test_bad_taxonomy_is_rejected() -> None:
    with pytest.raises(CategoryConfigError, match="duplicate"):
        load_taxonomy(
            {
                "categories": [
                    {"code": "a", "name": {"en": "A"}, "department": "d"},
                    {"code": "a", "name": {"en": "A"}, "department": "d"},
                ]
            }
        )
