"""Column titles of the open-data CSV files in each language.

The English files (``metrics.csv``, ``daily.csv``, ``board.csv``) head their columns with the
machine names, which are also the JSON field names. A Chinese twin of each file
(``metrics.zh.csv``...) carries the same rows under a header row in Chinese. Every column of
every file has a title in every language (``tests/unit/test_i18n_parity.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

COLUMN_TITLES: dict[str, dict[str, str]] = {
    "zh": {
        "period": "时段",
        "first_day": "起始日期",
        "last_day": "截止日期",
        "dimension": "分组方式",
        "value": "代码",
        "name": "名称",
        "received": "新增",
        "resolved": "办结",
        "open_backlog_at_end": "期末未办结",
        "merged": "合并",
        "rejected_spam": "垃圾信息不予受理",
        "rejected_out_of_scope": "超出范围不予受理",
        "resolution_rate": "办结率",
        "resolved_or_closed": "已办结或结案",
        "resolution_rate_denominator": "办结率分母",
        "on_time_first_response_rate": "首次答复按时率",
        "first_responses_on_time": "按时首次答复",
        "first_responses": "首次答复",
        "first_response_overdue_still_open": "首次答复超期未办",
        "on_time_resolution_rate": "办结按时率",
        "resolutions_on_time": "按时办结",
        "resolutions": "办结次数",
        "resolution_overdue_still_open": "办结超期未办",
        "first_response_median_seconds": "首次答复用时中位数（秒）",
        "first_response_mean_seconds": "首次答复平均用时（秒）",
        "resolution_median_seconds": "办结用时中位数（秒）",
        "resolution_mean_seconds": "办结平均用时（秒）",
        "satisfaction_rate": "满意率",
        "satisfied": "满意评价",
        "ratings": "评价数",
        "reopen_rate": "重新办理率",
        "reopened": "重新办理",
        "first_response_breaches": "首次答复超时",
        "resolution_breaches": "办结超时",
        "day": "日期",
        "id": "编号",
        "category": "类别代码",
        "category_name": "类别",
        "department": "部门",
        "submitted_on": "提交日期",
        "resolved_on": "办结日期",
        "seconds_to_resolve": "办理用时（秒）",
        "rating": "评价",
        "summary": "摘要",
        "resolution": "处理情况",
        "url": "链接",
    },
}


def header(columns: Sequence[str], language: str) -> list[str]:
    """The header row of ``columns`` in ``language`` (English: the machine names)."""
    titles = COLUMN_TITLES.get(language, {})
    return [titles.get(c, c) for c in columns]
