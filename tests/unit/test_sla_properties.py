"""Properties of the SLA calendar arithmetic, checked against a wall-clock model of office hours."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.sla import (
    CLOCKS,
    DEFAULT_POLICY_PATH,
    BusinessCalendar,
    Clock,
    Policy,
    PolicyError,
    add_business_time,
    add_clock_time,
    business_time_between,
    compute_deadlines,
    elapsed,
    is_business_time,
    load_policy,
    next_opening,
    warning_time,
)
from chalicelib.domain.tickets import PRIORITIES

# Bounded so the whole file stays within a few seconds.
SETTINGS = settings(max_examples=150, deadline=None)
FEW = settings(max_examples=30, deadline=None)

MICROSECOND = timedelta(microseconds=1)
MON_FRI = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
SUN_THU = frozenset({6, 0, 1, 2, 3})


def holidays(*days: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in days)


# Opening and closing times avoid each zone's skipped and repeated local times, so the wall-clock
# model below is exact for all of them (fold handling has its own examples in test_sla.py).
CALENDARS = [
    BusinessCalendar("UTC", MON_FRI, time(9), time(18), frozenset()),
    BusinessCalendar(
        "Europe/London",
        MON_FRI,
        time(9),
        time(18),
        holidays("2025-04-18", "2025-04-21", "2025-12-25", "2025-12-26", "2026-01-01"),
    ),
    BusinessCalendar("America/New_York", MON_FRI, time(9), time(18), holidays("2025-07-04")),
    # Hours that contain New York's clock changes (02:00 local), worked every day.
    BusinessCalendar("America/New_York", EVERY_DAY, time(0, 30), time(3, 30), frozenset()),
    # A half-hour offset, a Sunday-to-Thursday week and a short day.
    BusinessCalendar("Asia/Kolkata", SUN_THU, time(8), time(16, 30), frozenset()),
    # A half-hour DST shift at 02:00 local, inside the hours.
    BusinessCalendar("Australia/Lord_Howe", EVERY_DAY, time(1), time(3), frozenset()),
    # One working day a week.
    BusinessCalendar("Europe/Berlin", frozenset({2}), time(10), time(12), holidays("2025-12-24")),
]

calendars = st.sampled_from(CALENDARS)
clocks = st.sampled_from(CLOCKS)
instants = st.datetimes(
    min_value=datetime(2024, 10, 1),
    max_value=datetime(2026, 4, 30),
    timezones=st.sampled_from([UTC, ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))


def wall_clock_business(t: datetime, cal: BusinessCalendar) -> bool:
    """Reference model: a working, non-holiday local date and a local time in [opens, closes)."""
    local = t.astimezone(ZoneInfo(cal.timezone))
    return (
        local.weekday() in cal.weekdays
        and local.date() not in cal.holidays
        and cal.opens <= local.time() < cal.closes
    )


def in_hours_or_at_closing(t: datetime, cal: BusinessCalendar) -> bool:
    local = t.astimezone(ZoneInfo(cal.timezone))
    return (
        local.weekday() in cal.weekdays
        and local.date() not in cal.holidays
        and cal.opens <= local.time() <= cal.closes
    )


def ordered(*ts: datetime) -> list[datetime]:
    # Sort as instants: aware datetimes sharing a tzinfo compare by wall time, not by instant.
    return sorted((t.astimezone(UTC) for t in ts), key=lambda t: t.timestamp())


@SETTINGS
@given(calendars, instants, durations)
def test_adding_business_time_never_lands_outside_business_hours(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = add_business_time(start, duration, cal)
    assert end.tzinfo is UTC
    assert end >= start
    assert in_hours_or_at_closing(end, cal)


@SETTINGS
@given(calendars, instants, durations)
def test_add_then_measure_gives_the_duration_back(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = add_business_time(start, duration, cal)
    assert business_time_between(start, end, cal) == duration
    assert business_time_between(next_opening(start, cal), end, cal) == duration
    if duration:
        # ...and it is the earliest such instant.
        assert business_time_between(start, end - MICROSECOND, cal) < duration


@SETTINGS
@given(calendars, instants, durations)
def test_starting_outside_hours_starts_at_the_next_opening(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    opening = next_opening(start, cal)
    assert opening >= start
    assert is_business_time(opening, cal)
    assert business_time_between(start, opening, cal) == timedelta(0)
    assert add_business_time(start, duration, cal) == add_business_time(opening, duration, cal)


@SETTINGS
@given(calendars, clocks, instants, instants, instants)
def test_elapsed_time_is_additive_and_monotonic(
    cal: BusinessCalendar, clock: Clock, x: datetime, y: datetime, z: datetime
) -> None:
    a, b, c = ordered(x, y, z)
    ab, bc, ac = elapsed(a, b, clock, cal), elapsed(b, c, clock, cal), elapsed(a, c, clock, cal)
    assert ab + bc == ac
    assert timedelta(0) <= ab <= ac
    assert bc <= ac
    assert elapsed(c, a, clock, cal) == timedelta(0)


@SETTINGS
@given(calendars, instants)
def test_is_business_time_matches_the_wall_clock_model(cal: BusinessCalendar, t: datetime) -> None:
    assert is_business_time(t, cal) is wall_clock_business(t, cal)


def minutes(a: datetime, b: datetime) -> Iterator[datetime]:
    t = a
    while t < b:
        yield t
        t += timedelta(minutes=1)


@FEW
@given(
    calendars,
    instants.map(lambda t: t.astimezone(UTC).replace(second=0, microsecond=0)),
    st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_business_time_between_matches_counting_minutes(
    cal: BusinessCalendar, a: datetime, span: int
) -> None:
    # Every calendar here opens and closes on whole UTC minutes, so counting minutes is exact.
    b = a + timedelta(minutes=span)
    counted = sum(1 for t in minutes(a, b) if wall_clock_business(t, cal))
    assert business_time_between(a, b, cal) == timedelta(minutes=counted)


@SETTINGS
@given(
    calendars,
    clocks,
    instants,
    durations,
    st.floats(min_value=0, max_value=1, allow_nan=False),
)
def test_warning_time_is_the_fraction_of_the_window(
    cal: BusinessCalendar, clock: Clock, start: datetime, window: timedelta, fraction: float
) -> None:
    deadline = add_clock_time(start, window, clock, cal)
    warn = warning_time(start, deadline, clock, cal, fraction)
    assert warn.tzinfo is UTC
    assert warn <= deadline
    assert elapsed(start, warn, clock, cal) == window * fraction


DEFAULT_DOC: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
POLICY = load_policy(DEFAULT_DOC)


@SETTINGS
@given(st.sampled_from(CALENDARS), st.sampled_from(PRIORITIES), instants)
def test_deadlines_are_the_targets_measured_on_their_clock(
    cal: BusinessCalendar, priority: str, submitted: datetime
) -> None:
    policy = Policy(cal, POLICY.targets, POLICY.due_soon_fraction)
    target = policy.targets[priority]
    due = compute_deadlines(submitted, priority, policy)
    assert submitted <= due.first_response <= due.resolution
    assert elapsed(submitted, due.first_response, target.clock, cal) == target.first_response
    assert elapsed(submitted, due.resolution, target.clock, cal) == target.resolution


# --- policy validation names the key -------------------------------------------------------------


KeyPath = tuple[str, tuple[str | int, ...]]  # (dotted path as in error messages, keys to reach it)


def _paths(value: object, dotted: str = "", keys: tuple[str | int, ...] = ()) -> Iterator[KeyPath]:
    if keys:
        yield dotted, keys
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, f"{dotted}.{key}" if dotted else key, (*keys, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, f"{dotted}[{i}]", (*keys, i))


def _get(doc: Any, keys: tuple[str | int, ...]) -> Any:
    for key in keys:
        doc = doc[key]
    return doc


ALL_PATHS = list(_paths(DEFAULT_DOC))
OBJECT_PATHS = [("", ())] + [
    (dotted, keys) for dotted, keys in ALL_PATHS if isinstance(_get(DEFAULT_DOC, keys), dict)
]


UNIT_NAMES = {"minutes", "hours", "days", "business_days"}


def test_the_default_document_has_paths_to_try() -> None:
    dotted = {d for d, _ in ALL_PATHS}
    assert {"calendar.weekdays[4]", "targets.P3.resolution.business_days"} <= dotted


@SETTINGS
@given(
    st.sampled_from(ALL_PATHS),
    st.sampled_from([None, [], "x", -1, {"x": 1}]),
)
def test_a_bad_value_is_reported_at_its_path(target: KeyPath, bad: object) -> None:
    dotted, keys = target
    if bad == _get(DEFAULT_DOC, keys):
        return  # the default holidays are already []
    doc = copy.deepcopy(DEFAULT_DOC)
    _get(doc, keys[:-1])[keys[-1]] = bad
    with pytest.raises(PolicyError) as raised:
        load_policy(doc)
    # The error is at the replaced value or inside it (a bad unit key, say).
    assert re.match(re.escape(dotted) + r"[:.\[]", str(raised.value))


@SETTINGS
@given(
    st.sampled_from(OBJECT_PATHS),
    # Unit names are valid keys in every duration object, so an extra one is not an error.
    st.text(min_size=1, max_size=12).filter(lambda k: k not in UNIT_NAMES),
)
def test_an_unknown_key_is_reported_at_its_path(target: KeyPath, key: str) -> None:
    dotted, keys = target
    doc = copy.deepcopy(DEFAULT_DOC)
    parent = _get(doc, keys)
    if key in parent:
        return
    parent[key] = 1
    expected = f"{dotted}.{key}" if dotted else key
    with pytest.raises(PolicyError) as raised:
        load_policy(doc)
    assert str(raised.value).startswith(expected)
