"""The how-it-works page's generated facts in Simplified Chinese (the /zh/ twin)."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.config import Settings
from chalicelib.domain.sla import DEFAULT_POLICY_PATH, load_policy_file
from tests.unit.test_site_hook import hook, table_rows

ZH_PAGE = Path(__file__).resolve().parents[2] / "site" / "docs" / "how-it-works.zh.md"


def test_the_chinese_table_has_the_bundled_targets_formatted_by_babel() -> None:
    text = hook.render_sla_table_zh(load_policy_file(DEFAULT_POLICY_PATH))
    assert text.startswith("| 优先级 | 含义 | 首次答复时限 | 办结时限 | 计时方式 |")
    p1, p2, p3 = table_rows(text)
    assert p1[2:] == ["1小时", "24小时", "全天候计时，节假日不停"]
    assert p2[2:] == ["工作时间内 2小时", "工作时间内 48小时", "仅在工作时间内计时"]
    assert p3[1] == "按正常工作流程答复。建议、咨询、表扬的初始优先级。"
    assert p3[2:4] == ["3 个工作日", "7 个工作日"]
    assert "- **一个工作日**即一天的工作时间（9小时）。" in text
    assert "- **工作时间：**星期一至星期五 09:00–18:00。" in text
    assert re.search(r"已用去时限的 80% 时", text)


def test_the_chinese_page_is_rendered_in_chinese_and_keeps_its_markers() -> None:
    markdown = ZH_PAGE.read_text("utf-8")
    out = hook.render_page(markdown, "how-it-works.zh.md", Settings.from_env(), "zh")
    assert "<!-- clearloop:" not in out
    assert "| 优先级 | 含义 |" in out
    assert "> 办理时限按新的优先级重新计算" in out
    assert "14 天" in out
    assert "Priority" not in out


def test_the_chinese_rule_translates_the_current_english_rule() -> None:
    # A change of the English rule (sla_state's docstring) must be carried into PRIORITY_RULE_ZH:
    # update this fingerprint together with the translation.
    english = hook.priority_change_rule()
    assert "recomputed from the submission time" in english
    assert "breaches stay recorded" in english
