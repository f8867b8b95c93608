"""The MkDocs hook that writes the SLA table and the keyword rules into how-it-works.md."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import markdown
import pytest

from chalicelib.config import Settings
from chalicelib.domain.sla import DEFAULT_POLICY_PATH, load_policy, load_policy_file

ROOT = Path(__file__).resolve().parents[2]
HOOK_PATH = ROOT / "site" / "hooks" / "sla_table.py"
PAGE_PATH = ROOT / "site" / "docs" / "how-it-works.md"


def _load_hook() -> ModuleType:
    # Loaded by path, as MkDocs does: "site" would otherwise be the standard library's module.
    spec = importlib.util.spec_from_file_location("clearloop_sla_table_hook", HOOK_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hook = _load_hook()


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``text``, cell by cell."""
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def bullets(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("- ")]


def to_html(text: str) -> str:
    """As MkDocs renders it with this site's Markdown extensions."""
    return markdown.markdown(text, extensions=["tables", "attr_list", "md_in_html", "admonition"])


def policy_document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return doc


def test_the_bundled_policy_gives_the_spec_table() -> None:
    text = hook.render_sla_table(load_policy_file(DEFAULT_POLICY_PATH))
    assert [[r[0], *r[2:]] for r in table_rows(text)] == [
        ["**P1**", "1 hour", "24 hours", "Around the clock, every day"],
        ["**P2**", "2 business hours", "48 business hours", "Business hours only"],
        ["**P3**", "3 business days", "7 business days", "Business hours only"],
    ]
    meanings = [r[1] for r in table_rows(text)]
    assert meanings[0].startswith("Major: a safety risk, an outage")
    assert "complaints and reports of a fault or hazard" in meanings[1]
    assert "suggestions, questions and praise" in meanings[2]
    assert bullets(text) == [
        "**Business hours:** Monday to Friday, 09:00–18:00.",
        "**Time zone:** `UTC`. Business hours are local times in this zone, also across "
        "daylight-saving changes.",
        "**A business day** is one working day's business hours (9 hours).",
        "**Holidays:** none.",
        "**Due soon:** when 80 % of the time allowed has been used.",
    ]


def test_a_modified_policy_changes_the_table() -> None:
    doc = policy_document(
        calendar__timezone="Europe/Berlin",
        calendar__weekdays=["mon", "wed", "fri"],
        calendar__opens="08:00",
        calendar__closes="16:30",
        calendar__holidays=["2026-12-25", "2026-01-01"],
        due_soon_fraction=0.75,
    )
    doc["targets"]["P1"]["resolution"] = {"days": 3}
    doc["targets"]["P2"]["first_response"] = {"minutes": 90}
    doc["targets"]["P3"] = {
        "clock": "business",
        "first_response": {"business_days": 2},
        "resolution": {"business_days": 10},
    }
    text = hook.render_sla_table(load_policy(doc))
    assert [[r[0], *r[2:]] for r in table_rows(text)] == [
        ["**P1**", "1 hour", "3 days", "Around the clock, every day"],
        ["**P2**", "1 business hour 30 minutes", "48 business hours", "Business hours only"],
        ["**P3**", "2 business days", "10 business days", "Business hours only"],
    ]
    lines = bullets(text)
    assert lines[0] == "**Business hours:** Monday, Wednesday and Friday, 08:00–16:30."
    assert lines[1].startswith("**Time zone:** `Europe/Berlin`.")
    assert (
        lines[2] == "**A business day** is one working day's business hours (8 hours 30 minutes)."
    )
    assert lines[3] == "**Holidays:** 1 January 2026 and 25 December 2026."
    assert lines[4] == "**Due soon:** when 75 % of the time allowed has been used."


def test_the_page_is_rendered_from_the_settings_files(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(policy_document(due_soon_fraction=0.9)), encoding="utf-8")
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            {
                "priority_keywords": [
                    {"name": "words", "priority": "P1", "keywords": ["flood", "<b>"]},
                    {"name": "slower", "priority": "P2", "keywords": ["refund"]},
                ],
                "routes": [],
            }
        ),
        encoding="utf-8",
    )
    settings = Settings.from_env(
        {
            "CLEARLOOP_POLICY_FILE": str(policy),
            "CLEARLOOP_RULES_FILE": str(rules),
            "CLEARLOOP_AUTOCLOSE_DAYS": "7",
            "CLEARLOOP_CONTACT_RETENTION_DAYS": "30",
        }
    )
    page = hook.render_page(PAGE_PATH.read_text(encoding="utf-8"), "how-it-works.md", settings)
    assert "clearloop:" not in page
    assert "When 90 % of the time allowed for a deadline has been used" in page
    assert "closes itself after 7 days" in page
    assert "erased 30 days after the ticket" in page
    assert "- Raised to **P1**: <code>flood</code>, <code>&lt;b&gt;</code>" in page
    assert "- Raised to **P2**: <code>refund</code>" in page


def test_the_bundled_page_lists_the_default_keywords_and_stays_csp_clean() -> None:
    page = hook.render_page(
        PAGE_PATH.read_text(encoding="utf-8"), "how-it-works.md", Settings.from_env({})
    )
    keywords = ["urgent", "danger", "safety", "outage", "紧急", "投诉", "故障", "危险"]
    assert "- Raised to **P1**: " + ", ".join(f"<code>{k}</code>" for k in keywords) in page
    assert "| **P3** |" in page
    assert "closes itself after 14 days" in page
    assert "erased 365 days after" in page
    html = to_html(page)
    assert "style=" not in html
    assert "<script" not in html
    assert re.search(r"<td><strong>P1</strong></td>", html)


def test_the_priority_change_rule_is_quoted_from_sla_state() -> None:
    rule = hook.priority_change_rule()
    assert rule.startswith("> Deadlines are recomputed from the submission time")
    assert rule.endswith("breaches stay recorded.")
    with pytest.raises(hook.HookError, match="Rule for priority changes"):
        hook.priority_change_rule("A docstring without the rule.")


def test_unknown_markers_and_a_page_without_its_table_fail_the_build() -> None:
    settings = Settings.from_env({})
    with pytest.raises(hook.HookError, match="clearloop:sla-tabel"):
        hook.render_page("<!-- clearloop:sla-tabel -->", "other.md", settings)
    with pytest.raises(hook.HookError, match="lost its markers: sla-table"):
        hook.render_page(
            "<!-- clearloop:keyword-rules --> <!-- clearloop:priority-change-rule -->",
            "how-it-works.md",
            settings,
        )
    plain = "# Other page\n\n<!-- an ordinary comment -->\n"
    assert hook.render_page(plain, "other.md", settings) == plain


def test_an_invalid_policy_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(policy_document(due_soon_fraction=1.5)), encoding="utf-8")
    monkeypatch.setenv("CLEARLOOP_POLICY_FILE", str(policy))

    page = SimpleNamespace(file=SimpleNamespace(src_uri="how-it-works.md"))

    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="due_soon_fraction"):
        hook.on_page_markdown(PAGE_PATH.read_text(encoding="utf-8"), page, None, None)


def test_mkdocs_registers_the_hook_and_the_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "hooks:\n  - site/hooks/sla_table.py" in config
    assert "- How it works: how-it-works.md" in config
