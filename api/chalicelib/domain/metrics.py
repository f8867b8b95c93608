"""Rates and durations for the transparency page, computed from daily rollups (pure).

Definitions (SPEC §5; each rate is shown with the counts it is made of):

- **new**: tickets received in the period; **resolved**: resolutions made in the period (a
  reopened ticket resolved again counts again); **open backlog**: tickets open at the end of a
  day (received, acknowledged, awaiting information, in progress or reopened).
- **on-time first-response rate**: first responses made on time in the period ÷ (first responses
  made in the period + tickets still waiting for one past the deadline at the end of the period).
  A ticket left open past its deadline counts against the rate in every period it is still
  overdue at the end of. **On-time resolution rate** likewise, per resolution round.
- **resolution rate**: of the tickets received in the period, those now resolved or closed ÷
  (received − merged as duplicates − rejected as spam). Other rejections (out of scope) stay in
  the denominator.
- **median and mean** first-response and resolution times: calendar time from submission (or
  from the reopening, for a later round) to the response or resolution, of those made in the
  period.
- **satisfaction**: ratings of 4 or 5 ÷ all ratings given in the period.
- **reopen rate**: resolutions made in the period that were reopened since ÷ resolutions made.
- **SLA breaches**: deadlines in the period that passed unmet.

Example::

    view = RollupView(store.read_rollups(first, last), store.read_rollup_totals(), last)
    m = view.metrics(last_days(date(2026, 11, 25), 30), "all", "all")
    m.on_time_response.value      # e.g. 0.9
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.domain.rollups import (
    ALL,
    COUNTERS,
    TOTAL_DAY,
    Cell,
    RollupKey,
    RollupRow,
    counter_dict,
    counter_list,
)


@dataclass(frozen=True)
class Period:
    """A reporting period: ``key`` names it in files and URLs (``last-30-days``, ``2026-11``)."""

    key: str
    label: str
    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def last_days(today: date, n: int = 30) -> Period:
    """The ``n`` days ending today."""
    return Period(f"last-{n}-days", f"Last {n} days", today - timedelta(days=n - 1), today)


def month_period(year: int, month: int, today: date) -> Period:
    """One calendar month (up to today if it is the current month)."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = min(nxt - timedelta(days=1), today)
    label = first.strftime("%B %Y") + (" (so far)" if last == today and nxt > today else "")
    return Period(f"{year:04d}-{month:02d}", label, first, last)


def recent_months(today: date, n: int) -> list[Period]:
    """The current month and the ``n - 1`` before it, newest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append(month_period(year, month, today))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


@dataclass(frozen=True)
class Ratio:
    """A rate with the counts it is made of; ``value`` is None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator <= 0 else self.numerator / self.denominator

    @property
    def percent(self) -> str:
        v = self.value
        return "—" if v is None else f"{100 * v:.1f} %"


@dataclass(frozen=True)
class Durations:
    """Exact median and mean of durations in seconds (None when there are none)."""

    count: int
    median: float | None
    mean: float | None

    @classmethod
    def of(cls, seconds: list[int]) -> Durations:
        if not seconds:
            return cls(0, None, None)
        ordered = sorted(seconds)
        n = len(ordered)
        middle = n // 2
        median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return cls(n, float(median), sum(ordered) / n)


@dataclass(frozen=True)
class Metrics:
    """Everything the page shows for one period and one dimension value."""

    received: int = 0
    resolved: int = 0
    merged: int = 0
    rejected_spam: int = 0
    rejected_other: int = 0
    cohort_resolved: int = 0
    backlog: int = 0
    responded: int = 0
    responded_on_time: int = 0
    response_overdue_open: int = 0
    resolved_on_time: int = 0
    resolution_overdue_open: int = 0
    response_breaches: int = 0
    resolution_breaches: int = 0
    reopened: int = 0
    ratings: int = 0
    satisfied: int = 0
    response_time: Durations = field(default_factory=lambda: Durations(0, None, None))
    resolution_time: Durations = field(default_factory=lambda: Durations(0, None, None))

    @property
    def on_time_response(self) -> Ratio:
        return Ratio(self.responded_on_time, self.responded + self.response_overdue_open)

    @property
    def on_time_resolution(self) -> Ratio:
        return Ratio(self.resolved_on_time, self.resolved + self.resolution_overdue_open)

    @property
    def resolution_rate_base(self) -> int:
        return self.received - self.merged - self.rejected_spam

    @property
    def resolution_rate(self) -> Ratio:
        return Ratio(self.cohort_resolved, self.resolution_rate_base)

    @property
    def satisfaction(self) -> Ratio:
        return Ratio(self.satisfied, self.ratings)

    @property
    def reopen_rate(self) -> Ratio:
        return Ratio(self.reopened, self.resolved)

    @property
    def breaches(self) -> int:
        return self.response_breaches + self.resolution_breaches


@dataclass(frozen=True)
class DayPoint:
    """One day of the volume series: received, resolved, open at the end of the day."""

    day: date
    received: int
    resolved: int
    backlog: int


_Key = tuple[str, str]
_POSITION = {name: i for i, name in enumerate(COUNTERS)}


def _add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Two counter lists added position by position (the shorter one ends in zeros)."""
    if len(a) < len(b):
        a, b = b, a
    return [x + (b[i] if i < len(b) else 0) for i, x in enumerate(a)]


def rows_of(cells: Mapping[RollupKey, Cell]) -> list[RollupRow]:
    """Cells (e.g. from ``rollups.rebuild``) as the rows a store returns."""
    return [
        RollupRow(
            key, counter_list(cell.counts), {m: list(s.values()) for m, s in cell.samples.items()}
        )
        for key, cell in cells.items()
    ]


class RollupView:
    """Metrics over stored rollups.

    ``rows`` must cover every day from the earliest period's first day up to ``today`` (days
    without a row count as empty) and may repeat a cell (DynamoDB shards: their counters add up,
    and each sample lives on exactly one shard); ``totals`` are the ``TOTAL`` rows. ``group``
    maps a dimension's values before summing (child categories to their top-level category).
    """

    def __init__(
        self,
        rows: Iterable[RollupRow],
        totals: Iterable[RollupRow],
        today: date,
        *,
        group: Mapping[str, Callable[[str], str]] | None = None,
    ) -> None:
        self.today = today
        group = group or {}
        # Counters per day as lists in COUNTERS order (as most stores return them).
        self._days: dict[_Key, dict[date, Sequence[int]]] = defaultdict(dict)
        self._samples: dict[_Key, dict[date, list[Mapping[str, Sequence[int]]]]] = defaultdict(dict)
        days: dict[str, date] = {}
        for row in rows:
            key = row.key
            if key.day == TOTAL_DAY:
                continue
            day = days.get(key.day)
            if day is None:
                day = days[key.day] = date.fromisoformat(key.day)
            if day > today:
                continue
            mapping = group.get(key.dimension)
            k = (key.dimension, mapping(key.value) if mapping else key.value)
            bucket = self._days[k]
            counts = bucket.get(day)
            if counts is None:  # the usual case: one row per cell and day (never changed later)
                bucket[day] = row.counts
            else:  # another shard, or another child category, of the same cell
                bucket[day] = _add(counts, row.counts)
            if row.samples:  # kept as read (shards and child categories side by side)
                self._samples[k].setdefault(day, []).append(row.samples)
        self._totals: dict[_Key, dict[str, int]] = defaultdict(dict)
        for row in totals:
            if row.key.day != TOTAL_DAY:
                continue
            mapping = group.get(row.key.dimension)
            value = mapping(row.key.value) if mapping else row.key.value
            total = self._totals[(row.key.dimension, value)]
            for name, n in counter_dict(row.counts).items():
                total[name] = total.get(name, 0) + n
        self._series: dict[_Key, tuple[list[date], list[list[int]]]] = {}

    def values(self, dimension: str) -> set[str]:
        """Every value of ``dimension`` with data (days or totals)."""
        return {v for d, v in (*self._days, *self._totals) if d == dimension}

    def _prefix(self, key: _Key) -> tuple[list[date], list[list[int]]]:
        """The days with data in order, and per counter (in ``COUNTERS`` order) its running
        sums (``sums[c][i]`` is the total over ``days[:i]``), so any period's total is one
        subtraction."""
        cached = self._series.get(key)
        if cached is not None:
            return cached
        by_day = self._days.get(key, {})
        days = sorted(by_day)
        width = len(COUNTERS)
        rows = [[*by_day[d], *([0] * (width - len(by_day[d])))] for d in days]
        columns = zip(*rows, strict=True) if rows else iter([()] * width)
        sums = [[0, *itertools.accumulate(column)] for column in columns]
        self._series[key] = (days, sums)
        return days, sums

    def _between(self, key: _Key, first: date, last: date) -> tuple[dict[str, int], list[date]]:
        """Each counter's total over the days from ``first`` to ``last``, and those days."""
        days, sums = self._prefix(key)
        lo, hi = bisect.bisect_left(days, first), bisect.bisect_right(days, last)
        return {name: s[hi] - s[lo] for name, s in zip(COUNTERS, sums, strict=True)}, days[lo:hi]

    def _state_at_end_of(
        self, key: _Key, day: date, total: str, names: tuple[str, ...], signs: tuple[int, ...]
    ) -> int:
        """A state (open, overdue) at the end of ``day``: its total now minus what changed on
        the days after ``day``."""
        now = self._totals.get(key, {}).get(total, 0)
        days, sums = self._prefix(key)
        after = bisect.bisect_right(days, day)
        changed = 0
        for name, sign in zip(names, signs, strict=True):
            running = sums[_POSITION[name]]
            changed += sign * (running[-1] - running[after])
        return now - changed

    def open_at_end_of(self, key: _Key, day: date) -> int:
        return self._state_at_end_of(key, day, "open", ("open_delta",), (1,))

    def overdue_at_end_of(self, key: _Key, day: date, target: str) -> int:
        names = (f"{target}_overdue_start", f"{target}_overdue_end")
        return self._state_at_end_of(key, day, f"{target}_overdue", names, (1, -1))

    def metrics(self, period: Period, dimension: str = ALL, value: str = ALL) -> Metrics:
        """The metrics of one period for one dimension value."""
        key = (dimension, value)
        sums: dict[str, int] = defaultdict(int)
        totals, days = self._between(key, period.first, period.last)
        sums.update(totals)
        response: list[int] = []
        resolution: list[int] = []
        samples = self._samples.get(key, {})
        for day in days:
            for lists in samples.get(day, ()):
                response.extend(lists.get("response_seconds", ()))
                resolution.extend(lists.get("resolution_seconds", ()))
        return Metrics(
            received=sums["received"],
            resolved=sums["resolved"],
            merged=sums["merged"],
            rejected_spam=sums["rejected_spam"],
            rejected_other=sums["rejected_other"],
            cohort_resolved=sums["cohort_resolved"],
            backlog=self.open_at_end_of(key, period.last),
            responded=sums["responded"],
            responded_on_time=sums["responded_on_time"],
            response_overdue_open=self.overdue_at_end_of(key, period.last, "response"),
            resolved_on_time=sums["resolved_on_time"],
            resolution_overdue_open=self.overdue_at_end_of(key, period.last, "resolution"),
            response_breaches=sums["response_overdue_start"],
            resolution_breaches=sums["resolution_overdue_start"],
            reopened=sums["reopened"],
            ratings=sums["ratings"],
            satisfied=sums["satisfied"],
            response_time=Durations.of(response),
            resolution_time=Durations.of(resolution),
        )

    def daily(self, period: Period, dimension: str = ALL, value: str = ALL) -> list[DayPoint]:
        """Received, resolved and open backlog for every day of ``period``."""
        key = (dimension, value)
        days = self._days.get(key, {})
        out = []
        for day in period.days():
            counts = counter_dict(days.get(day, []))
            out.append(
                DayPoint(
                    day,
                    counts.get("received", 0),
                    counts.get("resolved", 0),
                    self.open_at_end_of(key, day),
                )
            )
        return out


RANKED_RATES = ("on_time_response", "on_time_resolution", "resolution_rate")


@dataclass(frozen=True)
class Ranked:
    """A department's place: its rank on each of the three rates (None without data) and its
    overall position (by the mean of its ranks)."""

    value: str
    metrics: Metrics
    ranks: Mapping[str, int | None]
    position: int


def rank(rows: Iterable[tuple[str, Metrics]]) -> list[Ranked]:
    """Rank departments on the on-time response, on-time resolution and resolution rates.

    Each rate ranks best first with ties sharing a rank ("1, 2, 2, 4"); departments without a
    value for a rate get no rank for it. The overall order is by the mean of the ranks a
    department has, then by name; departments with no rank at all come last.
    """
    rows = list(rows)
    ranks: dict[str, dict[str, int | None]] = {v: {} for v, _ in rows}
    for rate in RANKED_RATES:
        valued = [(getattr(m, rate).value, v) for v, m in rows]
        present = sorted((x for x in valued if x[0] is not None), key=lambda x: -float(x[0] or 0))
        for v_value, v in valued:
            if v_value is None:
                ranks[v][rate] = None
            else:
                ranks[v][rate] = 1 + sum(1 for other, _ in present if (other or 0) > v_value)

    def order(row: tuple[str, Metrics]) -> tuple[int, float, str]:
        got = [r for r in ranks[row[0]].values() if r is not None]
        return (0 if got else 1, statistics.fmean(got) if got else 0.0, row[0])

    ordered = sorted(rows, key=order)
    return [Ranked(v, m, ranks[v], i + 1) for i, (v, m) in enumerate(ordered)]
