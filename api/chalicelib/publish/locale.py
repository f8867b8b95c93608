"""One language of the published pages: its texts and how it writes numbers, dates and durations.

English keeps the pages' long-standing forms (``87.5 %``, ``2026-11-25``, ``3 h 20 min``);
Simplified Chinese is formatted by Babel for the ``zh_Hans_CN`` locale (``87.5%``,
``2026年11月25日``, ``3小时20分钟``). Babel is imported inside the Chinese formatters only, like
``notify/messages.py`` and the site's ``sla_table`` hook do, so nothing else loads it.

``t(key, **params)`` returns trusted markup from ``publish/messages.py`` with every parameter
escaped (``markupsafe``): a text a person wrote can never become markup, whatever it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.metrics import Period, Ratio
from chalicelib.publish.messages import MESSAGES

LANGUAGES = ("en", "zh")
BABEL_LOCALE = "zh_Hans_CN"


def duration_en(seconds: float | None) -> str:
    """``45 min``, ``3 h 20 min``, ``2 d 4 h``; an em dash when there is nothing."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _zh_units(parts: list[tuple[int, str]]) -> str:
    from babel.units import format_unit

    return "".join(
        str(format_unit(value, unit, length="short", locale=BABEL_LOCALE)).replace(" ", "")
        for value, unit in parts
        if value or len(parts) == 1
    )


def duration_zh(seconds: float | None) -> str:
    """The steps of English, in Babel's Chinese units: ``45分钟``, ``3小时20分钟``, ``2天4小时``."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _zh_units([(minutes, "minute")])
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _zh_units([(hours, "hour"), (minutes, "minute")])
    days, hours = divmod(hours, 24)
    return _zh_units([(days, "day"), (hours, "hour")])


@dataclass(frozen=True)
class PageLanguage:
    """Texts and formats of one language; ``prefix`` is where its pages live (``zh/``)."""

    code: str

    @property
    def prefix(self) -> str:
        return "" if self.code == "en" else f"{self.code}/"

    @property
    def html_lang(self) -> str:
        return self.code

    @property
    def zh(self) -> bool:
        return self.code == "zh"

    def t(self, key: str, **params: Any) -> Any:
        """The text of ``key`` as markup, its ``{slots}`` filled with escaped ``params``."""
        from markupsafe import Markup

        # The catalogue is trusted markup; Markup.format escapes every parameter.
        return Markup(MESSAGES[self.code][key]).format(**params)  # noqa: S704

    def text(self, key: str, **params: Any) -> str:
        """The plain text of ``key`` (for SVG titles, CSV cells, where no markup belongs)."""
        return MESSAGES[self.code][key].format(**params)

    def number(self, value: int | float | None) -> str:
        if value is None:
            return "—"
        if not self.zh:
            return str(value)
        from babel.numbers import format_decimal

        return str(format_decimal(value, locale=BABEL_LOCALE))

    def percent(self, ratio: Ratio) -> str:
        if not self.zh:
            return ratio.percent
        value = ratio.value
        if value is None:
            return "—"
        from babel.numbers import format_percent

        return str(format_percent(value, "#,##0.0%", locale=BABEL_LOCALE))

    def duration(self, seconds: float | None) -> str:
        return duration_zh(seconds) if self.zh else duration_en(seconds)

    def day(self, value: date | str) -> str:
        """A calendar day: ``2026-11-25``; ``2026年11月25日``."""
        d = date.fromisoformat(value) if isinstance(value, str) else value
        if not self.zh:
            return d.isoformat()
        from babel.dates import format_date

        return str(format_date(d, "long", locale=BABEL_LOCALE))

    def month(self, value: date | str) -> str:
        """A month: ``November 2026``; ``2026年11月``."""
        d = date.fromisoformat(value + "-01") if isinstance(value, str) else value
        if not self.zh:
            return d.strftime("%B %Y")
        from babel.dates import format_skeleton

        return str(format_skeleton("yMMMM", d, locale=BABEL_LOCALE))

    def chart_day(self, d: date) -> str:
        """A day under a chart's bar: ``25 Nov``; ``11月25日``."""
        if not self.zh:
            return d.strftime("%d %b")
        from babel.dates import format_skeleton

        return str(format_skeleton("MMMd", d, locale=BABEL_LOCALE))

    def chart_month(self, d: date) -> str:
        """A month under a chart's bar: ``Nov 26``; ``2026年11月``."""
        if not self.zh:
            return d.strftime("%b %y")
        from babel.dates import format_skeleton

        return str(format_skeleton("yMMM", d, locale=BABEL_LOCALE))

    def generated(self, at: datetime) -> str:
        """The time of a run (UTC): ``2026-11-25 10:00 UTC``; ``2026年11月25日 10:00 (UTC)``."""
        if not self.zh:
            return at.strftime("%Y-%m-%d %H:%M UTC")
        from babel.dates import format_date, format_time

        day = format_date(at, "long", locale=BABEL_LOCALE)
        return f"{day} {format_time(at, 'HH:mm', locale=BABEL_LOCALE)} (UTC)"

    def period(self, period: Period) -> str:
        """A period's label: ``Last 30 days``, ``November 2026 (so far)``; ``最近 30 天``..."""
        if not self.zh:
            return period.label
        if period.key.startswith("last-"):
            return self.text("period.last_days", n=(period.last - period.first).days + 1)
        month = self.month(period.first)
        month_end = (period.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        if period.last < month_end - timedelta(days=1):
            return self.text("period.so_far", month=month)
        return month
