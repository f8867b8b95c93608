"""Per-ticket SLA state: warnings, breaches, met targets, pauses, reopening and priority changes.

Policy: the bundled defaults (Mon-Fri 09:00-18:00 UTC). 2026-11-23 is a Monday.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.sla import (
    DEFAULT_POLICY_PATH,
    add_clock_time,
    compute_deadlines,
    elapsed,
    load_policy_file,
)
from chalicelib.domain.sla_state import (
    SlaAlert,
    Timers,
    evaluate,
    mark_met,
    next_due,
    pause,
    public_sla,
    recompute_for_priority,
    restart_resolution,
    resume,
    sla_of,
)
from chalicelib.domain.tickets import Ticket

POLICY = load_policy_file(DEFAULT_POLICY_PATH)
CAL = POLICY.calendar
TIMERS = Timers(autoclose_after=timedelta(days=14), contact_retention=timedelta(days=365))
MON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week of 2026-11-23 (day 0 = Monday)."""
    return MON + timedelta(days=day, hours=hour - 9, minutes=minute)


def ticket(priority: str = "P2", submitted: datetime = MON, **changes: Any) -> Ticket:
    t = Ticket(
        number="FB-TEST-0001",
        type="complaint",
        category="service",
        subject="Queue",
        description="Long queue.",
        location=None,
        channel="web",
        priority=priority,
        department="customer-service",
        status="received",
        submitted_at=submitted,
        updated_at=submitted,
        deadlines=compute_deadlines(submitted, priority, POLICY),
        key_hash="sha256:00",
        language="en",
        consent_to_publish=False,
    )
    return t.replace(**changes)


def states(t: Ticket) -> tuple[str, str]:
    s = sla_of(t)
    return s["first_response"]["state"], s["resolution"]["state"]


# --- warnings and breaches -----------------------------------------------------------------------


def test_due_soon_at_80_percent_then_breach_at_the_deadline() -> None:
    t = ticket()  # P2: first response by 11:00, warning at 10:36 (80 % of 2 business hours)
    assert next_due(t, POLICY, TIMERS) == at(0, 10, 36)

    same, alerts = evaluate(t, at(0, 10, 35), POLICY)
    assert alerts == []
    assert states(same) == ("ok", "ok")

    warned, alerts = evaluate(t, at(0, 10, 36), POLICY)
    assert alerts == [SlaAlert(t.number, "first_response", "due_soon", at(0, 11))]
    assert sla_of(warned)["first_response"]["warned_at"] == at(0, 10, 36).isoformat()
    assert next_due(warned, POLICY, TIMERS) == at(0, 11)

    again, alerts = evaluate(warned, at(0, 10, 50), POLICY)
    assert alerts == []  # idempotent: a second sweep announces nothing
    assert again == warned

    breached, alerts = evaluate(warned, at(0, 11), POLICY)
    assert alerts == [SlaAlert(t.number, "first_response", "breached", at(0, 11))]
    entry = sla_of(breached)["first_response"]
    assert (entry["state"], entry["breached_at"]) == ("breached", at(0, 11).isoformat())
    # Next: the resolution warning (48 business hours -> Monday next week 12:00; 80 % = 38.4 h).
    assert next_due(breached, POLICY, TIMERS) == at(4, 11, 24)
    assert evaluate(breached, at(0, 12), POLICY)[1] == []


def test_a_late_first_sweep_breaches_without_a_warning() -> None:
    _, alerts = evaluate(ticket(), at(0, 12), POLICY)
    assert [(a.kind, a.alert) for a in alerts] == [("first_response", "breached")]


def test_both_targets_can_fire_in_one_evaluation() -> None:
    t = ticket("P1")  # 1 h and 24 h on the calendar clock
    _, alerts = evaluate(t, MON + timedelta(hours=23), POLICY)
    assert [(a.kind, a.alert) for a in alerts] == [
        ("first_response", "breached"),
        ("resolution", "due_soon"),
    ]


def test_meeting_a_target_after_its_breach_keeps_the_breach() -> None:
    breached, _ = evaluate(ticket(), at(0, 11, 5), POLICY)
    met = mark_met(breached, "first_response", at(0, 11, 30))
    entry = sla_of(met)["first_response"]
    assert entry == {
        "state": "breached",
        "warned_at": None,
        "breached_at": at(0, 11).isoformat(),
        "met_at": at(0, 11, 30).isoformat(),
    }
    assert public_sla(met)["first_response"]["met_at"] == at(0, 11, 30)
    # A met target is never due again; the resolution is what remains.
    assert next_due(met, POLICY, TIMERS) == at(4, 11, 24)
    # Marking it met a second time changes nothing.
    assert mark_met(met, "first_response", at(0, 12)) == met


def test_met_in_time_is_met_and_never_breaches() -> None:
    warned, _ = evaluate(ticket(), at(0, 10, 40), POLICY)
    met = mark_met(warned, "first_response", at(0, 10, 50))
    assert states(met) == ("met", "ok")
    _, alerts = evaluate(met, at(0, 11, 30), POLICY)
    assert alerts == []


def test_closed_tickets_are_not_evaluated() -> None:
    t = ticket(status="rejected")
    assert evaluate(t, at(3, 9), POLICY) == (t, [])


# --- pauses --------------------------------------------------------------------------------------


def test_a_paused_ticket_is_not_due_and_resume_extends_unmet_deadlines() -> None:
    t = mark_met(ticket(status="acknowledged"), "first_response", at(0, 9, 10))
    resolution = t.deadlines.resolution
    assert resolution == at(7, 12)  # Monday next week, 12:00
    paused = pause(t.replace(status="awaiting_info"), at(1, 9))  # Tuesday 09:00
    assert next_due(paused, POLICY, TIMERS) is None
    assert evaluate(paused, at(9, 9), POLICY) == (paused, [])  # long past every deadline

    resumed = resume(paused, at(2, 9), POLICY)  # Wednesday 09:00: 9 business hours paused
    assert resumed.paused_at is None
    assert resumed.deadlines.first_response == t.deadlines.first_response  # met: stays
    assert resumed.deadlines.resolution == at(8, 12)  # one business day later
    assert sla_of(resumed)["pauses"] == [[at(1, 9).isoformat(), at(2, 9).isoformat()]]


def test_resume_leaves_a_breached_deadline_where_it_was() -> None:
    breached, _ = evaluate(ticket(status="acknowledged"), at(0, 11, 1), POLICY)
    resumed = resume(pause(breached, at(0, 12)), at(0, 15), POLICY)
    assert resumed.deadlines.first_response == at(0, 11)
    assert resumed.deadlines.resolution == at(7, 15)


def test_the_warning_moves_with_a_pause() -> None:
    """Paused time does not count towards "due soon": 80 % of the running time, not of the
    stretched window (which would warn 1.8 business hours early here)."""
    t = mark_met(ticket(status="acknowledged"), "first_response", at(0, 9, 10))
    assert next_due(t, POLICY, TIMERS) == at(4, 11, 24)  # Friday 11:24
    resumed = resume(pause(t, at(1, 9)), at(2, 9), POLICY)  # 9 business hours paused
    assert next_due(resumed, POLICY, TIMERS) == at(7, 11, 24)  # Monday 11:24
    assert evaluate(resumed, at(7, 11, 23), POLICY)[1] == []
    assert evaluate(resumed, at(7, 11, 24), POLICY)[1][0].alert == "due_soon"


def test_a_pause_outside_business_hours_moves_nothing() -> None:
    """Zero business time paused: a deadline at closing time stays there (adding zero business
    time would otherwise carry it over to the next opening)."""
    t = ticket("P3", status="acknowledged")
    assert t.deadlines.first_response == at(2, 18)  # Wednesday 18:00, closing time
    resumed = resume(pause(t, at(1, 19)), at(2, 8), POLICY)  # Tuesday night
    assert resumed.deadlines == t.deadlines
    assert recompute_for_priority(resumed, "P3", POLICY).deadlines == t.deadlines


def test_resume_without_a_pause_changes_nothing() -> None:
    t = ticket()
    assert resume(t, at(1, 9), POLICY) is t


# --- reopening -----------------------------------------------------------------------------------


def test_a_reopened_ticket_gets_a_fresh_window_and_is_not_warned_at_once() -> None:
    t = mark_met(ticket("P1", status="acknowledged"), "first_response", at(0, 9, 30))
    t = mark_met(t.replace(status="resolved"), "resolution", at(0, 15))
    reopened_at = at(10, 10)
    again = restart_resolution(t.replace(status="reopened"), reopened_at, POLICY)
    assert again.deadlines.resolution == reopened_at + timedelta(hours=24)
    assert states(again) == ("met", "ok")
    assert again.attributes["sla_history"][0]["resolution"]["state"] == "met"
    # 80 % of the new 24-hour window, not of the 10-day span since submission.
    assert next_due(again, POLICY, TIMERS) == reopened_at + timedelta(hours=19, minutes=12)
    assert evaluate(again, reopened_at + timedelta(hours=1), POLICY)[1] == []


def test_a_priority_change_after_reopening_counts_from_the_reopening() -> None:
    t = mark_met(ticket("P3", status="acknowledged"), "first_response", at(0, 10))
    t = mark_met(t.replace(status="resolved"), "resolution", at(1, 10))
    reopened_at = at(14, 9)  # two weeks later, a Monday
    again = restart_resolution(t.replace(status="reopened"), reopened_at, POLICY)
    raised = recompute_for_priority(again, "P1", POLICY)
    assert raised.deadlines.resolution == reopened_at + timedelta(hours=24)


# --- priority changes ----------------------------------------------------------------------------


def test_priority_change_recomputes_from_submission_plus_pauses() -> None:
    t = ticket("P3", status="acknowledged")
    assert t.deadlines.first_response == at(2, 18)  # 27 business hours: Wednesday closing
    t = mark_met(t, "first_response", at(0, 9, 30))
    t = resume(pause(t, at(0, 10)), at(0, 12), POLICY)  # 2 business hours paused
    raised = recompute_for_priority(t, "P1", POLICY)
    assert raised.priority == "P1"
    assert raised.deadlines.first_response == t.deadlines.first_response  # met: kept
    # P1 resolution: 24 calendar hours from submission, plus the 2 paused calendar hours.
    assert raised.deadlines.resolution == MON + timedelta(hours=26)


def test_priority_change_resets_due_soon_and_keeps_breaches() -> None:
    t = ticket("P2")
    warned, _ = evaluate(t, at(0, 10, 40), POLICY)
    lowered = recompute_for_priority(warned, "P3", POLICY)
    assert lowered.deadlines.first_response == at(2, 18)
    assert states(lowered) == ("ok", "ok")
    assert sla_of(lowered)["first_response"]["warned_at"] is None
    # A new warning for the new deadline (a different message: the deadline differs).
    _, alerts = evaluate(lowered, at(2, 16, 13), POLICY)
    assert alerts == [SlaAlert(t.number, "first_response", "due_soon", at(2, 18))]

    breached, _ = evaluate(t, at(0, 11, 30), POLICY)
    again = recompute_for_priority(breached, "P3", POLICY)
    assert again.deadlines.first_response == at(0, 11)  # judged against the old deadline
    assert states(again)[0] == "breached"


def test_raising_priority_can_breach_at_once() -> None:
    t = ticket("P3")
    raised = recompute_for_priority(t, "P1", POLICY)
    assert raised.deadlines.first_response == MON + timedelta(hours=1)
    _, alerts = evaluate(raised, at(0, 11), POLICY)
    assert [(a.kind, a.alert) for a in alerts] == [("first_response", "breached")]


# --- what is due next after the SLA ---------------------------------------------------------------


def test_next_due_for_resolved_and_finished_tickets() -> None:
    resolved = ticket(status="resolved", resolved_at=at(1, 9))
    assert next_due(resolved, POLICY, TIMERS) == at(15, 9)
    closed = ticket(status="closed", closed_at=at(2, 9), contact_ciphertext="sealed")
    assert next_due(closed, POLICY, TIMERS) == at(2, 9) + timedelta(days=365)
    assert next_due(closed.replace(contact_ciphertext=None), POLICY, TIMERS) is None


# --- properties ----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    submitted=instants,
    priority=st.sampled_from(["P1", "P2", "P3"]),
    pause_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    pause_for=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
)
def test_the_warning_leaves_20_percent_of_the_target_before_the_deadline(
    submitted: datetime, priority: str, pause_after: timedelta, pause_for: timedelta
) -> None:
    target = POLICY.targets[priority]
    t = ticket(priority, submitted, status="acknowledged")
    t = resume(pause(t, submitted + pause_after), submitted + pause_after + pause_for, POLICY)
    for kind, other in (("first_response", "resolution"), ("resolution", "first_response")):
        warning = next_due(mark_met(t, other, submitted), POLICY, TIMERS)
        assert warning is not None
        left = elapsed(warning, getattr(t.deadlines, kind), target.clock, CAL)
        expected = getattr(target, kind) * (1 - POLICY.due_soon_fraction)
        assert abs(left - expected) <= timedelta(microseconds=2)


@settings(max_examples=60, deadline=None)
@given(submitted=instants, priority=st.sampled_from(["P1", "P2", "P3"]), late=st.integers(0, 400))
def test_evaluating_again_announces_nothing(submitted: datetime, priority: str, late: int) -> None:
    t = ticket(priority, submitted)
    now = add_clock_time(submitted, timedelta(hours=late), "calendar", CAL)
    once, first = evaluate(t, now, POLICY)
    twice, second = evaluate(once, now, POLICY)
    assert second == []
    assert twice == once
    assert len({(a.kind, a.alert) for a in first}) == len(first)


@pytest.mark.parametrize("priority", ["P1", "P2", "P3"])
def test_a_fresh_ticket_warns_at_80_percent_of_its_window(priority: str) -> None:
    t = ticket(priority, at(0, 14))
    target = POLICY.targets[priority]
    warning = next_due(t, POLICY, TIMERS)
    assert warning == add_clock_time(at(0, 14), target.first_response * 0.8, target.clock, CAL)
