"""Daily rollups for the transparency page: counters kept as tickets change, so publishing reads
days, never tickets.

Design
------

A ticket's *contribution* to the statistics is a pure function of its current state
(:func:`contributions`): which day it was received, when it got its first response and whether
that was on time, each resolution round (start, deadline, end, breach), ratings, and whether it
is still open or overdue. Every stored change carries the difference between the contributions
of the new and the old state (:func:`delta`), and each adapter applies that difference in the
same transaction as the ticket itself. Because the differences telescope, the stored rollups
always equal ``rebuild(all tickets)``, and a change of category or department moves the ticket's
whole history to the new dimension value (statistics by department follow today's assignment).

A ticket keeps the little history the statistics need and its other fields forget in
``attributes["rollup"]`` (:func:`track`): each finished resolution round's start, deadline, end
and breach, and when the current round started (a reopening restarts the resolution clock).

Cells are keyed by ``(day, dimension, value)``: the day in the reporting time zone (the SLA
calendar's), the dimension one of ``all``, ``category`` (the ticket's category code as stored;
the publisher groups child categories under their parent), ``channel`` and ``department``.

Which day a fact lands on:

- cohort counters, by the day the ticket was **received**: ``received``, ``merged``,
  ``rejected_spam``, ``rejected_other``, ``cohort_resolved`` (now resolved or closed). The
  resolution rate of a period is ``cohort_resolved / (received - merged - rejected_spam)``.
- flow counters, by the day it **happened**: ``responded`` / ``responded_on_time`` (first
  response), ``resolved`` / ``resolved_on_time`` (each resolution round), ``reopened`` (on the
  day of the resolution that was later reopened, so the reopen rate is a share of resolutions),
  ``ratings`` / ``satisfied`` (score 4 or 5), and ``open_delta`` (+1 when a ticket becomes open,
  -1 when it stops being open).
- exact durations, as samples on the day of the response or resolution
  (``response_seconds``, ``resolution_seconds``): each a whole number of seconds under an
  identity ``"<number>|<tag>"``. Keeping every sample gives exact medians, and the identity lets
  a restated contribution remove exactly the sample it added. DynamoDB keeps them in string sets
  (``"<seconds>|<number>|<tag>"``: ``ADD`` and ``DELETE`` need no read), SQLite in the day's
  row as a list of seconds with the identities in a column of their own. Reading for the
  publisher returns only the seconds (``RollupRow``): that is all a median needs, and it keeps
  the publisher's work proportional to the durations it reports, not to their bookkeeping.

"Still open past the deadline"
-------------------------------

The on-time rates are ``handled on time / (handled + still open past the deadline)``, where the
overdue open tickets are counted at the end of the period. That count is a state at an instant,
not a flow, and the counters reconstruct it exactly: an *overdue episode* of a target starts on
the deadline's day (``response_overdue_start`` / ``resolution_overdue_start``) and ends on the day
the target was met or the ticket stopped being open (``..._overdue_end``). A separate ``TOTAL`` row
per dimension value holds what is open and overdue right now (``open``, ``response_overdue``,
``resolution_overdue``); the number overdue at the end of day D is that total minus the net
episodes that started after D (the publisher reads every day from D to today anyway).

An episode that is still running is recorded when the sweep records the breach (the sweep marks a
breach within one run of the deadline: 5 minutes); an episode that ended late without a recorded
breach (met a minute after the deadline, before the sweep ran) is recorded when it ends, on the
deadline's day, so it still counts against every period that ended in between. Reading the
breached open tickets through an index instead would give only today's count, not the count at
the end of each past month, and would read tickets.

Example::

    >>> d = delta(None, ticket, "UTC")         # a new ticket: +1 received, +1 open, ...
    >>> d[RollupKey("2026-11-23", "all", "all")].counts["received"]
    1
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib.domain.sla_state import sla_of
from chalicelib.domain.tickets import OPEN_STATUSES, Ticket

TOTAL_DAY = "TOTAL"
DIMENSIONS = ("all", "category", "channel", "department")
ALL = "all"

COHORT_COUNTERS = ("received", "merged", "rejected_spam", "rejected_other", "cohort_resolved")
FLOW_COUNTERS = (
    "open_delta",
    "responded",
    "responded_on_time",
    "response_overdue_start",
    "response_overdue_end",
    "resolved",
    "resolved_on_time",
    "resolution_overdue_start",
    "resolution_overdue_end",
    "reopened",
    "ratings",
    "satisfied",
)
DAY_COUNTERS = COHORT_COUNTERS + FLOW_COUNTERS
TOTAL_COUNTERS = ("open", "response_overdue", "resolution_overdue")
# Every counter, in a fixed order (a store may keep counters as a list in this order; new
# counters are only ever appended).
COUNTERS = DAY_COUNTERS + TOTAL_COUNTERS
SAMPLES = ("response_seconds", "resolution_seconds")
SATISFIED_FROM = 4  # ratings of 4 or 5 count as satisfied
REJECT_KINDS = ("spam", "out_of_scope")


class RollupKey(NamedTuple):
    """One cell: a day (``yyyy-mm-dd``, or ``TOTAL``), a dimension and its value. (A named
    tuple: the publisher makes one per stored cell and day, and tuples are cheap.)"""

    day: str
    dimension: str
    value: str


@dataclass
class Cell:
    """Counters and duration samples of one cell."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, dict[str, int]] = field(default_factory=dict)  # metric -> identity -> s

    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not any(self.samples.values())

    def normalised(self) -> Cell:
        """The same cell without zero counters or empty sample sets (for comparisons)."""
        return Cell(
            {k: v for k, v in self.counts.items() if v},
            {k: dict(v) for k, v in self.samples.items() if v},
        )


@dataclass(frozen=True)
class CellDelta:
    """What one stored change does to one cell: counters to add (non-zero), samples in and out
    (``metric -> identity -> seconds``; a removal names the seconds too, which DynamoDB's
    string sets need to find the element)."""

    counts: Mapping[str, int] = field(default_factory=dict)
    added: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    removed: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


RollupDelta = Mapping[RollupKey, CellDelta]


class RollupRow(NamedTuple):
    """A stored cell as an adapter returns it for reading: its counters as a list in
    ``COUNTERS`` order (a shorter list ends in zeros), and each metric's durations in seconds
    (in no particular order). One key may come back as several rows (DynamoDB spreads a busy
    cell over shards; each sample lives on one shard), which :func:`merge_rows` sums."""

    key: RollupKey
    counts: Sequence[int]
    samples: Mapping[str, Sequence[int]]


def counter_list(counts: Mapping[str, int]) -> list[int]:
    """Counters by name as a list in ``COUNTERS`` order, trailing zeros dropped."""
    values = [counts.get(name, 0) for name in COUNTERS]
    while values and not values[-1]:
        values.pop()
    return values


def counter_dict(values: Sequence[int]) -> dict[str, int]:
    """The non-zero counters of a ``COUNTERS``-ordered list, by name."""
    return {name: int(n) for name, n in zip(COUNTERS, values, strict=False) if n}


@dataclass
class Tally:
    """What a cell holds as read: non-zero counters and each metric's sorted durations."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)


@functools.cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def day_of(t: datetime, zone: str) -> str:
    """The calendar day of ``t`` in the reporting zone, ``yyyy-mm-dd``."""
    return t.astimezone(_zone(zone)).date().isoformat()


def _iso(t: datetime) -> str:
    return t.isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def sample_identity(number: str, tag: str) -> str:
    """Who a duration sample belongs to: the ticket and which duration (``response``,
    ``round1``...)."""
    return f"{number}|{tag}"


def sample_number(identity: str) -> str:
    return identity[: identity.index("|")]


def whole_seconds(seconds: float) -> int:
    return max(0, int(seconds))


def reject_kind(ticket: Ticket) -> str:
    """``spam`` or ``out_of_scope`` for a rejected ticket (out of scope unless said otherwise)."""
    kind = ticket.attributes.get("reject_kind")
    return kind if kind in REJECT_KINDS else "out_of_scope"


def track(old: Ticket | None, new: Ticket, now: datetime) -> Ticket:
    """Carry forward the history the statistics need (``attributes["rollup"]``).

    A resolution (``resolution_round`` went up) records the finished round; a reopening records
    when the next round started.
    """
    if old is None:
        return new
    book: dict[str, Any] = dict(new.attributes.get("rollup") or {})
    changed = False
    if new.resolution_round > old.resolution_round and new.resolved_at is not None:
        breach = sla_of(new)["resolution"]["breached_at"]
        rounds = [*book.get("rounds", [])]
        rounds.append(
            {
                "start": book.get("round_start") or _iso(new.submitted_at),
                "due": _iso(new.deadlines.resolution),
                "end": _iso(new.resolved_at),
                "breached_at": breach,
            }
        )
        book["rounds"] = rounds
        changed = True
    if new.status == "reopened" and old.status != "reopened":
        book["round_start"] = _iso(now)
        changed = True
    if not changed:
        return new
    return new.replace(attributes={**new.attributes, "rollup": book})


class _Facts:
    """Dimension-free facts of one ticket: counters and samples by day."""

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self.counts: Counter[tuple[str, str]] = Counter()
        self.samples: defaultdict[tuple[str, str], dict[str, int]] = defaultdict(dict)

    def add(self, at: datetime | str, name: str, n: int = 1) -> None:
        day = at if isinstance(at, str) else day_of(at, self.zone)
        self.counts[(day, name)] += n

    def episode(self, target: str, start: datetime, end: datetime | None) -> None:
        """An overdue episode of ``target`` from ``start`` (the deadline) until ``end``."""
        self.add(start, f"{target}_overdue_start")
        if end is None:
            self.add(TOTAL_DAY, f"{target}_overdue")
        else:
            self.add(end, f"{target}_overdue_end")


def _facts(t: Ticket, zone: str) -> _Facts:
    f = _Facts(zone)
    received = day_of(t.submitted_at, zone)
    f.add(received, "received")
    if t.status == "merged":
        f.add(received, "merged")
    elif t.status == "rejected":
        f.add(received, "rejected_spam" if reject_kind(t) == "spam" else "rejected_other")
    elif t.status in ("resolved", "closed"):
        f.add(received, "cohort_resolved")

    sla = sla_of(t)
    is_open = t.status in OPEN_STATUSES
    left_at = t.closed_at or t.updated_at  # when a rejected or merged ticket stopped being open

    # First response: one target per ticket.
    response = sla["first_response"]
    due = t.deadlines.first_response
    breach = response["breached_at"]
    if t.first_response_at is not None:
        at = t.first_response_at
        f.add(at, "responded")
        if breach is None and at <= due:
            f.add(at, "responded_on_time")
        else:
            f.episode("response", _parse(breach) if breach else due, at)
        f.samples[(day_of(at, zone), "response_seconds")][sample_identity(t.number, "response")] = (
            whole_seconds((at - t.submitted_at).total_seconds())
        )
    elif is_open:
        if breach is not None:
            f.episode("response", _parse(breach), None)
    elif breach is not None or left_at > due:
        f.episode("response", _parse(breach) if breach else due, left_at)

    # Resolution: one round per resolution; a reopening starts the next round.
    book = t.attributes.get("rollup") or {}
    rounds = list(book.get("rounds", []))
    finished = t.status in ("resolved", "closed")
    started = len(rounds) + (0 if finished else 1)
    for k, r in enumerate(rounds, start=1):
        start, end, round_due = _parse(r["start"]), _parse(r["end"]), _parse(r["due"])
        round_breach = r.get("breached_at")
        f.add(start, "open_delta")
        f.add(end, "open_delta", -1)
        f.add(end, "resolved")
        if round_breach is None and end <= round_due:
            f.add(end, "resolved_on_time")
        else:
            f.episode("resolution", _parse(round_breach) if round_breach else round_due, end)
        if k < started:
            f.add(end, "reopened")
        f.samples[(day_of(end, zone), "resolution_seconds")][
            sample_identity(t.number, f"round{k}")
        ] = whole_seconds((end - start).total_seconds())
    if not finished:
        start = _parse(book.get("round_start") or rounds[-1]["end"]) if rounds else t.submitted_at
        f.add(start, "open_delta")
        resolution = sla["resolution"]
        res_breach = resolution["breached_at"]
        res_due = t.deadlines.resolution
        if is_open:
            f.add(TOTAL_DAY, "open")
            if res_breach is not None:
                f.episode("resolution", _parse(res_breach), None)
        else:  # rejected or merged: stopped being open without a resolution
            f.add(left_at, "open_delta", -1)
            if res_breach is not None or left_at > res_due:
                f.episode("resolution", _parse(res_breach) if res_breach else res_due, left_at)

    for rating in t.attributes.get("ratings", []):
        at = _parse(rating["at"])
        f.add(at, "ratings")
        if int(rating["score"]) >= SATISFIED_FROM:
            f.add(at, "satisfied")
    return f


def dimension_values(ticket: Ticket) -> tuple[tuple[str, str], ...]:
    """The cells a ticket counts in: everything, its category, channel and department."""
    return (
        (ALL, ALL),
        ("category", ticket.category),
        ("channel", ticket.channel),
        ("department", ticket.department),
    )


def contributions(ticket: Ticket, zone: str) -> dict[RollupKey, Cell]:
    """Everything ``ticket`` adds to the rollups in its current state."""
    facts = _facts(ticket, zone)
    cells: dict[RollupKey, Cell] = {}
    for dimension, value in dimension_values(ticket):
        for (day, name), n in facts.counts.items():
            if n:
                cell = cells.setdefault(RollupKey(day, dimension, value), Cell())
                cell.counts[name] = cell.counts.get(name, 0) + n
        for (day, metric), items in facts.samples.items():
            cell = cells.setdefault(RollupKey(day, dimension, value), Cell())
            cell.samples.setdefault(metric, {}).update(items)
    return cells


def delta(old: Ticket | None, new: Ticket | None, zone: str) -> dict[RollupKey, CellDelta]:
    """What a change from ``old`` to ``new`` does to the rollups (None: no ticket)."""
    before = contributions(old, zone) if old is not None else {}
    after = contributions(new, zone) if new is not None else {}
    out: dict[RollupKey, CellDelta] = {}
    for key in before.keys() | after.keys():
        b, a = before.get(key, Cell()), after.get(key, Cell())
        counts = {
            name: a.counts.get(name, 0) - b.counts.get(name, 0)
            for name in b.counts.keys() | a.counts.keys()
        }
        counts = {k: v for k, v in counts.items() if v}
        added, removed = {}, {}
        for metric in b.samples.keys() | a.samples.keys():
            old_items, new_items = b.samples.get(metric, {}), a.samples.get(metric, {})
            gone = {i: s for i, s in old_items.items() if new_items.get(i) != s}
            came = {i: s for i, s in new_items.items() if old_items.get(i) != s}
            if came:
                added[metric] = came
            if gone:
                removed[metric] = gone
        if counts or added or removed:
            out[key] = CellDelta(counts, added, removed)
    return out


def combine(deltas: Iterable[RollupDelta]) -> dict[RollupKey, CellDelta]:
    """One delta with the effect of all of ``deltas`` (for a transaction saving several
    tickets: a store may not touch one item twice in a transaction). A sample added and then
    removed (or the reverse) cancels out."""
    counts: dict[RollupKey, Counter[str]] = defaultdict(Counter)
    added: dict[RollupKey, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    removed: dict[RollupKey, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for d in deltas:
        for key, cell in d.items():
            if cell.counts:
                counts[key].update(cell.counts)
            for metric, items in cell.removed.items():
                pending = added[key][metric]
                for identity, seconds in items.items():
                    if pending.get(identity) == seconds:
                        del pending[identity]
                    else:
                        removed[key][metric][identity] = seconds
            for metric, items in cell.added.items():
                gone = removed[key][metric]
                for identity, seconds in items.items():
                    if gone.get(identity) == seconds:
                        del gone[identity]
                    else:
                        added[key][metric][identity] = seconds
    out: dict[RollupKey, CellDelta] = {}
    for key in counts.keys() | added.keys() | removed.keys():
        c = {k: v for k, v in counts.get(key, Counter()).items() if v}
        a = {m: dict(s) for m, s in added.get(key, {}).items() if s}
        r = {m: dict(s) for m, s in removed.get(key, {}).items() if s}
        if c or a or r:
            out[key] = CellDelta(c, a, r)
    return out


def apply(cells: dict[RollupKey, Cell], change: RollupDelta) -> None:
    """Apply ``change`` to ``cells`` in place (the SQLite adapter and tests use this)."""
    for key, d in change.items():
        cell = cells.setdefault(key, Cell())
        for name, n in d.counts.items():
            cell.counts[name] = cell.counts.get(name, 0) + n
            if not cell.counts[name]:
                del cell.counts[name]
        for metric, items in d.removed.items():
            held = cell.samples.get(metric, {})
            for identity in items:
                held.pop(identity, None)
        for metric, items in d.added.items():
            cell.samples.setdefault(metric, {}).update(items)
        for metric in [m for m, s in cell.samples.items() if not s]:
            del cell.samples[metric]
        if cell.is_empty():
            del cells[key]


def rebuild(tickets: Iterable[Ticket], zone: str) -> dict[RollupKey, Cell]:
    """The rollups recomputed from scratch: the sum of every ticket's contributions."""
    cells: dict[RollupKey, Cell] = {}
    for ticket in tickets:
        for key, part in contributions(ticket, zone).items():
            cell = cells.setdefault(key, Cell())
            for name, n in part.counts.items():
                cell.counts[name] = cell.counts.get(name, 0) + n
            for metric, items in part.samples.items():
                cell.samples.setdefault(metric, {}).update(items)
    return {k: c.normalised() for k, c in cells.items() if not c.is_empty()}


def as_delta(cells: Mapping[RollupKey, Cell]) -> dict[RollupKey, CellDelta]:
    """The delta that adds ``cells`` to empty rollups (bulk loads: ``rebuild`` then this)."""
    return {
        key: CellDelta(
            {k: v for k, v in cell.counts.items() if v},
            {m: dict(s) for m, s in cell.samples.items() if s},
        )
        for key, cell in cells.items()
        if not cell.is_empty()
    }


def merge_rows(rows: Iterable[RollupRow]) -> dict[RollupKey, Tally]:
    """Sum the rows an adapter returned (shards of one key add up); drop empty cells."""
    tallies: dict[RollupKey, Tally] = {}
    for row in rows:
        tally = tallies.setdefault(row.key, Tally())
        for name, n in counter_dict(row.counts).items():
            tally.counts[name] = tally.counts.get(name, 0) + n
        for metric, seconds in row.samples.items():
            tally.samples.setdefault(metric, []).extend(seconds)
    return _tidy(tallies)


def tally(cells: Mapping[RollupKey, Cell]) -> dict[RollupKey, Tally]:
    """Cells (e.g. from :func:`rebuild`) as a store would return them to a reader."""
    return _tidy(
        {
            key: Tally(dict(cell.counts), {m: list(s.values()) for m, s in cell.samples.items()})
            for key, cell in cells.items()
        }
    )


def _tidy(tallies: dict[RollupKey, Tally]) -> dict[RollupKey, Tally]:
    out = {}
    for key, t in tallies.items():
        counts = {k: v for k, v in t.counts.items() if v}
        samples = {m: sorted(s) for m, s in t.samples.items() if s}
        if counts or samples:
            out[key] = Tally(counts, samples)
    return out
