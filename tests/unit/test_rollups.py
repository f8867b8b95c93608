"""The rollup arithmetic: contributions, deltas that telescope, combining, and the history a
ticket keeps for the statistics (``track``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import rollups
from chalicelib.domain.rollups import Cell, CellDelta, RollupKey
from tests.unit.test_metrics_golden import ZONE, at, golden_tickets, sla

GOLDEN = golden_tickets()


def cells_of(*changes: rollups.RollupDelta) -> dict[RollupKey, Cell]:
    cells: dict[RollupKey, Cell] = {}
    for change in changes:
        rollups.apply(cells, change)
    return cells


def variants() -> list:
    """States one ticket (number of T2) could pass through, in any order for the property."""
    t2 = GOLDEN[1]
    return [
        *(t.replace(number=t2.number) for t in GOLDEN),
        t2.replace(department="d9"),
        t2.replace(category="cat-z", channel="letter"),
        t2.replace(status="reopened", resolution_round=1),
    ]


def test_a_new_ticket_counts_once_in_every_dimension() -> None:
    t8 = GOLDEN[7]
    d = rollups.delta(None, t8, ZONE)
    for dimension, value in (
        ("all", "all"),
        ("category", "cat-a"),
        ("channel", "web"),
        ("department", "d1"),
    ):
        cell = d[RollupKey("2026-03-18", dimension, value)]
        assert cell.counts["received"] == 1
        assert cell.counts["cohort_resolved"] == 1
        assert cell.added["response_seconds"] == {f"{t8.number}|response": 3600}
    assert not d[RollupKey("2026-03-19", "all", "all")].removed


@given(st.lists(st.sampled_from(range(len(variants()))), min_size=1, max_size=8))
@settings(max_examples=60, deadline=None)
def test_deltas_telescope_to_the_last_state(path: list[int]) -> None:
    states = variants()
    applied: dict[RollupKey, Cell] = {}
    previous = None
    for i in path:
        rollups.apply(applied, rollups.delta(previous, states[i], ZONE))
        previous = states[i]
    assert applied == rollups.rebuild([states[path[-1]]], ZONE)


@given(st.lists(st.sampled_from(range(len(variants()))), min_size=2, max_size=6))
@settings(max_examples=40, deadline=None)
def test_combining_deltas_equals_applying_them_in_turn(path: list[int]) -> None:
    states = variants()
    deltas = [rollups.delta(None, states[path[0]], ZONE)]
    deltas += [rollups.delta(states[a], states[b], ZONE) for a, b in itertools.pairwise(path)]
    assert cells_of(rollups.combine(deltas)) == cells_of(*deltas)


def test_moving_department_moves_the_whole_history() -> None:
    t2 = GOLDEN[1]
    d = rollups.delta(t2, t2.replace(department="d9"), ZONE)
    assert {k.dimension for k in d} == {"department"}
    assert {k.value for k in d} == {"d1", "d9"}
    received_day = RollupKey("2026-02-05", "department", "d1")
    assert d[received_day].counts["received"] == -1
    moved = d[RollupKey("2026-02-10", "department", "d9")]
    assert moved.added["resolution_seconds"] == {f"{t2.number}|round1": 432000}
    assert d[RollupKey("2026-02-10", "department", "d1")].removed == moved.added


def test_apply_drops_cells_that_become_empty() -> None:
    t8 = GOLDEN[7]
    cells = cells_of(rollups.delta(None, t8, ZONE), rollups.delta(t8, None, ZONE))
    assert cells == {}


def test_merge_rows_sums_shards() -> None:
    key = RollupKey("2026-03-01", "all", "all")
    two = rollups.counter_list({"received": 2})
    three = rollups.counter_list({"received": 3, "resolved": 0})
    rows = [
        rollups.RollupRow(key, two, {"response_seconds": [7, 1]}),
        rollups.RollupRow(key, three, {"response_seconds": [2]}),
        rollups.RollupRow(RollupKey("2026-03-02", "all", "all"), [0, 0], {}),
    ]
    assert three == [3]  # trailing zeros are dropped
    merged = rollups.merge_rows(rows)
    assert merged == {key: rollups.Tally({"received": 5}, {"response_seconds": [1, 2, 7]})}


def test_combine_cancels_a_sample_added_then_removed() -> None:
    key = RollupKey("2026-03-01", "all", "all")
    added = {key: CellDelta(added={"response_seconds": {"n|x": 5}})}
    removed = {key: CellDelta(removed={"response_seconds": {"n|x": 5}})}
    assert rollups.combine([added, removed]) == {}
    assert rollups.combine([removed, added]) == {}


def test_track_records_a_finished_round_and_a_reopening() -> None:
    received = GOLDEN[7].replace(
        status="in_progress",
        resolved_at=None,
        resolution_round=0,
        attributes={"sla": sla(fr_met=at(3, 18, 10))},
    )
    resolved = received.replace(
        status="resolved",
        resolved_at=at(3, 19),
        resolution_round=1,
        attributes={"sla": sla(fr_met=at(3, 18, 10), res_met=at(3, 19))},
    )
    tracked = rollups.track(received, resolved, at(3, 19))
    assert tracked.attributes["rollup"]["rounds"] == [
        {
            "start": at(3, 18).isoformat(),
            "due": at(3, 20).isoformat(),
            "end": at(3, 19).isoformat(),
            "breached_at": None,
        }
    ]
    reopened = rollups.track(
        tracked, tracked.replace(status="reopened"), at(3, 19) + timedelta(days=1)
    )
    assert reopened.attributes["rollup"]["round_start"] == at(3, 20).isoformat()
    assert len(reopened.attributes["rollup"]["rounds"]) == 1
    unchanged = tracked.replace(subject="edited")
    assert rollups.track(tracked, unchanged, at(3, 20)) is unchanged


def test_reject_kind_defaults_to_out_of_scope() -> None:
    t5 = GOLDEN[4]
    assert rollups.reject_kind(t5.replace(attributes={})) == "out_of_scope"
    assert rollups.reject_kind(t5.replace(attributes={"reject_kind": "spam"})) == "spam"
    assert rollups.reject_kind(t5.replace(attributes={"reject_kind": "bogus"})) == "out_of_scope"


def test_days_follow_the_reporting_zone() -> None:
    late = at(3, 18, 23, 30)
    assert rollups.day_of(late, "UTC") == "2026-03-18"
    assert rollups.day_of(late, "Asia/Shanghai") == "2026-03-19"
    assert rollups.whole_seconds(90.7) == 90
    assert rollups.sample_number(rollups.sample_identity("FB-X", "round1")) == "FB-X"
