"""Golden metrics: eight tickets whose every figure was worked out by hand (see each test).

The tickets are built in their final states, as the services leave them (SLA state in
``attributes["sla"]``, resolution rounds in ``attributes["rollup"]``, ratings, reject kind), then
go through the real pipeline: ``rollups.rebuild`` -> ``RollupView`` -> ``Metrics``.

Timeline (UTC, 2026; "today" is 20 March):

- T1 received 02-02 09:00, answered 10:00 (due 11:00), resolved 02-03 09:00 (due 02-04), closed,
  rated 5 on 02-05.
- T2 received 02-05 09:00; first response due 11:00, breach recorded, answered 02-06 09:00;
  resolution due 02-07 09:00, breach recorded, resolved 02-10 09:00; rated 2 on 02-11 12:00
  (reopened); round 2 due 02-12 12:00, resolved 02-12 10:00; rated 4 on 02-13.
- T3 received 02-20 09:00, never answered: both breaches recorded (02-20 11:00, 02-22 09:00),
  still open today.
- T4 received 02-25 10:00, rejected as spam 11:00 (before its first-response deadline).
- T5 received 03-02 10:00, rejected as out of scope 03-03 10:00: after its first-response
  deadline (03-02 12:00) with no breach recorded (the sweep had not run) - still a breach.
- T6 received 03-05 09:00, merged 10:00.
- T7 (department d2, category cat-b, phone) received 03-10 09:00, answered 09:30, resolution
  due 03-12 09:00 breached, still in progress today.
- T8 received 03-18 09:00, answered 10:00, resolved 03-19 09:00 (due 03-20 09:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.domain import rollups
from chalicelib.domain.metrics import (
    Durations,
    Metrics,
    RollupView,
    last_days,
    month_period,
    rank,
    rows_of,
)
from chalicelib.domain.rollups import TOTAL_DAY, RollupKey
from chalicelib.domain.tickets import Deadlines, Ticket
from tests.support.tickets import make_ticket, number

TODAY = date(2026, 3, 20)
ZONE = "UTC"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def sla(
    fr_breach: datetime | None = None,
    fr_met: datetime | None = None,
    res_breach: datetime | None = None,
    res_met: datetime | None = None,
) -> dict[str, Any]:
    def entry(breach: datetime | None, met: datetime | None) -> dict[str, Any]:
        state = "breached" if breach else ("met" if met else "ok")
        return {"state": state, "warned_at": None, "breached_at": iso(breach), "met_at": iso(met)}

    return {
        "first_response": entry(fr_breach, fr_met),
        "resolution": entry(res_breach, res_met),
        "pauses": [],
    }


def ticket(i: int, **fields: Any) -> Ticket:
    base = make_ticket(
        number(i),
        category="cat-a",
        channel="web",
        department="d1",
        contact_ciphertext=None,
        due_at=None,
        attributes={},
    )
    return base.replace(**fields)


def round_(
    start: datetime, due: datetime, end: datetime, breach: datetime | None
) -> dict[str, Any]:
    return {"start": iso(start), "due": iso(due), "end": iso(end), "breached_at": iso(breach)}


def golden_tickets() -> list[Ticket]:
    t1 = ticket(
        1,
        status="closed",
        submitted_at=at(2, 2),
        deadlines=Deadlines(at(2, 2, 11), at(2, 4)),
        first_response_at=at(2, 2, 10),
        resolved_at=at(2, 3),
        closed_at=at(2, 17),
        resolution_round=1,
        rated_round=1,
        rating=5,
        attributes={
            "sla": sla(fr_met=at(2, 2, 10), res_met=at(2, 3)),
            "rollup": {"rounds": [round_(at(2, 2), at(2, 4), at(2, 3), None)]},
            "ratings": [{"score": 5, "at": iso(at(2, 5)), "round": 1}],
        },
    )
    t2 = ticket(
        2,
        status="resolved",
        submitted_at=at(2, 5),
        deadlines=Deadlines(at(2, 5, 11), at(2, 12, 12)),
        first_response_at=at(2, 6),
        resolved_at=at(2, 12, 10),
        resolution_round=2,
        rated_round=2,
        rating=4,
        reopen_count=1,
        attributes={
            "sla": sla(fr_breach=at(2, 5, 11), fr_met=at(2, 6), res_met=at(2, 12, 10)),
            "rollup": {
                "rounds": [
                    round_(at(2, 5), at(2, 7), at(2, 10), at(2, 7)),
                    round_(at(2, 11, 12), at(2, 12, 12), at(2, 12, 10), None),
                ],
                "round_start": iso(at(2, 11, 12)),
            },
            "ratings": [
                {"score": 2, "at": iso(at(2, 11, 12)), "round": 1},
                {"score": 4, "at": iso(at(2, 13)), "round": 2},
            ],
        },
    )
    t3 = ticket(
        3,
        status="received",
        submitted_at=at(2, 20),
        deadlines=Deadlines(at(2, 20, 11), at(2, 22)),
        attributes={"sla": sla(fr_breach=at(2, 20, 11), res_breach=at(2, 22))},
    )
    t4 = ticket(
        4,
        status="rejected",
        submitted_at=at(2, 25, 10),
        deadlines=Deadlines(at(2, 25, 12), at(2, 27, 10)),
        closed_at=at(2, 25, 11),
        attributes={"sla": sla(), "reject_kind": "spam"},
    )
    t5 = ticket(
        5,
        status="rejected",
        submitted_at=at(3, 2, 10),
        deadlines=Deadlines(at(3, 2, 12), at(3, 4, 10)),
        closed_at=at(3, 3, 10),
        attributes={"sla": sla(), "reject_kind": "out_of_scope"},
    )
    t6 = ticket(
        6,
        status="merged",
        submitted_at=at(3, 5),
        deadlines=Deadlines(at(3, 5, 11), at(3, 7)),
        closed_at=at(3, 5, 10),
        merged_into=number(3),
        attributes={"sla": sla()},
    )
    t7 = ticket(
        7,
        status="in_progress",
        department="d2",
        category="cat-b",
        channel="phone",
        submitted_at=at(3, 10),
        deadlines=Deadlines(at(3, 10, 11), at(3, 12)),
        first_response_at=at(3, 10, 9, 30),
        attributes={"sla": sla(fr_met=at(3, 10, 9, 30), res_breach=at(3, 12))},
    )
    t8 = ticket(
        8,
        status="resolved",
        submitted_at=at(3, 18),
        deadlines=Deadlines(at(3, 18, 11), at(3, 20)),
        first_response_at=at(3, 18, 10),
        resolved_at=at(3, 19),
        resolution_round=1,
        attributes={
            "sla": sla(fr_met=at(3, 18, 10), res_met=at(3, 19)),
            "rollup": {"rounds": [round_(at(3, 18), at(3, 20), at(3, 19), None)]},
        },
    )
    return [t1, t2, t3, t4, t5, t6, t7, t8]


@pytest.fixture(scope="module")
def view() -> RollupView:
    rows = rows_of(rollups.rebuild(golden_tickets(), ZONE))
    return RollupView(rows, rows, TODAY)  # the view takes days from one, totals from the other


FEBRUARY = month_period(2026, 2, TODAY)
MARCH = month_period(2026, 3, TODAY)
LAST_30 = last_days(TODAY, 30)


def test_periods() -> None:
    assert (FEBRUARY.first, FEBRUARY.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (MARCH.first, MARCH.last, MARCH.label) == (
        date(2026, 3, 1),
        TODAY,
        "March 2026 (so far)",
    )
    assert (LAST_30.first, LAST_30.last) == (date(2026, 2, 19), TODAY)


def test_totals_now() -> None:
    cells = rollups.rebuild(golden_tickets(), ZONE)
    total = cells[RollupKey(TOTAL_DAY, "all", "all")].counts
    # Open: T3 and T7. Waiting for a first response past the deadline: T3. Open past the
    # resolution deadline: T3 and T7.
    assert total == {"open": 2, "response_overdue": 1, "resolution_overdue": 2}


def test_february(view: RollupView) -> None:
    m = view.metrics(FEBRUARY)
    assert m == Metrics(
        received=4,  # T1-T4
        resolved=3,  # T1, T2 round 1, T2 round 2
        merged=0,
        rejected_spam=1,  # T4
        rejected_other=0,
        cohort_resolved=2,  # T1 (closed), T2 (resolved)
        backlog=1,  # T3 at the end of 28 February
        responded=2,  # T1 on time, T2 late
        responded_on_time=1,
        response_overdue_open=1,  # T3, still waiting at the end of February
        resolved_on_time=2,  # T1, T2 round 2 (round 1 was late)
        resolution_overdue_open=1,  # T3 (T7 not received yet)
        response_breaches=2,  # T2 02-05, T3 02-20
        resolution_breaches=2,  # T2 round 1 02-07, T3 02-22
        reopened=1,  # T2 round 1
        ratings=3,  # 5, 2, 4
        satisfied=2,
        response_time=Durations(2, 45000.0, 45000.0),  # 1 h and 24 h
        resolution_time=Durations(3, 86400.0, 199200.0),  # 22 h, 24 h, 5 d
    )
    assert m.on_time_response.value == pytest.approx(1 / 3)  # 1 / (2 handled + 1 overdue)
    assert m.on_time_resolution.value == pytest.approx(2 / 4)  # 2 / (3 handled + 1 overdue)
    assert (m.resolution_rate.numerator, m.resolution_rate.denominator) == (2, 3)  # 4 - 0 - 1
    assert m.satisfaction.value == pytest.approx(2 / 3)
    assert m.reopen_rate.value == pytest.approx(1 / 3)
    assert m.breaches == 4


def test_march_so_far(view: RollupView) -> None:
    m = view.metrics(MARCH)
    assert (m.received, m.merged, m.rejected_spam, m.rejected_other, m.cohort_resolved) == (
        4,
        1,
        0,
        1,
        1,
    )
    # Out of scope stays in the denominator, the duplicate does not: 1 / (4 - 1 - 0).
    assert (m.resolution_rate.numerator, m.resolution_rate.denominator) == (1, 3)
    # T7 and T8 answered on time; T3 is still waiting past its deadline: 2 / 3.
    assert (m.responded, m.responded_on_time, m.response_overdue_open) == (2, 2, 1)
    assert m.on_time_response.value == pytest.approx(2 / 3)
    # T8 resolved on time; T3 and T7 open past the deadline: 1 / 3.
    assert (m.resolved, m.resolved_on_time, m.resolution_overdue_open) == (1, 1, 2)
    assert m.on_time_resolution.value == pytest.approx(1 / 3)
    assert (m.response_breaches, m.resolution_breaches) == (1, 1)  # T5 (unrecorded), T7
    assert m.backlog == 2
    assert m.satisfaction.value is None
    assert m.ratings == 0
    assert m.reopen_rate.value == 0.0
    assert m.response_time == Durations(2, 2700.0, 2700.0)
    assert m.resolution_time == Durations(1, 86400.0, 86400.0)


def test_last_30_days(view: RollupView) -> None:
    m = view.metrics(LAST_30)
    assert m.received == 6  # T3-T8
    assert (m.resolution_rate.numerator, m.resolution_rate.denominator) == (1, 4)  # 6 - 1 - 1
    assert m.on_time_response.value == pytest.approx(2 / 3)
    assert m.on_time_resolution.value == pytest.approx(1 / 3)
    assert (m.response_breaches, m.resolution_breaches) == (2, 2)
    assert m.ratings == 0


def test_overdue_at_the_end_of_past_days(view: RollupView) -> None:
    everything = ("all", "all")
    # T2 waited for its first response from 02-05 11:00 to 02-06 09:00.
    assert view.overdue_at_end_of(everything, date(2026, 2, 5), "response") == 1
    assert view.overdue_at_end_of(everything, date(2026, 2, 6), "response") == 0
    # T5's unrecorded breach still counts for the day it was overdue at the end of.
    assert view.overdue_at_end_of(everything, date(2026, 3, 2), "response") == 2
    assert view.overdue_at_end_of(everything, date(2026, 3, 3), "response") == 1
    # T2 round 1 was open past its deadline from 02-07 to 02-10.
    assert [
        view.overdue_at_end_of(everything, date(2026, 2, d), "resolution") for d in (6, 7, 9, 10)
    ] == [0, 1, 1, 0]


def test_daily_backlog(view: RollupView) -> None:
    points = {p.day.isoformat(): p for p in view.daily(LAST_30)}
    backlog = {day: p.backlog for day, p in points.items()}
    assert backlog["2026-02-19"] == 0
    assert backlog["2026-02-20"] == 1  # T3
    assert backlog["2026-02-25"] == 1  # T4 came and went the same day
    assert backlog["2026-03-02"] == 2  # T5
    assert backlog["2026-03-03"] == 1
    assert backlog["2026-03-10"] == 2  # T7
    assert backlog["2026-03-18"] == 3  # T8
    assert backlog["2026-03-19"] == 2
    assert backlog["2026-03-20"] == 2
    assert (points["2026-03-19"].received, points["2026-03-19"].resolved) == (0, 1)
    assert sum(p.received for p in points.values()) == 6


def test_by_dimension(view: RollupView) -> None:
    d2 = view.metrics(LAST_30, "department", "d2")
    assert (d2.received, d2.responded_on_time, d2.resolution_overdue_open) == (1, 1, 1)
    phone = view.metrics(LAST_30, "channel", "phone")
    assert phone.received == 1
    assert phone.backlog == 1
    cat_a = view.metrics(FEBRUARY, "category", "cat-a")
    assert cat_a == view.metrics(FEBRUARY)  # everything in February was cat-a
    assert view.values("department") == {"d1", "d2"}


def test_department_ranking(view: RollupView) -> None:
    ranked = rank(
        [
            ("d2", view.metrics(LAST_30, "department", "d2")),
            ("d1", view.metrics(LAST_30, "department", "d1")),
            ("d3", view.metrics(LAST_30, "department", "d3")),  # nothing to count
        ]
    )
    # d1: response 1/2 (rank 2), resolution 1/2 (1), resolution rate 1/3 (1) -> mean 1.33
    # d2: response 1/1 (1), resolution 0/1 (2), resolution rate 0/1 (2) -> mean 1.67
    assert [(r.value, r.position) for r in ranked] == [("d1", 1), ("d2", 2), ("d3", 3)]
    assert dict(ranked[0].ranks) == {
        "on_time_response": 2,
        "on_time_resolution": 1,
        "resolution_rate": 1,
    }
    assert dict(ranked[2].ranks) == dict.fromkeys(ranked[2].ranks, None)


def test_ties_share_a_rank() -> None:
    same = Metrics(received=2, cohort_resolved=1, responded=1, responded_on_time=1)
    ranked = rank([("b", same), ("a", same)])
    assert [r.value for r in ranked] == ["a", "b"]
    assert ranked[0].ranks["on_time_response"] == ranked[1].ranks["on_time_response"] == 1
