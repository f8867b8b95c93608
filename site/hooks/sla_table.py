"""MkDocs hook: facts on the how-it-works page come from the code, at build time.

A page may hold markers such as ``<!-- clearloop:sla-table -->``; each is replaced with text
rendered from what the API itself loads, so the page can never disagree with the code:

| marker | replaced with | source |
| --- | --- | --- |
| ``sla-table`` | the SLA targets table, business hours, holidays, time zone | SLA policy file |
| ``keyword-rules`` | the keywords that raise priority, and routing rules | rules file |
| ``priority-change-rule`` | the rule for priority changes, quoted | ``sla_state`` docstring |
| ``due-soon`` | the "due soon" fraction, e.g. ``80 %`` | SLA policy file |
| ``autoclose-days`` | e.g. ``14 days`` | settings |
| ``contact-retention`` | e.g. ``365 days`` | settings |

The files are the ones the API would load with the build's environment (``Settings``): the
bundled ones unless ``CLEARLOOP_POLICY_FILE`` and friends name others. An unknown marker, an
invalid policy, or a how-it-works page missing its table fails the build. The output is plain
Markdown (tables without alignment, which Python-Markdown would write as ``style`` attributes),
so the page stays clean under the site's Content-Security-Policy.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

API_DIR = Path(__file__).resolve().parents[2] / "api"
if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))

from chalicelib import config as clearloop_config  # noqa: E402 - needs API_DIR on sys.path
from chalicelib.domain import sla_state  # noqa: E402
from chalicelib.domain.categories import load_taxonomy  # noqa: E402
from chalicelib.domain.sla import (  # noqa: E402
    BusinessCalendar,
    Policy,
    Target,
    load_policy_file,
)
from chalicelib.domain.tickets import PRIORITIES  # noqa: E402
from chalicelib.domain.triage import DEFAULT_PRIORITY_BY_TYPE, Rules, load_rules  # noqa: E402

MARKER = re.compile(r"<!--\s*clearloop:([a-z-]+)\s*-->")
PAGE = "how-it-works.md"
REQUIRED_ON_PAGE = ("sla-table", "keyword-rules", "priority-change-rule")

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# What each priority stands for; which feedback gets it by default is read from the code.
MEANINGS = {
    "P1": "Major: a safety risk, an outage, or many people affected.",
    "P2": "Needs a prompt answer.",
    "P3": "Answered in the normal course of work.",
}
TYPE_PLURALS = {
    "complaint": "complaints",
    "report": "reports of a fault or hazard",
    "suggestion": "suggestions",
    "inquiry": "questions",
    "praise": "praise",
}
_RULE_INTRO = "Rule for priority changes (documented in the how-it-works page):"


class HookError(Exception):
    """The page cannot be rendered; the build stops with this message."""


# --- rendering (pure functions: the unit tests call these) --------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _hours_minutes(duration: timedelta, adjective: str = "") -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    prefix = f"{adjective} " if adjective else ""
    parts = []
    if hours:
        parts.append(_plural(hours, f"{prefix}hour"))
    if rest or not hours:
        parts.append(_plural(rest, "minute" if hours else f"{prefix}minute"))
    return " ".join(parts)


def format_duration(duration: timedelta, target: Target, calendar: BusinessCalendar) -> str:
    """``3 business days``, ``2 business hours``, ``24 hours``, ``7 days``."""
    if target.clock == "business":
        day = calendar.business_day
        if duration % day == timedelta(0):
            return _plural(duration // day, "business day")
        return _hours_minutes(duration, "business")
    if duration >= timedelta(days=2) and duration % timedelta(days=1) == timedelta(0):
        return _plural(duration.days, "day")
    return _hours_minutes(duration)


def format_clock(target: Target) -> str:
    if target.clock == "calendar":
        return "Around the clock, every day"
    return "Business hours only"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def format_weekdays(days: frozenset[int]) -> str:
    """``Monday to Friday`` for a run of days, else a list."""
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]} to {DAY_NAMES[ordered[-1]]}"
    return _join([DAY_NAMES[d] for d in ordered])


def format_date(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def format_percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def meaning(priority: str, rules: Rules | None) -> str:
    """What a priority stands for, and which feedback gets it automatically."""
    text = [MEANINGS.get(priority, "")]
    defaults = [
        TYPE_PLURALS.get(kind, kind)
        for kind, default in DEFAULT_PRIORITY_BY_TYPE.items()
        if default == priority
    ]
    if defaults:
        text.append(f"The starting priority of {_join(defaults)}.")
    if rules is not None and any(r.priority == priority for r in rules.keyword_rules):
        text.append("Given automatically when the feedback contains a priority keyword.")
    return " ".join(t for t in text if t)


def render_sla_table(policy: Policy, rules: Rules | None = None) -> str:
    """The targets table and the business calendar, as Markdown."""
    cal = policy.calendar
    lines = [
        "| Priority | Meaning | First response within | Resolution within | Clock |",
        "| --- | --- | --- | --- | --- |",
    ]
    for priority in PRIORITIES:
        target = policy.targets[priority]
        cells = [
            f"**{priority}**",
            _escape(meaning(priority, rules)),
            format_duration(target.first_response, target, cal),
            format_duration(target.resolution, target, cal),
            format_clock(target),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    holidays = sorted(cal.holidays)
    hours = f"{cal.opens:%H:%M}–{cal.closes:%H:%M}"
    business_day = _hours_minutes(cal.business_day)
    lines += [
        "",
        f"- **Business hours:** {format_weekdays(cal.weekdays)}, {hours}.",
        f"- **Time zone:** `{_escape(cal.timezone)}`. Business hours are local times in this "
        "zone, also across daylight-saving changes.",
        f"- **A business day** is one working day's business hours ({business_day}).",
        "- **Holidays:** "
        + (_join([format_date(d) for d in holidays]) + "." if holidays else "none."),
        f"- **Due soon:** when {format_percent(policy.due_soon_fraction)} of the time "
        "allowed has been used.",
    ]
    return "\n".join(lines)


def render_keyword_rules(rules: Rules) -> str:
    """The keyword rules (and any routing rules) as a Markdown list."""
    lines = []
    for rule in rules.keyword_rules:
        words = ", ".join(f"<code>{html.escape(k)}</code>" for k in rule.keywords)
        lines.append(f"- Raised to **{rule.priority}**: {words}")
    if not lines:
        lines.append("- No keyword rules are in force: priorities come from the type of feedback.")
    for route in rules.routes:
        lines.append(
            f"- Feedback in category <code>{html.escape(route.category)}</code> goes to the "
            f"<code>{html.escape(route.department)}</code> department."
        )
    return "\n".join(lines)


def priority_change_rule(doc: str | None = sla_state.__doc__) -> str:
    """The priority-change rule from ``sla_state``'s docstring, as a Markdown quote."""
    paragraphs = [" ".join(p.split()) for p in (doc or "").split("\n\n")]
    for paragraph in paragraphs:
        if paragraph.startswith(_RULE_INTRO):
            rule = paragraph.removeprefix(_RULE_INTRO).strip()
            return f"> {_escape(rule[:1].upper() + rule[1:])}"
    raise HookError(f"sla_state's docstring has no paragraph starting {_RULE_INTRO!r}")


def _escape(text: str) -> str:
    """Text safe to place in Markdown: no markup, no table-cell break."""
    return html.escape(text, quote=False).replace("|", "&#124;")


def replace_markers(markdown: str, renderers: Mapping[str, Callable[[], str]]) -> str:
    """Replace every ``<!-- clearloop:NAME -->`` with ``renderers[NAME]()``."""

    def one(match: re.Match[str]) -> str:
        name = match[1]
        if name not in renderers:
            raise HookError(f"unknown marker clearloop:{name} (known: {', '.join(renderers)})")
        return renderers[name]()

    return MARKER.sub(one, markdown)


# --- Simplified Chinese (the /zh/ twin of the page): Babel formats dates, numbers, units -----

MEANINGS_ZH = {
    "P1": "重大：存在安全风险、服务中断或影响人数众多。",
    "P2": "需要尽快答复。",
    "P3": "按正常工作流程答复。",
}
TYPE_NAMES_ZH = {
    "complaint": "投诉",
    "report": "故障或安全隐患报修",
    "suggestion": "建议",
    "inquiry": "咨询",
    "praise": "表扬",
}
# The rule of sla_state's docstring (quoted in English by ``priority_change_rule``), in Chinese;
# tests/unit/test_i18n_parity.py checks that the English rule it translates has not changed.
PRIORITY_RULE_ZH = (
    "办理时限按新的优先级重新计算：从提交时间起算（重新处理的工单，其办结时限从重新处理时起算），"
    "再顺延此前所有暂停计时的时间；已经达成的时限仍算达成，已记录的超时也会一直保留。"
)
ZH = "zh_Hans_CN"


def _unit_zh(value: int, unit: str) -> str:
    from babel.units import format_unit

    return str(format_unit(value, unit, length="short", locale=ZH))


def _hours_minutes_zh(duration: timedelta, business: bool = False) -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(_unit_zh(hours, "hour"))
    if rest or not hours:
        parts.append(_unit_zh(rest, "minute"))
    return ("工作时间内 " if business else "") + "".join(parts)


def format_duration_zh(duration: timedelta, target: Target, calendar: BusinessCalendar) -> str:
    """``3 个工作日``, ``工作时间内 2小时``, ``24小时``, ``7天``."""
    from babel.numbers import format_decimal

    if target.clock == "business":
        day = calendar.business_day
        if duration % day == timedelta(0):
            return f"{format_decimal(duration // day, locale=ZH)} 个工作日"
        return _hours_minutes_zh(duration, business=True)
    if duration >= timedelta(days=2) and duration % timedelta(days=1) == timedelta(0):
        return _unit_zh(duration.days, "day")
    return _hours_minutes_zh(duration)


def format_weekdays_zh(days: frozenset[int]) -> str:
    from babel.dates import get_day_names

    names = get_day_names("wide", locale=ZH)
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[ordered[0]]}至{names[ordered[-1]]}"
    return "、".join(names[d] for d in ordered)


def format_date_zh(day: date) -> str:
    from babel.dates import format_date as babel_date

    return str(babel_date(day, "long", locale=ZH))


def format_percent_zh(fraction: float) -> str:
    from babel.numbers import format_percent as babel_percent

    return str(babel_percent(fraction, locale=ZH))


def meaning_zh(priority: str, rules: Rules | None) -> str:
    text = [MEANINGS_ZH.get(priority, "")]
    defaults = [
        TYPE_NAMES_ZH.get(kind, kind)
        for kind, default in DEFAULT_PRIORITY_BY_TYPE.items()
        if default == priority
    ]
    if defaults:
        text.append(f"{'、'.join(defaults)}的初始优先级。")
    if rules is not None and any(r.priority == priority for r in rules.keyword_rules):
        text.append("反馈内容含有优先级关键词时自动设为此级。")
    return "".join(t for t in text if t)


def render_sla_table_zh(policy: Policy, rules: Rules | None = None) -> str:
    cal = policy.calendar
    lines = [
        "| 优先级 | 含义 | 首次答复时限 | 办结时限 | 计时方式 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for priority in PRIORITIES:
        target = policy.targets[priority]
        cells = [
            f"**{priority}**",
            _escape(meaning_zh(priority, rules)),
            format_duration_zh(target.first_response, target, cal),
            format_duration_zh(target.resolution, target, cal),
            "全天候计时，节假日不停" if target.clock == "calendar" else "仅在工作时间内计时",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    holidays = sorted(cal.holidays)
    lines += [
        "",
        f"- **工作时间：**{format_weekdays_zh(cal.weekdays)} "
        f"{cal.opens:%H:%M}–{cal.closes:%H:%M}。",
        f"- **时区：**`{_escape(cal.timezone)}`。工作时间按该时区的当地时间计算，"
        "夏令时切换时亦然。",
        f"- **一个工作日**即一天的工作时间（{_hours_minutes_zh(cal.business_day)}）。",
        "- **节假日：**"
        + ("、".join(format_date_zh(d) for d in holidays) + "。" if holidays else "无。"),
        f"- **即将到期：**已用去时限的 {format_percent_zh(policy.due_soon_fraction)} 时。",
    ]
    return "\n".join(lines)


def render_keyword_rules_zh(rules: Rules) -> str:
    lines = []
    for rule in rules.keyword_rules:
        words = "、".join(f"<code>{html.escape(k)}</code>" for k in rule.keywords)
        lines.append(f"- 提升为 **{rule.priority}**：{words}")
    if not lines:
        lines.append("- 目前没有关键词规则：优先级由反馈类型决定。")
    for route in rules.routes:
        lines.append(
            f"- 类别 <code>{html.escape(route.category)}</code> 的反馈交由 "
            f"<code>{html.escape(route.department)}</code> 部门办理。"
        )
    return "\n".join(lines)


def renderers_zh(settings: clearloop_config.Settings) -> dict[str, Callable[[], str]]:
    """The Chinese renderers for every marker (the same files as ``renderers``)."""
    from babel.numbers import format_decimal

    policy = load_policy_file(settings.policy_file)
    rules = load_rules(
        _load_json(settings.rules_file), load_taxonomy(_load_json(settings.categories_file))
    )
    priority_change_rule()  # the English rule must still exist (the build fails otherwise)
    return {
        "sla-table": lambda: render_sla_table_zh(policy, rules),
        "keyword-rules": lambda: render_keyword_rules_zh(rules),
        "priority-change-rule": lambda: f"> {_escape(PRIORITY_RULE_ZH)}",
        "due-soon": lambda: format_percent_zh(policy.due_soon_fraction),
        "autoclose-days": lambda: f"{format_decimal(settings.autoclose_days, locale=ZH)} 天",
        "contact-retention": lambda: (
            f"{format_decimal(settings.contact_retention_days, locale=ZH)} 天"
        ),
    }


# --- loading what the API loads ------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def renderers(settings: clearloop_config.Settings) -> dict[str, Callable[[], str]]:
    """Renderers for every marker, reading the files ``settings`` name."""
    policy = load_policy_file(settings.policy_file)
    rules = load_rules(
        _load_json(settings.rules_file), load_taxonomy(_load_json(settings.categories_file))
    )
    return {
        "sla-table": lambda: render_sla_table(policy, rules),
        "keyword-rules": lambda: render_keyword_rules(rules),
        "priority-change-rule": priority_change_rule,
        "due-soon": lambda: format_percent(policy.due_soon_fraction),
        "autoclose-days": lambda: _plural(settings.autoclose_days, "day"),
        "contact-retention": lambda: _plural(settings.contact_retention_days, "day"),
    }


def render_page(
    markdown: str, src_uri: str, settings: clearloop_config.Settings, language: str = "en"
) -> str:
    """The page with its markers replaced; the how-it-works page (and its ``.zh.md`` twin)
    must hold its tables. ``language`` "zh" renders them in Simplified Chinese."""
    found = set(MARKER.findall(markdown))
    if src_uri in (PAGE, PAGE.replace(".md", ".zh.md")):
        missing = [m for m in REQUIRED_ON_PAGE if m not in found]
        if missing:
            raise HookError(f"{PAGE} lost its markers: {', '.join(missing)}")
    if not found:
        return markdown
    if language == "zh":
        return replace_markers(markdown, renderers_zh(settings))
    return replace_markers(markdown, renderers(settings))


# --- MkDocs events -------------------------------------------------------------------------------


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    from mkdocs.exceptions import PluginError

    try:
        # The i18n plugin's files carry their locale; a page without a twin is English.
        language = "zh" if getattr(page.file, "locale", "en") == "zh" else "en"
        src_uri = page.file.src_uri
        return render_page(markdown, src_uri, clearloop_config.Settings.from_env(), language)
    except (HookError, ValueError, OSError) as e:  # PolicyError and SettingsError are ValueErrors
        raise PluginError(f"clearloop hook: {e}") from e


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the policy or the rules change."""
    settings = clearloop_config.Settings.from_env()
    for path in (settings.policy_file, settings.rules_file, settings.categories_file):
        server.watch(str(path))
    return server
