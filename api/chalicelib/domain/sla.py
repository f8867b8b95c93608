"""Service levels: the SLA policy, the business calendar and deadline arithmetic.

Pure functions: nothing here reads the clock, so every answer depends only on its arguments and can
be tested to the microsecond across weekends, holidays and DST changes. All instants are
timezone-aware ``datetime`` values (naive ones raise ``ValueError``) and results are in UTC.

A *business* clock runs only inside business hours: each working, non-holiday day contributes the
interval [local opening time, local closing time], converted to UTC through the calendar's zone
(local times that do not exist or occur twice are read with ``fold=0``). A business clock started
outside business hours starts at the next opening. A *calendar* clock runs all the time.

The policy file (``data/sla_policy.json``) holds the calendar and, per priority, the first-response
and resolution targets with the clock they run on. Durations are objects of units: ``minutes`` and
``hours`` on either clock (business hours on a business clock), ``days`` (24 hours) on a calendar
clock, and ``business_days`` (one working day's business hours) on a business clock.

>>> from datetime import UTC, datetime
>>> policy = load_policy_file(DEFAULT_POLICY_PATH)
>>> friday_evening = datetime(2025, 1, 10, 17, 30, tzinfo=UTC)
>>> due = compute_deadlines(friday_evening, "P2", policy)
>>> due.first_response.isoformat()  # 30 minutes on Friday, 90 on Monday
'2025-01-13T10:30:00+00:00'
>>> business_time_between(friday_evening, due.first_response, policy.calendar)
datetime.timedelta(seconds=7200)
>>> load_policy({"calendar": {}, "targets": {}, "due_soon_fraction": 0.8})
Traceback (most recent call last):
    ...
chalicelib.domain.sla.PolicyError: calendar.timezone: required
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal, assert_never
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.tickets import PRIORITIES, Deadlines

Clock = Literal["calendar", "business"]
CLOCKS: tuple[Clock, ...] = ("calendar", "business")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "data" / "sla_policy.json"

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CALENDAR_UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": _ONE_DAY}


class PolicyError(ValueError):
    """The SLA policy is invalid; the message starts with the offending key path."""


@dataclass(frozen=True)
class BusinessCalendar:
    """When business clocks run: working weekdays (Monday = 0), local hours and holidays."""

    timezone: str
    weekdays: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date]

    def __post_init__(self) -> None:
        # Guards the invariants the arithmetic relies on (an empty week would never finish adding),
        # also for calendars built in code rather than loaded from a policy file.
        _zone(self.timezone)
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("weekdays must be a non-empty subset of 0..6 (Monday = 0)")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening and closing times are local wall times, without tzinfo")
        if self.opens >= self.closes:
            raise ValueError("the calendar must open before it closes")

    @property
    def business_day(self) -> timedelta:
        """The length of one business day (one working day's business hours)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)


@dataclass(frozen=True)
class Target:
    """The first-response and resolution windows of one priority, and the clock they run on."""

    first_response: timedelta
    resolution: timedelta
    clock: Clock

    def __post_init__(self) -> None:
        if self.clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}")
        if self.first_response <= _ZERO or self.resolution <= _ZERO:
            raise ValueError("targets must be positive durations")


@dataclass(frozen=True)
class Policy:
    """The whole SLA policy: the calendar, a target per priority and the "due soon" fraction."""

    calendar: BusinessCalendar
    targets: Mapping[str, Target]
    due_soon_fraction: float


# --- loading -------------------------------------------------------------------------------------


def load_policy(data: Mapping[str, object]) -> Policy:
    """Validate a parsed policy document and build the ``Policy``."""
    root = _object(data, "", required=("calendar", "targets", "due_soon_fraction"))
    calendar = _load_calendar(root["calendar"], "calendar")
    targets = _object(root["targets"], "targets", required=PRIORITIES)
    loaded = {p: _load_target(targets[p], f"targets.{p}", calendar) for p in PRIORITIES}
    fraction = _number(root["due_soon_fraction"], "due_soon_fraction")
    if not 0 < fraction < 1:
        raise PolicyError("due_soon_fraction: must be between 0 and 1 (exclusive)")
    return Policy(calendar, MappingProxyType(loaded), float(fraction))


def load_policy_file(path: str | os.PathLike[str]) -> Policy:
    """Read a JSON policy file and validate it with ``load_policy``."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise PolicyError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, Mapping):
        raise PolicyError("policy: must be an object")
    return load_policy(data)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads would silently keep the last of two equal keys, hiding an edit in the wrong place.
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise PolicyError(f"{key}: duplicate key")
        result[key] = value
    return result


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(
    value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{path or 'policy'}: must be an object")
    allowed = (*required, *optional)
    for key in value:
        if key not in allowed:
            raise PolicyError(
                f"{_join(path, str(key))}: unknown key (expected one of: {', '.join(allowed)})"
            )
    for key in required:
        if key not in value:
            raise PolicyError(f"{_join(path, key)}: required")
    return value


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{path}: must be a string")
    return value


def _number(value: object, path: str) -> float:
    # bool is an int subclass, and true/false in a policy file is always a mistake here.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(f"{path}: must be a number")
    return value


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise PolicyError(f"{path}: must be a list")
    return value


def _load_calendar(value: object, path: str) -> BusinessCalendar:
    cal = _object(value, path, required=("timezone", "weekdays", "opens", "closes", "holidays"))
    timezone = _string(cal["timezone"], f"{path}.timezone")
    try:
        _zone(timezone)
    except ValueError as e:
        raise PolicyError(f"{path}.timezone: {e}") from e

    weekdays: set[int] = set()
    for i, item in enumerate(_list(cal["weekdays"], f"{path}.weekdays")):
        name = _string(item, f"{path}.weekdays[{i}]")
        if name not in WEEKDAY_NAMES:
            raise PolicyError(
                f"{path}.weekdays[{i}]: must be one of {', '.join(WEEKDAY_NAMES)}, got {name!r}"
            )
        if WEEKDAY_NAMES.index(name) in weekdays:
            raise PolicyError(f"{path}.weekdays[{i}]: duplicate day {name!r}")
        weekdays.add(WEEKDAY_NAMES.index(name))
    if not weekdays:
        raise PolicyError(f"{path}.weekdays: must name at least one working day")

    opens = _time(cal["opens"], f"{path}.opens")
    closes = _time(cal["closes"], f"{path}.closes")
    if opens >= closes:
        raise PolicyError(f"{path}.closes: must be later than {path}.opens")

    holidays: set[date] = set()
    for i, item in enumerate(_list(cal["holidays"], f"{path}.holidays")):
        day = _date(item, f"{path}.holidays[{i}]")
        if day in holidays:
            raise PolicyError(f"{path}.holidays[{i}]: duplicate date {day.isoformat()}")
        holidays.add(day)

    return BusinessCalendar(timezone, frozenset(weekdays), opens, closes, frozenset(holidays))


def _time(value: object, path: str) -> time:
    text = _string(value, path)
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise PolicyError(f"{path}: must be a time as HH:MM (00:00 to 23:59), got {text!r}")
    return time(int(match[1]), int(match[2]))


def _date(value: object, path: str) -> date:
    text = _string(value, path)
    try:
        if not _DATE_RE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as e:
        raise PolicyError(f"{path}: must be a date as YYYY-MM-DD, got {text!r}") from e


def _load_target(value: object, path: str, calendar: BusinessCalendar) -> Target:
    target = _object(value, path, required=("clock", "first_response", "resolution"))
    clock = next((c for c in CLOCKS if c == target["clock"]), None)
    if clock is None:
        raise PolicyError(f"{path}.clock: must be one of: {', '.join(CLOCKS)}")
    first = _duration(target["first_response"], f"{path}.first_response", clock, calendar)
    resolution = _duration(target["resolution"], f"{path}.resolution", clock, calendar)
    if first > resolution:
        raise PolicyError(f"{path}.first_response: must not be longer than the resolution target")
    return Target(first, resolution, clock)


def _duration(value: object, path: str, clock: Clock, calendar: BusinessCalendar) -> timedelta:
    units = _CALENDAR_UNITS if clock == "calendar" else _business_units(calendar)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f'{path}: must be a positive duration such as {{"hours": 2}}')
    total = _ZERO
    for key, amount in value.items():
        unit_path = _join(path, str(key))
        if key not in units:
            hint = {
                ("business", "days"): 'on a business clock use "business_days"',
                ("calendar", "business_days"): 'only valid with "clock": "business"',
            }.get((clock, str(key)), f"unknown unit (expected one of: {', '.join(units)})")
            raise PolicyError(f"{unit_path}: {hint}")
        number = _number(amount, unit_path)
        if number < 0:
            raise PolicyError(f"{unit_path}: must not be negative")
        try:
            total += units[key] * number
        except OverflowError as e:
            raise PolicyError(f"{unit_path}: too large") from e
    if total <= _ZERO:
        raise PolicyError(f"{path}: must be a positive duration")
    return total


def _business_units(calendar: BusinessCalendar) -> dict[str, timedelta]:
    return {
        "minutes": timedelta(minutes=1),
        "hours": timedelta(hours=1),
        "business_days": calendar.business_day,
    }


# --- calendar arithmetic -------------------------------------------------------------------------


def is_business_time(t: datetime, cal: BusinessCalendar) -> bool:
    """Whether a business clock runs at ``t`` (opening time included, closing time excluded)."""
    t = _utc(t, "t")
    opens, _ = next(_intervals(t, cal))
    return opens <= t


def next_opening(t: datetime, cal: BusinessCalendar) -> datetime:
    """The first business instant at or after ``t`` (``t`` itself during business hours)."""
    t = _utc(t, "t")
    opens, _ = next(_intervals(t, cal))
    return max(opens, t)


def add_business_time(start: datetime, duration: timedelta, cal: BusinessCalendar) -> datetime:
    """The earliest instant by which ``duration`` of business time has run since ``start``."""
    start = _utc(start, "start")
    _non_negative(duration)
    remaining = duration
    # Day by day, not minute by minute: each interval is consumed whole or ends the walk.
    for opens, closes in _intervals(start, cal):
        begin = max(opens, start)
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    raise AssertionError("unreachable: _intervals never ends")


def business_time_between(a: datetime, b: datetime, cal: BusinessCalendar) -> timedelta:
    """Business time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
    a, b = _utc(a, "a"), _utc(b, "b")
    total = _ZERO
    if b <= a:
        return total
    for opens, closes in _intervals(a, cal):
        if opens >= b:
            break
        total += min(closes, b) - max(opens, a)
    return total


def add_clock_time(
    start: datetime, duration: timedelta, clock: Clock, cal: BusinessCalendar
) -> datetime:
    """``start`` plus ``duration`` on the given clock."""
    if clock == "calendar":
        _non_negative(duration)
        return _utc(start, "start") + duration
    if clock == "business":
        return add_business_time(start, duration, cal)
    assert_never(clock)


def elapsed(a: datetime, b: datetime, clock: Clock, cal: BusinessCalendar) -> timedelta:
    """Time run on the given clock from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
    if clock == "calendar":
        return max(_utc(b, "b") - _utc(a, "a"), _ZERO)
    if clock == "business":
        return business_time_between(a, b, cal)
    assert_never(clock)


def compute_deadlines(submitted_at: datetime, priority: str, policy: Policy) -> Deadlines:
    """The first-response and resolution deadlines of a ticket submitted at ``submitted_at``."""
    target = policy.targets.get(priority)
    if target is None:
        raise ValueError(f"no SLA target for priority {priority!r}")
    cal = policy.calendar
    return Deadlines(
        first_response=add_clock_time(submitted_at, target.first_response, target.clock, cal),
        resolution=add_clock_time(submitted_at, target.resolution, target.clock, cal),
    )


def warning_time(
    start: datetime, deadline: datetime, clock: Clock, cal: BusinessCalendar, fraction: float
) -> datetime:
    """The instant when ``fraction`` of the window from ``start`` to ``deadline`` has run."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    window = elapsed(start, deadline, clock, cal)
    return add_clock_time(start, window * fraction, clock, cal)


def _zone(name: str) -> ZoneInfo:
    if name == "localtime":
        # Valid on most machines, but it means whatever zone the host happens to be set to.
        raise ValueError("'localtime' depends on the host; name a zone such as 'Europe/London'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise ValueError(f"unknown time zone {name!r}") from e


def _utc(t: datetime, name: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)


def _non_negative(duration: timedelta) -> None:
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")


def _intervals(after: datetime, cal: BusinessCalendar) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals [opens, closes) in UTC, from the first ending after ``after``."""
    zone = _zone(cal.timezone)
    # Start a day early: where a zone skips or repeats a date, the previous local day's hours can
    # still be running at ``after``.
    day = after.astimezone(zone).date() - _ONE_DAY
    previous_close: datetime | None = None
    idle_days = 0
    # Every run of days without business hours is bounded by the holidays plus a week; a longer run
    # means the zone itself swallows the hours, and walking on would never end.
    idle_limit = 7 * (len(cal.holidays) + 1)
    while True:
        if day.weekday() in cal.weekdays and day not in cal.holidays:
            opens = datetime.combine(day, cal.opens, zone).astimezone(UTC)
            closes = datetime.combine(day, cal.closes, zone).astimezone(UTC)
            # A clock change can make a local day's hours overlap the previous day's or vanish;
            # clipping keeps the intervals disjoint so no business time is counted twice.
            if previous_close is not None:
                opens = max(opens, previous_close)
            if opens < closes:
                idle_days = 0
                previous_close = closes
                if closes > after:
                    yield opens, closes
                day += _ONE_DAY
                continue
        idle_days += 1
        if idle_days > idle_limit:
            raise ValueError(f"the calendar has no business hours after {day.isoformat()}")
        day += _ONE_DAY
