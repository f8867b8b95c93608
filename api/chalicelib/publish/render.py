"""Rendering the transparency page, the resolved-issue board, the Atom feed and the open data.

Jinja2 with autoescaping on for every template: every text that came from a person (summaries,
resolutions) is escaped, and none is ever placed in an attribute that a browser would follow or
run (links are built from ticket numbers, category codes and months only). The pages carry no
script and no ``style`` attribute: they link the built site's stylesheets (``stylesheets``,
discovered by the publisher) and ``assets/published/publish.css``, so they pass the site's CSP
(``default-src 'self'``).

Every page is rendered in English (``transparency/``, ``board/``) and in Simplified Chinese
beside the site's Chinese pages (``zh/transparency/``, ``zh/board/``): texts from
``publish/messages.py``, numbers, dates and durations formatted per language
(``publish/locale.py``, Babel for Chinese), category, channel and department names from
``PublishInput.names_zh``; a header language switcher links each page to its twin. Board texts
written by staff are published as written. The open-data files are shared by both languages.

``render(data)`` returns every file with its key, content, headers and write stage; the
publisher writes them stage by stage (data first, index pages last).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalicelib.domain.metrics import (
    RANKED_RATES,
    Durations,
    Metrics,
    Period,
    Ranked,
    Ratio,
    RollupView,
    last_days,
    rank,
)
from chalicelib.domain.publication import BoardEntry
from chalicelib.publish import charts
from chalicelib.publish.columns import header as columns_header
from chalicelib.publish.locale import LANGUAGES, PageLanguage, duration_en

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_SIZE = 20
FEED_ENTRIES = 50
SHORT_CACHE = "public, max-age=300"  # pages and data change with every hourly publish
LONG_CACHE = "public, max-age=3600"
HTML = "text/html; charset=utf-8"
# Write order: a reader never sees an index that points at a page not yet written.
STAGE_DATA, STAGE_ITEMS, STAGE_LISTS, STAGE_FEED, STAGE_BOARD_INDEX, STAGE_INDEX = range(6)
OWNED_PREFIXES = (
    "transparency/",
    "board/",
    "assets/published/",
    "zh/transparency/",
    "zh/board/",
)
CHANNEL_NAMES = {
    "web": "Website",
    "phone": "Phone",
    "email": "E-mail",
    "letter": "Letter",
    "box": "Suggestion box",
    "in_person": "In person",
    "open311": "Open311 apps",
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class OutputFile:
    """One published file."""

    key: str
    body: bytes
    content_type: str
    cache_control: str
    stage: int


@dataclass(frozen=True)
class Names:
    """Display names (English) of categories (every code), channels and departments, in the
    order the page lists them; ``category_parent`` maps a code to its top-level category."""

    categories: Mapping[str, str]
    top_categories: Sequence[str]
    category_parent: Callable[[str], str]
    channels: Mapping[str, str]
    departments: Mapping[str, str]


@dataclass(frozen=True)
class PublishInput:
    """Everything a publish run renders."""

    generated_at: datetime
    zone: str
    today: date
    view: RollupView
    months: Sequence[Period]
    board: Sequence[BoardEntry]
    names: Names
    site_origin: str
    stylesheets: Sequence[str]
    site_name: str = "Clearloop"
    # Chinese display names (categories, channels, departments); English ones when absent.
    names_zh: Names | None = field(default=None)


def duration_text(seconds: float | None) -> str:
    """``45 min``, ``3 h 20 min``, ``2 d 4 h``; an em dash when there is nothing."""
    return duration_en(seconds)


def _xml_text(value: object) -> str:
    return _XML_INVALID.sub("", str(value))


@functools.cache
def environment() -> Any:
    """The Jinja2 environment (imported lazily: only the publisher needs it)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["xml_text"] = _xml_text
    env.filters["urlpart"] = lambda v: quote(str(v), safe="")
    return env


def _ratio(r: Ratio) -> dict[str, Any]:
    return {"value": None if r.value is None else round(r.value, 6)}


def metrics_json(m: Metrics) -> dict[str, Any]:
    """One metrics object of ``metrics.json`` (see ``transparency/schema.json``)."""

    def durations(d: Durations) -> dict[str, Any]:
        return {"count": d.count, "median_seconds": d.median, "mean_seconds": d.mean}

    return {
        "received": m.received,
        "resolved": m.resolved,
        "open_backlog_at_end": m.backlog,
        "merged": m.merged,
        "rejected_spam": m.rejected_spam,
        "rejected_out_of_scope": m.rejected_other,
        "resolution_rate": {
            **_ratio(m.resolution_rate),
            "resolved_or_closed": m.cohort_resolved,
            "denominator": m.resolution_rate_base,
        },
        "on_time_first_response": {
            **_ratio(m.on_time_response),
            "on_time": m.responded_on_time,
            "handled": m.responded,
            "overdue_still_open": m.response_overdue_open,
        },
        "on_time_resolution": {
            **_ratio(m.on_time_resolution),
            "on_time": m.resolved_on_time,
            "handled": m.resolved,
            "overdue_still_open": m.resolution_overdue_open,
        },
        "first_response_time": durations(m.response_time),
        "resolution_time": durations(m.resolution_time),
        "satisfaction": {**_ratio(m.satisfaction), "satisfied": m.satisfied, "ratings": m.ratings},
        "reopen_rate": {**_ratio(m.reopen_rate), "reopened": m.reopened, "resolved": m.resolved},
        "sla_breaches": {
            "first_response": m.response_breaches,
            "resolution": m.resolution_breaches,
        },
    }


CSV_COLUMNS = (
    "period",
    "first_day",
    "last_day",
    "dimension",
    "value",
    "name",
    "received",
    "resolved",
    "open_backlog_at_end",
    "merged",
    "rejected_spam",
    "rejected_out_of_scope",
    "resolution_rate",
    "resolved_or_closed",
    "resolution_rate_denominator",
    "on_time_first_response_rate",
    "first_responses_on_time",
    "first_responses",
    "first_response_overdue_still_open",
    "on_time_resolution_rate",
    "resolutions_on_time",
    "resolutions",
    "resolution_overdue_still_open",
    "first_response_median_seconds",
    "first_response_mean_seconds",
    "resolution_median_seconds",
    "resolution_mean_seconds",
    "satisfaction_rate",
    "satisfied",
    "ratings",
    "reopen_rate",
    "reopened",
    "first_response_breaches",
    "resolution_breaches",
)
BOARD_COLUMNS = (
    "id",
    "category",
    "category_name",
    "department",
    "submitted_on",
    "resolved_on",
    "seconds_to_resolve",
    "rating",
    "summary",
    "resolution",
    "url",
)


def _cell(value: object) -> object:
    """CSV cell: numbers as they are, text neutralised against spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return round(value, 6) if isinstance(value, float) else value
    text = str(value)
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _csv_metrics_row(
    period: Period, dimension: str, value: str, name: str, m: Metrics
) -> list[object]:
    return [
        period.key,
        period.first.isoformat(),
        period.last.isoformat(),
        dimension,
        value,
        name,
        m.received,
        m.resolved,
        m.backlog,
        m.merged,
        m.rejected_spam,
        m.rejected_other,
        m.resolution_rate.value,
        m.cohort_resolved,
        m.resolution_rate_base,
        m.on_time_response.value,
        m.responded_on_time,
        m.responded,
        m.response_overdue_open,
        m.on_time_resolution.value,
        m.resolved_on_time,
        m.resolved,
        m.resolution_overdue_open,
        m.response_time.median,
        m.response_time.mean,
        m.resolution_time.median,
        m.resolution_time.mean,
        m.satisfaction.value,
        m.satisfied,
        m.ratings,
        m.reopen_rate.value,
        m.reopened,
        m.response_breaches,
        m.resolution_breaches,
    ]


@dataclass(frozen=True)
class PeriodReport:
    """One period's figures: overall, by category, channel and (ranked) department."""

    period: Period
    overall: Metrics
    categories: list[tuple[str, str, Metrics]]
    channels: list[tuple[str, str, Metrics]]
    departments: list[tuple[Ranked, str]]


def _values(view: RollupView, dimension: str, known: Iterable[str]) -> list[str]:
    """Configured values first (in order), then any others with data (e.g. a retired category)."""
    known = list(known)
    extra = sorted(view.values(dimension) - set(known))
    return known + extra


def period_report(data: PublishInput, period: Period, names: Names | None = None) -> PeriodReport:
    view, names = data.view, names or data.names
    cats = [
        (code, names.categories.get(code, code), view.metrics(period, "category", code))
        for code in _values(view, "category", names.top_categories)
    ]
    chans = [
        (code, names.channels.get(code, code), view.metrics(period, "channel", code))
        for code in _values(view, "channel", names.channels)
    ]
    depts = rank(
        (code, view.metrics(period, "department", code))
        for code in _values(view, "department", names.departments)
    )
    return PeriodReport(
        period,
        view.metrics(period),
        cats,
        chans,
        [(r, names.departments.get(r.value, r.value)) for r in depts],
    )


class Renderer:
    """Renders every published file of one run, in every language."""

    def __init__(self, data: PublishInput) -> None:
        self.data = data
        self.env = environment()
        self.files: list[OutputFile] = []
        self.generated = data.generated_at.astimezone(UTC)
        self.common: dict[str, Any] = {}
        self.lang = PageLanguage("en")
        self.names = data.names
        self._use("en")

    def _use(self, code: str) -> None:
        """Render the next pages in ``code``'s language."""
        lang = PageLanguage(code)
        self.lang = lang
        self.names = (self.data.names_zh or self.data.names) if lang.zh else self.data.names
        self.common = {
            "site_name": lang.text("site_name", site=self.data.site_name),
            "stylesheets": list(self.data.stylesheets),
            "generated_iso": self.generated.isoformat(timespec="seconds"),
            "generated_text": lang.generated(self.generated),
            "zone": self.data.zone,
            "lang": lang,
            "t": lang.t,
        }

    def _add(
        self, key: str, body: bytes, content_type: str, stage: int, cache: str = SHORT_CACHE
    ) -> None:
        self.files.append(OutputFile(key, body, content_type, cache, stage))

    def _page(self, key: str, template: str, stage: int, **context: Any) -> None:
        """One page of the current language; ``key`` is its path in English (``board/...``)."""
        lang = self.lang
        full = lang.prefix + key
        root = "../" * full.count("/")
        path = key.removesuffix("index.html")
        languages = [
            {
                "code": code,
                "name": PageLanguage(code).text("language_name"),
                "href": root + PageLanguage(code).prefix + path,
                "current": code == lang.code,
            }
            for code in LANGUAGES
        ]
        html = self.env.get_template(template).render(
            **self.common,
            root=root,
            home=root + lang.prefix,
            languages=languages,
            **context,
        )
        self._add(full, html.encode("utf-8"), HTML, stage)

    def render(self) -> list[OutputFile]:
        data = self.data
        recent = last_days(data.today, 30)
        periods = [recent, *data.months]
        reports = [period_report(data, p) for p in periods]
        daily = data.view.daily(recent)
        self._add(
            "assets/published/publish.css",
            (TEMPLATES / "publish.css").read_bytes(),
            "text/css; charset=utf-8",
            STAGE_DATA,
            LONG_CACHE,
        )
        self._data_files(reports, daily)
        self._feed()
        for code in LANGUAGES:
            self._use(code)
            if code != "en":
                reports = [period_report(data, p, self.names) for p in periods]
            self._board()
            for report in reports[1:]:
                self._transparency(
                    report,
                    reports,
                    daily=None,
                    key=f"transparency/{report.period.key}/index.html",
                    stage=STAGE_LISTS,
                )
            self._transparency(
                reports[0], reports, daily=daily, key="transparency/index.html", stage=STAGE_INDEX
            )
        self._use("en")
        return sorted(self.files, key=lambda f: f.stage)

    # -- open data --------------------------------------------------------------------------

    def _data_files(self, reports: list[PeriodReport], daily: list[Any]) -> None:
        generated = self.common["generated_iso"]
        periods_json = []
        csv_rows: list[list[object]] = []
        for r in reports:
            p = r.period
            periods_json.append(
                {
                    "key": p.key,
                    "label": p.label,
                    "first_day": p.first.isoformat(),
                    "last_day": p.last.isoformat(),
                    "overall": metrics_json(r.overall),
                    "by_category": [
                        {"code": c, "name": n, **metrics_json(m)} for c, n, m in r.categories
                    ],
                    "by_channel": [
                        {"code": c, "name": n, **metrics_json(m)} for c, n, m in r.channels
                    ],
                    "by_department": [
                        {
                            "code": ranked.value,
                            "name": name,
                            "position": ranked.position,
                            "ranks": dict(ranked.ranks),
                            **metrics_json(ranked.metrics),
                        }
                        for ranked, name in r.departments
                    ],
                }
            )
            csv_rows.append(_csv_metrics_row(p, "all", "all", "All feedback", r.overall))
            for c, n, m in r.categories:
                csv_rows.append(_csv_metrics_row(p, "category", c, n, m))
            for c, n, m in r.channels:
                csv_rows.append(_csv_metrics_row(p, "channel", c, n, m))
            for ranked, name in r.departments:
                csv_rows.append(
                    _csv_metrics_row(p, "department", ranked.value, name, ranked.metrics)
                )
        metrics_doc = {
            "generated_at": generated,
            "time_zone": self.data.zone,
            "schema": "../schema.json",
            "periods": periods_json,
            "daily": [
                {
                    "day": d.day.isoformat(),
                    "received": d.received,
                    "resolved": d.resolved,
                    "open_backlog_at_end": d.backlog,
                }
                for d in daily
            ],
        }
        board_doc = {
            "generated_at": generated,
            "schema": "../schema.json",
            "items": [self._board_json(e) for e in self.data.board],
        }
        self._add(
            "transparency/data/metrics.json", _json(metrics_doc), "application/json", STAGE_DATA
        )
        self._add("transparency/data/board.json", _json(board_doc), "application/json", STAGE_DATA)
        self._add(
            "transparency/data/metrics.csv",
            _csv(CSV_COLUMNS, csv_rows),
            "text/csv; charset=utf-8",
            STAGE_DATA,
        )
        self._add(
            "transparency/data/daily.csv",
            _csv(
                ("day", "received", "resolved", "open_backlog_at_end"),
                ([d.day.isoformat(), d.received, d.resolved, d.backlog] for d in daily),
            ),
            "text/csv; charset=utf-8",
            STAGE_DATA,
        )
        self._add(
            "transparency/data/board.csv",
            _csv(
                BOARD_COLUMNS,
                ([self._board_json(e)[c] for c in BOARD_COLUMNS] for e in self.data.board),
            ),
            "text/csv; charset=utf-8",
            STAGE_DATA,
        )
        # The Chinese twins: the same rows under a Chinese header row (publish/columns.py).
        daily_columns = ("day", "received", "resolved", "open_backlog_at_end")
        for name, columns, rows in (
            ("metrics", CSV_COLUMNS, csv_rows),
            (
                "daily",
                daily_columns,
                [[d.day.isoformat(), d.received, d.resolved, d.backlog] for d in daily],
            ),
            (
                "board",
                BOARD_COLUMNS,
                [[self._board_json(e)[c] for c in BOARD_COLUMNS] for e in self.data.board],
            ),
        ):
            self._add(
                f"transparency/data/{name}.zh.csv",
                _csv(columns_header(columns, "zh"), rows),
                "text/csv; charset=utf-8",
                STAGE_DATA,
            )
        self._add(
            "transparency/schema.json",
            (TEMPLATES / "schema.json").read_bytes(),
            "application/json",
            STAGE_DATA,
        )

    def _board_json(self, e: BoardEntry) -> dict[str, Any]:
        return {
            "id": e.board_id,
            "category": self.data.names.category_parent(e.category),
            "category_name": self.data.names.categories.get(e.category, e.category),
            "department": e.department,
            "submitted_on": e.submitted_on,
            "resolved_on": e.resolved_on,
            "seconds_to_resolve": e.seconds_to_resolve,
            "rating": e.rating,
            "summary": e.summary,
            "resolution": e.resolution,
            "url": f"{self.data.site_origin}/board/items/{e.board_id}/",
        }

    # -- transparency pages -----------------------------------------------------------------

    def _transparency(
        self,
        report: PeriodReport,
        reports: list[PeriodReport],
        *,
        daily: list[Any] | None,
        key: str,
        stage: int,
    ) -> None:
        lang = self.lang
        months = reports[1:]
        volume = None
        if daily is not None:
            volume = charts.grouped_bars(
                lang.text("chart.volume.title"),
                lang.text("chart.volume.description"),
                [lang.chart_day(d.day) for d in daily],
                [
                    (
                        lang.text("chart.received"),
                        "cl-chart__bar--received",
                        [d.received for d in daily],
                    ),
                    (
                        lang.text("chart.resolved"),
                        "cl-chart__bar--resolved",
                        [d.resolved for d in daily],
                    ),
                ],
                line=(
                    lang.text("chart.backlog"),
                    "cl-chart__line--backlog",
                    [d.backlog for d in daily],
                ),
                label_every=5,
            )
        ordered = list(reversed(months))
        trend = charts.grouped_bars(
            lang.text("chart.trend.title"),
            lang.text("chart.trend.description"),
            [lang.chart_month(r.period.first) for r in ordered],
            [
                (
                    lang.text(f"rate.{rate}"),
                    f"cl-chart__bar--{rate.replace('_', '-')}",
                    [
                        None
                        if getattr(r.overall, rate).value is None
                        else round(100 * float(getattr(r.overall, rate).value or 0), 1)
                        for r in ordered
                    ],
                )
                for rate in RANKED_RATES
            ],
            maximum=100,
            suffix="%" if lang.zh else " %",
        )
        label = lang.period(report.period)
        self._page(
            key,
            "transparency.html",
            stage,
            report=report,
            period_label=label,
            reports=reports,
            months=months,
            daily=daily,
            volume=volume,
            trend=trend,
            ranked_rates=RANKED_RATES,
            section="transparency",
            title=lang.text("tr.title")
            if daily is not None
            else lang.text("tr.title_period", period=label),
        )

    # -- board ------------------------------------------------------------------------------

    def _board(self) -> None:
        lang = self.lang
        entries = list(self.data.board)
        names = self.names
        parent = names.category_parent
        categories = _values_from(entries, parent, names.top_categories)
        months = sorted({e.month for e in entries}, reverse=True)
        counts_cat = {c: sum(1 for e in entries if parent(e.category) == c) for c in categories}
        counts_month = {m: sum(1 for e in entries if e.month == m) for m in months}
        for e in entries:
            category_name = names.categories.get(e.category, e.category)
            self._page(
                f"board/items/{e.board_id}/index.html",
                "board_item.html",
                STAGE_ITEMS,
                entry=e,
                category_name=category_name,
                names_parent=parent(e.category),
                department_name=names.departments.get(e.department, e.department),
                section="board",
                title=lang.text("item.title", category=category_name),
            )
        filters = {
            "categories": [(c, names.categories.get(c, c), counts_cat[c]) for c in categories],
            "months": [(m, lang.month(m), counts_month[m]) for m in months],
        }
        self._listing("board/", entries, filters, None, None, index=True)
        for c in categories:
            subset = [e for e in entries if parent(e.category) == c]
            self._listing(f"board/category/{c}/", subset, filters, c, None)
        for m in months:
            subset = [e for e in entries if e.month == m]
            self._listing(f"board/month/{m}/", subset, filters, None, m)
            for c in categories:
                both = [e for e in subset if parent(e.category) == c]
                if both:
                    self._listing(f"board/month/{m}/category/{c}/", both, filters, c, m)

    def _feed(self) -> None:
        """The Atom feed (English names; entries are published as staff wrote them)."""
        entries = list(self.data.board)
        feed = self.env.get_template("feed.atom").render(
            **self.common,
            origin=self.data.site_origin,
            entries=entries[:FEED_ENTRIES],
            names=self.data.names,
            updated=(entries[0].resolved_at if entries else self.data.generated_at)
            .astimezone(UTC)
            .isoformat(timespec="seconds"),
        )
        self._add("board/feed.atom", feed.encode("utf-8"), "application/atom+xml", STAGE_FEED)

    def _listing(
        self,
        base: str,
        entries: list[BoardEntry],
        filters: Mapping[str, Any],
        category: str | None,
        month: str | None,
        *,
        index: bool = False,
    ) -> None:
        lang = self.lang
        names = self.names
        pages = max(1, -(-len(entries) // PAGE_SIZE))
        for page in range(1, pages + 1):
            key = f"{base}index.html" if page == 1 else f"{base}page/{page}/index.html"
            stage = STAGE_BOARD_INDEX if index and page == 1 else STAGE_LISTS
            here = "../" * (key.count("/"))
            category_label = None if category is None else names.categories.get(category, category)
            month_label = None if month is None else lang.month(month)
            self._page(
                key,
                "board_list.html",
                stage,
                entries=entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
                total=len(entries),
                page=page,
                pages=pages,
                page_url=lambda n, base=base, here=here: (
                    f"{here}{base}" + ("" if n == 1 else f"page/{n}/")
                ),
                filters=filters,
                category=category,
                category_label=category_label,
                month=month,
                month_label=month_label,
                names=names,
                section="board",
                title=_board_title(lang, category_label, month_label),
            )


def _values_from(
    entries: list[BoardEntry], parent: Callable[[str], str], known: Sequence[str]
) -> list[str]:
    present = {parent(e.category) for e in entries}
    return [c for c in known if c in present] + sorted(present - set(known))


def _board_title(lang: PageLanguage, category: str | None, month: str | None) -> str:
    parts = [p for p in (category, month) if p]
    if not parts:
        return lang.text("board.title")
    return lang.text("board.title_with", parts=lang.text("board.title_separator").join(parts))


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode("utf-8")


def render(data: PublishInput) -> list[OutputFile]:
    """Every file of one publish run, ordered by write stage."""
    return Renderer(data).render()
