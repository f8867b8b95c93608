"""Examples for the SLA engine: the default policy, deadlines worked out by hand, and validation."""

from __future__ import annotations

import copy
import doctest
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import chalicelib.domain.sla as sla_module
from chalicelib.domain.sla import (
    DEFAULT_POLICY_PATH,
    BusinessCalendar,
    Clock,
    Policy,
    PolicyError,
    Target,
    add_business_time,
    add_clock_time,
    business_time_between,
    compute_deadlines,
    elapsed,
    is_business_time,
    load_policy,
    load_policy_file,
    next_opening,
    warning_time,
)
from chalicelib.domain.tickets import PRIORITIES, Deadlines

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MON_FRI = frozenset(range(5))
HOUR = timedelta(hours=1)
DEFAULT_DOC: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
POLICY = load_policy(DEFAULT_DOC)
CAL = POLICY.calendar

# January 2025: Friday the 10th, weekend 11-12, then Monday 13 to Friday 17, Monday 20...


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def at(text: str, zone: str = "UTC") -> datetime:
    """``"2025-01-10 17:30"`` as a local time in ``zone``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def with_calendar(**changes: Any) -> Policy:
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["calendar"].update(changes)
    return load_policy(doc)


def assert_utc(t: datetime) -> None:
    assert t.tzinfo is UTC


# --- the default policy ---------------------------------------------------------------------------


def test_default_policy_file_holds_the_spec_defaults() -> None:
    assert POLICY.calendar == BusinessCalendar(
        timezone="UTC", weekdays=MON_FRI, opens=time(9), closes=time(18), holidays=frozenset()
    )
    assert dict(POLICY.targets) == {
        "P1": Target(first_response=HOUR, resolution=24 * HOUR, clock="calendar"),
        "P2": Target(first_response=2 * HOUR, resolution=48 * HOUR, clock="business"),
        # A business day is one working day's business hours: 9 with the defaults.
        "P3": Target(first_response=27 * HOUR, resolution=63 * HOUR, clock="business"),
    }
    assert POLICY.due_soon_fraction == 0.8
    assert tuple(POLICY.targets) == PRIORITIES


def test_policy_targets_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        POLICY.targets["P1"] = POLICY.targets["P3"]  # type: ignore[index]


def test_module_docstring_example_runs() -> None:
    result = doctest.testmod(sla_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- deadlines with the default policy ------------------------------------------------------------

# (case, priority, submitted, first response due, resolution due), all UTC.
DEADLINE_CASES = [
    # 30 minutes on Friday, 90 on Monday. Resolution, 48 business hours: 0.5 on Friday leaves
    # 47.5; Mon 13 to Fri 17 take 5 x 9 = 45, leaving 2.5 from Monday 20th 09:00.
    ("P2-friday-evening", "P2", "2025-01-10 17:30", "2025-01-13 10:30", "2025-01-20 11:30"),
    # Inside hours on Tuesday: 8 hours left that day, Wed to Mon 4 x 9 = 36, 4 on Tuesday 21st.
    ("P2-tuesday-morning", "P2", "2025-01-14 10:00", "2025-01-14 12:00", "2025-01-21 13:00"),
    # Starts Monday 09:00: 45 hours Mon 13 to Fri 17, 3 on Monday 20th.
    ("P2-sunday", "P2", "2025-01-12 12:00", "2025-01-13 11:00", "2025-01-20 12:00"),
    # Submitted exactly at closing time: nothing runs on Friday.
    ("P2-at-closing", "P2", "2025-01-10 18:00", "2025-01-13 11:00", "2025-01-20 12:00"),
    # The first response lands exactly on Thursday's closing time, not on Friday's opening.
    # Resolution: Thu 2, Fri 17 to Thu 23 5 x 9 = 45, 1 on Friday 24th.
    ("P2-due-at-closing", "P2", "2025-01-16 16:00", "2025-01-16 18:00", "2025-01-24 10:00"),
    # A calendar clock runs through the night and the weekend.
    ("P1-saturday-night", "P1", "2025-01-11 03:00", "2025-01-11 04:00", "2025-01-12 03:00"),
    # 27 hours: Mon, Tue, Wed to 18:00. 63 hours: Mon to Fri, then Mon 20 and Tue 21.
    ("P3-monday-opening", "P3", "2025-01-13 09:00", "2025-01-15 18:00", "2025-01-21 18:00"),
    # 27 hours: Fri 6, Mon 9, Tue 9, Wed 3. 63 hours: Fri 6, Mon 13 to Mon 20 6 x 9 = 54,
    # 3 on Tuesday 21st.
    ("P3-friday-noon", "P3", "2025-01-10 12:00", "2025-01-15 12:00", "2025-01-21 12:00"),
]


@pytest.mark.parametrize(
    ("case", "priority", "submitted", "first_response", "resolution"),
    DEADLINE_CASES,
    ids=[c[0] for c in DEADLINE_CASES],
)
def test_deadlines_with_the_default_policy(
    case: str, priority: str, submitted: str, first_response: str, resolution: str
) -> None:
    due = compute_deadlines(at(submitted), priority, POLICY)
    assert due == Deadlines(first_response=at(first_response), resolution=at(resolution))
    assert_utc(due.first_response)
    assert_utc(due.resolution)


def test_a_holiday_shifts_a_p3_deadline_by_a_day() -> None:
    holiday = with_calendar(holidays=["2025-01-14"])
    due = compute_deadlines(utc(2025, 1, 13, 9), "P3", holiday)
    assert due.first_response == utc(2025, 1, 16, 18)  # was Wednesday 15th
    assert due.resolution == utc(2025, 1, 22, 18)  # was Tuesday 21st


def test_a_holiday_does_not_move_a_calendar_clock() -> None:
    holiday = with_calendar(holidays=["2025-01-11"])
    assert compute_deadlines(utc(2025, 1, 11, 3), "P1", holiday).first_response == utc(
        2025, 1, 11, 4
    )


def test_a_business_clock_started_on_sunday_starts_at_monday_opening() -> None:
    sunday_noon = utc(2025, 1, 12, 12)
    assert not is_business_time(sunday_noon, CAL)
    assert next_opening(sunday_noon, CAL) == utc(2025, 1, 13, 9)
    assert add_business_time(sunday_noon, timedelta(0), CAL) == utc(2025, 1, 13, 9)
    assert business_time_between(sunday_noon, utc(2025, 1, 13, 9), CAL) == timedelta(0)


def test_input_in_another_zone_gives_the_same_instant_in_utc() -> None:
    tokyo = datetime(2025, 1, 11, 2, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # Friday 17:30 UTC
    due = compute_deadlines(tokyo, "P2", POLICY)
    assert due.first_response == utc(2025, 1, 13, 10, 30)
    assert_utc(due.first_response)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (utc(2025, 1, 13, 9), True),  # opening time is business time
        (utc(2025, 1, 13, 18) - timedelta(microseconds=1), True),
        (utc(2025, 1, 13, 18), False),  # closing time is not
        (utc(2025, 1, 13, 9) - timedelta(seconds=1), False),
        (utc(2025, 1, 11, 12), False),  # Saturday
        (utc(2025, 1, 13, 0), False),  # midnight
    ],
)
def test_is_business_time(t: datetime, expected: bool) -> None:
    assert is_business_time(t, CAL) is expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (utc(2025, 1, 13, 10), utc(2025, 1, 13, 10)),  # inside hours: itself
        (utc(2025, 1, 13, 18), utc(2025, 1, 14, 9)),
        (utc(2025, 1, 13, 23, 59), utc(2025, 1, 14, 9)),
        (utc(2025, 1, 14, 0), utc(2025, 1, 14, 9)),
        (utc(2025, 1, 10, 18), utc(2025, 1, 13, 9)),  # over the weekend
    ],
)
def test_next_opening(t: datetime, expected: datetime) -> None:
    assert next_opening(t, CAL) == expected


def test_business_time_between() -> None:
    assert business_time_between(utc(2025, 1, 10, 17), utc(2025, 1, 13, 10), CAL) == 2 * HOUR
    assert business_time_between(utc(2025, 1, 13, 0), utc(2025, 1, 20, 0), CAL) == 45 * HOUR
    assert business_time_between(utc(2025, 1, 13, 12), utc(2025, 1, 13, 11), CAL) == timedelta(0)
    assert business_time_between(utc(2025, 1, 13, 12), utc(2025, 1, 13, 12), CAL) == timedelta(0)


def test_long_business_durations_need_no_minute_steps() -> None:
    # A year of business days (260 with no holidays) is 52 whole weeks later, at the same time.
    start = utc(2025, 1, 13, 10)
    assert add_business_time(start, 260 * 9 * HOUR, CAL) == start + timedelta(weeks=52)


def test_clock_dispatch() -> None:
    friday, monday = utc(2025, 1, 10, 17), utc(2025, 1, 13, 10)
    assert add_clock_time(friday, 2 * HOUR, "calendar", CAL) == utc(2025, 1, 10, 19)
    assert add_clock_time(friday, 2 * HOUR, "business", CAL) == monday
    assert elapsed(friday, monday, "calendar", CAL) == 65 * HOUR
    assert elapsed(friday, monday, "business", CAL) == 2 * HOUR
    assert elapsed(monday, friday, "calendar", CAL) == timedelta(0)


# --- due soon -------------------------------------------------------------------------------------

WARNING_CASES = [
    # 80 % of 2 business hours is 96 minutes: 30 on Friday and 66 on Monday.
    ("P2", "first_response", utc(2025, 1, 10, 17, 30), utc(2025, 1, 13, 10, 6)),
    # 80 % of 48 is 38h24m: 0.5 Friday, 36 Mon-Thu, 1h54m on Friday 17th.
    ("P2", "resolution", utc(2025, 1, 10, 17, 30), utc(2025, 1, 17, 10, 54)),
    ("P1", "first_response", utc(2025, 1, 11, 3), utc(2025, 1, 11, 3, 48)),
    ("P1", "resolution", utc(2025, 1, 11, 3), utc(2025, 1, 11, 22, 12)),
]


@pytest.mark.parametrize(("priority", "which", "submitted", "expected"), WARNING_CASES)
def test_warning_time_at_the_default_fraction(
    priority: str, which: str, submitted: datetime, expected: datetime
) -> None:
    target = POLICY.targets[priority]
    deadline = getattr(compute_deadlines(submitted, priority, POLICY), which)
    warn = warning_time(submitted, deadline, target.clock, CAL, POLICY.due_soon_fraction)
    assert warn == expected
    assert_utc(warn)


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_warning_time_at_the_ends_of_the_window(clock: Clock) -> None:
    sunday = utc(2025, 1, 12, 12)
    deadline = add_clock_time(sunday, 5 * HOUR, clock, CAL)
    assert warning_time(sunday, deadline, clock, CAL, 1.0) == deadline
    assert warning_time(sunday, deadline, clock, CAL, 0.0) == add_clock_time(
        sunday, timedelta(0), clock, CAL
    )


# --- time zones and DST ---------------------------------------------------------------------------

# (zone, P2 submitted Friday 17:30 local, first response due, resolution due in UTC).
DST_CASES = [
    # Europe/London: clocks go forward on Sunday 30 March 2025 and back on Sunday 26 October 2025.
    ("Europe/London", "2025-03-28 17:30", "2025-03-31 09:30", "2025-04-07 10:30"),
    ("Europe/London", "2025-10-24 17:30", "2025-10-27 10:30", "2025-11-03 11:30"),
    # America/New_York: forward on Sunday 9 March 2025 and back on Sunday 2 November 2025.
    ("America/New_York", "2025-03-07 17:30", "2025-03-10 14:30", "2025-03-17 15:30"),
    ("America/New_York", "2025-10-31 17:30", "2025-11-03 15:30", "2025-11-10 16:30"),
]


@pytest.mark.parametrize(("zone", "submitted", "first_response", "resolution"), DST_CASES)
def test_business_hours_stay_local_across_dst_weekends(
    zone: str, submitted: str, first_response: str, resolution: str
) -> None:
    policy = with_calendar(timezone=zone)
    friday = at(submitted, zone)
    due = compute_deadlines(friday, "P2", policy)
    assert due == Deadlines(first_response=at(first_response), resolution=at(resolution))
    # Same local wall times as in UTC without DST: Monday 10:30, and Monday week 11:30.
    local = ZoneInfo(zone)
    assert due.first_response.astimezone(local).time() == time(10, 30)
    assert due.resolution.astimezone(local).time() == time(11, 30)
    friday_five = friday.replace(hour=17, minute=0)
    monday_ten = (friday + timedelta(days=3)).replace(hour=10, minute=0)
    assert business_time_between(friday_five, monday_ten, policy.calendar) == 2 * HOUR


def test_a_calendar_clock_counts_real_hours_across_dst() -> None:
    policy = with_calendar(timezone="Europe/London")
    saturday_noon = datetime(2025, 3, 29, 12, tzinfo=LONDON)
    due = compute_deadlines(saturday_noon, "P1", policy)
    assert due.resolution == datetime(2025, 3, 30, 13, tzinfo=LONDON)  # 13:00 BST = 12:00 UTC


def night_calendar(opens: time, closes: time) -> BusinessCalendar:
    return BusinessCalendar("America/New_York", frozenset(range(7)), opens, closes, frozenset())


@pytest.mark.parametrize(
    ("opens", "closes", "day", "expected"),
    [
        # 01:00 EST to 05:00 EDT: the skipped hour is not worked.
        (time(1), time(5), date(2025, 3, 9), 3 * HOUR),
        # 01:00 EDT to 05:00 EST: the repeated hour is worked twice.
        (time(1), time(5), date(2025, 11, 2), 5 * HOUR),
        # 02:30 does not exist that night; fold=0 reads it with the offset before the change,
        # which is 03:30 EDT, so 2.5 hours to 06:00 EDT.
        (time(2, 30), time(6), date(2025, 3, 9), 2.5 * HOUR),
        # 01:30 happens twice; fold=0 takes the first (EDT), so 5.5 hours to 06:00 EST.
        (time(1, 30), time(6), date(2025, 11, 2), 5.5 * HOUR),
        (time(1), time(5), date(2025, 3, 10), 4 * HOUR),
    ],
)
def test_clock_changes_inside_business_hours(
    opens: time, closes: time, day: date, expected: timedelta
) -> None:
    cal = night_calendar(opens, closes)
    midnight = datetime.combine(day, time(0), NEW_YORK)
    noon = datetime.combine(day, time(12), NEW_YORK)
    assert business_time_between(midnight, noon, cal) == expected
    assert add_business_time(midnight, expected, cal) == datetime.combine(day, closes, NEW_YORK)


def test_nonexistent_opening_time_opens_at_its_fold_0_instant() -> None:
    cal = night_calendar(time(2, 30), time(6))
    assert next_opening(datetime(2025, 3, 9, tzinfo=NEW_YORK), cal) == utc(2025, 3, 9, 7, 30)
    assert not is_business_time(datetime(2025, 3, 9, 3, 15, tzinfo=NEW_YORK), cal)


# --- bad arguments --------------------------------------------------------------------------------

NAIVE = datetime(2025, 1, 13, 10)
AWARE = utc(2025, 1, 13, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_business_time(NAIVE, CAL),
        lambda: next_opening(NAIVE, CAL),
        lambda: add_business_time(NAIVE, HOUR, CAL),
        lambda: business_time_between(NAIVE, AWARE, CAL),
        lambda: business_time_between(AWARE, NAIVE, CAL),
        lambda: add_clock_time(NAIVE, HOUR, "calendar", CAL),
        lambda: elapsed(AWARE, NAIVE, "calendar", CAL),
        lambda: compute_deadlines(NAIVE, "P1", POLICY),
        lambda: compute_deadlines(NAIVE, "P2", POLICY),
        lambda: warning_time(NAIVE, AWARE, "business", CAL, 0.8),
    ],
)
def test_naive_datetimes_are_rejected(call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_negative_durations_are_rejected(clock: Clock) -> None:
    with pytest.raises(ValueError, match="negative"):
        add_clock_time(AWARE, -HOUR, clock, CAL)


def test_unknown_priority_is_rejected() -> None:
    with pytest.raises(ValueError, match="'P9'"):
        compute_deadlines(AWARE, "P9", POLICY)


@pytest.mark.parametrize("fraction", [-0.1, 1.1, float("nan")])
def test_warning_fraction_outside_0_1_is_rejected(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        warning_time(AWARE, AWARE + HOUR, "calendar", CAL, fraction)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekdays": frozenset()}, "weekdays"),
        ({"weekdays": frozenset({7})}, "weekdays"),
        ({"opens": time(18), "closes": time(9)}, "open before"),
        ({"timezone": "Nowhere/Land"}, "unknown time zone"),
        ({"opens": time(9, tzinfo=UTC)}, "without tzinfo"),
    ],
)
def test_calendars_built_in_code_are_checked(changes: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "timezone": "UTC",
        "weekdays": MON_FRI,
        "opens": time(9),
        "closes": time(18),
        "holidays": frozenset(),
    }
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**(fields | changes))


def test_targets_built_in_code_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        Target(first_response=timedelta(0), resolution=HOUR, clock="calendar")
    with pytest.raises(ValueError, match="clock"):
        Target(first_response=HOUR, resolution=HOUR, clock="wall")  # type: ignore[arg-type]


# --- policy validation ----------------------------------------------------------------------------

DELETE = object()


def mutated(path: tuple[str, ...], value: object) -> dict[str, Any]:
    doc = copy.deepcopy(DEFAULT_DOC)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


P2_RESOLUTION = ("targets", "P2", "resolution")

POLICY_ERRORS = [
    (P2_RESOLUTION, {"hours": 0}, "targets.P2.resolution: must be a positive duration"),
    (P2_RESOLUTION, {}, "targets.P2.resolution: must be a positive duration"),
    (P2_RESOLUTION, 48, "targets.P2.resolution: must be a positive duration"),
    (P2_RESOLUTION, {"hours": -1}, "targets.P2.resolution.hours: must not be negative"),
    (P2_RESOLUTION, {"hours": True}, "targets.P2.resolution.hours: must be a number"),
    (P2_RESOLUTION, {"hours": "48"}, "targets.P2.resolution.hours: must be a number"),
    (P2_RESOLUTION, {"hours": 1e300}, "targets.P2.resolution.hours: too large"),
    (P2_RESOLUTION, {"hourz": 48}, "targets.P2.resolution.hourz: unknown unit"),
    (P2_RESOLUTION, {"days": 2}, 'targets.P2.resolution.days: on a business clock use "business'),
    (
        ("targets", "P1", "resolution"),
        {"business_days": 1},
        'targets.P1.resolution.business_days: only valid with "clock": "business"',
    ),
    (
        ("targets", "P2", "first_response"),
        {"hours": 49},
        "targets.P2.first_response: must not be longer than the resolution target",
    ),
    (("targets", "P2", "clock"), "wall", "targets.P2.clock: must be one of: calendar, business"),
    (("targets", "P2", "clock"), DELETE, "targets.P2.clock: required"),
    (("targets", "P2", "colour"), "red", "targets.P2.colour: unknown key"),
    (("targets", "P4"), DEFAULT_DOC["targets"]["P3"], "targets.P4: unknown key"),
    (("targets", "P3"), DELETE, "targets.P3: required"),
    (("targets",), [], "targets: must be an object"),
    (("colour",), "red", "colour: unknown key"),
    (("calendar",), DELETE, "calendar: required"),
    (("calendar", "timezone"), "Mars/Olympus_Mons", "calendar.timezone: unknown time zone"),
    (("calendar", "timezone"), "../../etc/passwd", "calendar.timezone: unknown time zone"),
    (("calendar", "timezone"), "America", "calendar.timezone: unknown time zone"),
    (("calendar", "timezone"), "localtime", "calendar.timezone: 'localtime' depends on the host"),
    (("calendar", "timezone"), 0, "calendar.timezone: must be a string"),
    (("calendar", "opens"), "18:00", "calendar.closes: must be later than calendar.opens"),
    (("calendar", "opens"), "19:30", "calendar.closes: must be later than calendar.opens"),
    (("calendar", "opens"), "9:00", "calendar.opens: must be a time as HH:MM"),
    (("calendar", "closes"), "24:00", "calendar.closes: must be a time as HH:MM"),
    (("calendar", "weekdays"), [], "calendar.weekdays: must name at least one working day"),
    (("calendar", "weekdays"), "mon-fri", "calendar.weekdays: must be a list"),
    (("calendar", "weekdays"), ["mon", "funday"], "calendar.weekdays[1]: must be one of"),
    (("calendar", "weekdays"), ["mon", "mon"], "calendar.weekdays[1]: duplicate day 'mon'"),
    (("calendar", "weekdays"), [0], "calendar.weekdays[0]: must be a string"),
    (("calendar", "holidays"), ["2025-02-30"], "calendar.holidays[0]: must be a date as YYYY-"),
    (("calendar", "holidays"), ["20250101"], "calendar.holidays[0]: must be a date as YYYY-"),
    (
        ("calendar", "holidays"),
        ["2025-12-25", "2025-12-25"],
        "calendar.holidays[1]: duplicate date 2025-12-25",
    ),
    (("due_soon_fraction",), 1.0, "due_soon_fraction: must be between 0 and 1"),
    (("due_soon_fraction",), 0, "due_soon_fraction: must be between 0 and 1"),
    (("due_soon_fraction",), "0.8", "due_soon_fraction: must be a number"),
    (("due_soon_fraction",), float("nan"), "due_soon_fraction: must be a number"),
]


@pytest.mark.parametrize(("path", "value", "message"), POLICY_ERRORS)
def test_policy_errors_name_the_key(path: tuple[str, ...], value: object, message: str) -> None:
    with pytest.raises(PolicyError, match="^" + re.escape(message)):
        load_policy(mutated(path, value))


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)
    with pytest.raises(PolicyError, match=r"^policy: must be an object"):
        load_policy([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ({"hours": 1, "minutes": 30}, timedelta(minutes=90)),
        ({"hours": 1.5}, timedelta(minutes=90)),
        ({"minutes": 45}, timedelta(minutes=45)),
        ({"business_days": 0.5}, timedelta(hours=4, minutes=30)),
        ({"business_days": 1, "hours": 2}, timedelta(hours=11)),
    ],
)
def test_business_duration_units(duration: dict[str, float], expected: timedelta) -> None:
    policy = load_policy(mutated(("targets", "P3", "first_response"), duration))
    assert policy.targets["P3"].first_response == expected


def test_calendar_duration_units() -> None:
    policy = load_policy(mutated(("targets", "P1", "resolution"), {"days": 2}))
    assert policy.targets["P1"].resolution == timedelta(days=2)


def test_business_days_follow_the_configured_hours() -> None:
    policy = with_calendar(opens="08:30", closes="16:30")
    assert policy.targets["P3"].first_response == 24 * HOUR


def test_a_custom_calendar_loads() -> None:
    policy = with_calendar(
        timezone="Asia/Shanghai",
        weekdays=["sun", "mon", "tue", "wed", "thu"],
        opens="08:00",
        closes="17:30",
        holidays=["2025-10-01", "2025-10-02"],
    )
    assert policy.calendar == BusinessCalendar(
        timezone="Asia/Shanghai",
        weekdays=frozenset({6, 0, 1, 2, 3}),
        opens=time(8),
        closes=time(17, 30),
        holidays=frozenset({date(2025, 10, 1), date(2025, 10, 2)}),
    )


def test_load_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(mutated(("calendar", "holidays"), ["2025-12-25"])), "utf-8")
    assert load_policy_file(path).calendar.holidays == frozenset({date(2025, 12, 25)})
    assert load_policy_file(str(path)) == load_policy_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "policy: must be an object"),
        ('{"targets": {"P2": {}, "P2": {}}}', "P2: duplicate key"),
    ],
)
def test_bad_policy_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError, match=re.escape(message)):
        load_policy_file(path)
