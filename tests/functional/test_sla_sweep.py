"""The SLA sweep through the API with an injected clock, on every adapter.

Each scenario runs on SQLite and DynamoDB on moto in-process (conftest's ``api`` fixture) and on
DynamoDB on moto's server over HTTP (``server_api``). Times: ``START`` is Monday 2026-11-23 09:00
UTC; the bundled policy (Mon-Fri 09:00-18:00 UTC) applies. A P2 complaint submitted at START is
due for a first response at 11:00 (warned at 10:36) and resolved by Monday 30 November 12:00
(warned on Friday 27 November at 11:24).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import deps
from chalicelib.notify.outbox import OutboxNotifier
from chalicelib.notify.port import Notification
from chalicelib.services.sweep import SweepReport, SweepService
from chalicelib.store.port import TicketStore
from tests.functional.conftest import Api, _settings
from tests.functional.staff_helpers import (
    START,
    MovableClock,
    bearer,
    call,
    data,
    make_staff,
    submit,
)
from tests.support.stores import make_store

SLA = frozenset({"sla"})
DEPT_EMAIL = "service@clearloop.local"  # customer-service, where "service-waiting" is routed
SUPERVISOR_EMAIL = "service-lead@clearloop.local"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant counted from Monday 2026-11-23 (day 0)."""
    return START + timedelta(days=day, hours=hour - 9, minutes=minute)


def iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


class World:
    """The API, a movable clock, an agent's token and the outbox of one test."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.clock = MovableClock()
        deps.override(clock=self.clock)
        self.agent = bearer(make_staff("al", "agent", ["customer-service"]))
        self.outbox = OutboxNotifier(api.settings.outbox_file)

    def at(self, t: datetime) -> None:
        self.clock.current = t

    def sweep(self, jobs: frozenset[str] = SLA) -> SweepReport:
        return deps.sweep_service().run(jobs)

    def sent(self) -> list[Notification]:
        return self.outbox.read()

    def staff_view(self, number: str) -> dict[str, Any]:
        r = call(self.api, "GET", f"/v1/staff/tickets/{number}", **self.agent)
        assert r.status_code == 200, r.body
        return dict(data(r))

    def act(self, number: str, what: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        method = "PATCH" if what == "triage" else "POST"
        path = f"/v1/staff/tickets/{number}" + ("" if what == "triage" else f"/{what}")
        r = call(self.api, method, path, body, **self.agent, **headers)
        assert r.status_code in (200, 201), r.body
        return dict(data(r))

    def transition(self, number: str, status: str, text: str | None = None) -> dict[str, Any]:
        body = {"status": status} if text is None else {"status": status, "text": text}
        return self.act(number, "transitions", body)

    def triage(self, number: str, **fields: Any) -> dict[str, Any]:
        version = self.staff_view(number)["version"]
        return self.act(number, "triage", fields, **{"If-Match": str(version)})


# --- scenarios -----------------------------------------------------------------------------------


def due_soon_breach_then_met_late(api: Api) -> None:
    w = World(api)
    created = submit(api)
    number, key = created["number"], created["key"]
    assert created["deadlines"]["first_response"] == iso(at(0, 11))

    w.at(at(0, 10, 35))
    assert w.sweep().due_soon == 0
    assert w.sent() == []

    w.at(at(0, 10, 37))
    report = w.sweep()
    assert (report.due_soon, report.breached) == (1, 0)
    [soon] = w.sent()
    assert (soon.to, soon.kind, soon.number) == (DEPT_EMAIL, "sla_due_soon", number)
    assert soon.dedupe_key == f"{number}:first_response:due_soon:{iso(at(0, 11))}"
    view = w.staff_view(number)
    assert view["sla"]["first_response"]["state"] == "due_soon"
    queue = data(call(api, "GET", "/v1/staff/tickets?sla=due_soon", **w.agent))
    assert [t["number"] for t in queue["tickets"]] == [number]

    w.at(at(0, 10, 50))
    assert w.sweep().read == 0  # nothing due until the deadline
    assert len(w.sent()) == 1

    w.at(at(0, 11, 1))
    report = w.sweep()
    assert (report.due_soon, report.breached) == (0, 1)
    breach = w.sent()[1]
    assert (breach.to, breach.kind) == (SUPERVISOR_EMAIL, "sla_breached")
    assert breach.dedupe_key == f"{number}:first_response:breached:{iso(at(0, 11))}"
    view = w.staff_view(number)
    assert view["escalated"] is True
    assert view["sla"]["first_response"]["state"] == "breached"
    assert view["sla"]["first_response"]["breached_at"] == iso(at(0, 11))
    internal = {e["kind"]: e for e in view["timeline"] if e["kind"].startswith(("sla_", "esc"))}
    assert set(internal) == {"sla_due_soon", "sla_breached", "escalated"}
    assert not any(e["public"] for e in internal.values())
    assert internal["escalated"]["data"] == {"reason": "sla_breach", "target": "first_response"}
    queue = data(call(api, "GET", "/v1/staff/tickets?sla=breached", **w.agent))
    assert [t["number"] for t in queue["tickets"]] == [number]
    public = data(call(api, "GET", f"/v1/tickets/{number}", **{"X-Ticket-Key": key}))
    assert not {e["kind"] for e in public["timeline"]} & set(internal)

    # The answer comes late: met_at is recorded beside the breach, which stays.
    w.at(at(0, 11, 30))
    w.act(number, "replies", {"public": True, "text": "Sorry for the wait."})
    first = w.staff_view(number)["sla"]["first_response"]
    assert first["state"] == "breached"
    assert first["breached_at"] == iso(at(0, 11))
    assert first["met_at"] == iso(at(0, 11, 30))

    # Nothing more to say, however often the sweep runs.
    w.at(at(0, 12))
    assert w.sweep().notifications == []
    assert w.sweep().notifications == []
    assert len(w.sent()) == 2


def pause_and_resume(api: Api) -> None:
    w = World(api)
    created = submit(api)
    number, key = created["number"], created["key"]
    w.at(at(0, 9, 10))
    w.transition(number, "acknowledged")
    w.transition(number, "in_progress")
    assert w.staff_view(number)["deadlines"]["resolution"] == iso(at(7, 12))

    # Paused on Friday 11:00, before the 11:24 warning; nothing fires while paused, not even
    # past the original deadline.
    w.at(at(4, 11))
    w.transition(number, "awaiting_info", "Which counter was it?")
    w.at(at(7, 13))
    report = w.sweep()
    assert (report.read, report.due_soon, report.breached) == (0, 0, 0)
    view = w.staff_view(number)
    assert view["sla"]["paused"] is True
    assert view["sla"]["resolution"]["state"] == "ok"
    assert view["due_at"] is None

    # Resumed on Monday 13:00: 7 + 4 = 11 business hours paused move the deadline from
    # Monday 12:00 to Tuesday 14:00; the warning (9.6 business hours before) to Monday 13:24.
    r = call(
        api,
        "POST",
        f"/v1/tickets/{number}/messages",
        {"text": "Counter 3."},
        **{"X-Ticket-Key": key},
    )
    assert r.status_code == 201, r.body
    view = w.staff_view(number)
    assert view["status"] == "in_progress"
    assert view["deadlines"]["resolution"] == iso(at(8, 14))
    assert view["due_at"] == iso(at(7, 13, 24))

    w.at(at(7, 13, 23))
    assert w.sweep().due_soon == 0
    w.at(at(7, 13, 25))
    assert w.sweep().due_soon == 1
    [soon] = w.sent()
    assert soon.dedupe_key == f"{number}:resolution:due_soon:{iso(at(8, 14))}"


def priority_change(api: Api) -> None:
    w = World(api)
    number = submit(api, type="suggestion", subject="More seats")["number"]
    view = w.staff_view(number)
    assert view["priority"] == "P3"
    assert view["deadlines"]["first_response"] == iso(at(2, 18))

    w.at(at(0, 9, 30))
    raised = w.triage(number, priority="P1")
    # From submission with P1's targets: 1 and 24 calendar hours.
    assert raised["deadlines"] == {
        "first_response": iso(at(0, 10)),
        "resolution": iso(at(1, 9)),
    }
    assert raised["due_at"] == iso(at(0, 9, 48))
    public_kinds = [e["kind"] for e in raised["timeline"] if e["public"]]
    assert "deadlines_changed" in public_kinds

    w.at(at(0, 9, 47))
    assert w.sweep().due_soon == 0
    w.at(at(0, 9, 49))
    assert w.sweep().due_soon == 1
    assert w.staff_view(number)["sla"]["first_response"]["state"] == "due_soon"

    # Lowered again: the warning is withdrawn and judged afresh against the later deadline.
    w.at(at(0, 9, 55))
    lowered = w.triage(number, priority="P3")
    assert lowered["sla"]["first_response"]["state"] == "ok"
    assert lowered["deadlines"]["first_response"] == iso(at(2, 18))
    w.at(at(0, 10, 5))
    assert w.sweep().notifications == []  # the P1 deadline no longer applies
    assert [n.dedupe_key for n in w.sent()] == [
        f"{number}:first_response:due_soon:{iso(at(0, 10))}"
    ]


class RacingStore:
    """The real store, except that ``list_due`` waits until every racer has read its batch, so
    all sweeps work from the same versions and must settle each ticket by compare-and-swap."""

    def __init__(self, store: TicketStore, barrier: threading.Barrier) -> None:
        self._store = store
        self._barrier = barrier

    def list_due(self, before: datetime, limit: int) -> Any:
        due = self._store.list_due(before, limit)
        self._barrier.wait()
        return due

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def race(racers: int = 2) -> list[SweepReport]:
    barrier = threading.Barrier(racers, timeout=60)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        service = SweepService(
            RacingStore(deps.store(), barrier),  # type: ignore[arg-type]
            deps.clock(),
            deps.policy(),
            deps.timers(),
            deps.notifier(),
            deps.directory(),
        )
        try:
            report = service.run(SLA)
        except BaseException as e:
            with lock:
                errors.append(e)
            barrier.abort()
            return
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=one) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(reports) == racers
    return reports


def concurrent_sweeps(api: Api) -> None:
    w = World(api)
    numbers = [submit(api, subject=f"Queue {i}")["number"] for i in range(4)]
    deps.notifier()  # built once, before the threads share it

    w.at(at(0, 10, 40))
    reports = race()
    assert sum(r.due_soon for r in reports) == 4
    assert sum(r.lost_races for r in reports) == 4  # every ticket was fought over, once
    keys = [n.dedupe_key for n in w.sent()]
    assert sorted(keys) == sorted(f"{n}:first_response:due_soon:{iso(at(0, 11))}" for n in numbers)

    # Run again at once: nothing is sent twice.
    assert w.sweep().notifications == []

    w.at(at(0, 11, 5))
    reports = race()
    assert sum(r.breached for r in reports) == 4
    sent = w.sent()
    assert len(sent) == 8
    assert len({n.dedupe_key for n in sent}) == 8
    assert [n.to for n in sent[4:]] == [SUPERVISOR_EMAIL] * 4
    assert w.sweep().notifications == []
    assert len(w.sent()) == 8


def chinese_messages_and_auto_close_notice(api: Api) -> None:
    """Department messages in another language, and a submitter told of an auto-close."""
    w = World(api)
    created = submit(
        api,
        language="zh",
        subject="排队时间太长",
        contact={"email": "li@example.org", "consent_to_contact": True},
    )
    number = created["number"]
    sweep = SweepService(
        deps.store(),
        deps.clock(),
        deps.policy(),
        deps.timers(),
        deps.notifier(),
        deps.directory(),
        cipher=deps.cipher(),
        language="zh",
    )
    w.at(at(0, 10, 40))
    assert sweep.run(SLA).due_soon == 1
    [soon] = w.sent()
    assert soon.language == "zh"
    assert soon.subject == f"[Clearloop] {number}：首次答复即将到期（P2）"

    w.transition(number, "acknowledged")
    w.transition(number, "in_progress")
    w.transition(number, "resolved", "已增加一个窗口。")
    w.at(at(14, 10, 41))
    report = sweep.run(frozenset({"autoclose"}))
    assert report.closed == 1
    notice = w.sent()[-1]
    assert (notice.to, notice.kind, notice.language) == ("li@example.org", "submitter_status", "zh")
    assert notice.subject == f"您的反馈 {number}：已关闭"
    assert report.notifications == [notice.dedupe_key]


def deferred_work_does_not_hide_due_tickets(api: Api) -> None:
    """Resolved tickets due for the daily auto-close head the due list when the 5-minute SLA
    run comes; with more of them than one read returns, the SLA work behind must still be done."""
    w = World(api)
    resolved = [submit(api, subject=f"Resolved {i}")["number"] for i in range(8)]
    w.at(at(0, 9, 5))
    for number in resolved:
        w.transition(number, "acknowledged")
        w.transition(number, "in_progress")
        w.transition(number, "resolved", "Done.")
    w.at(at(14, 9))  # two weeks later: auto-close is due at 09:05
    waiting = [submit(api, subject=f"Waiting {i}")["number"] for i in range(3)]
    small_reads = SweepService(
        deps.store(),
        deps.clock(),
        deps.policy(),
        deps.timers(),
        deps.notifier(),
        deps.directory(),
        batch=5,
    )

    w.at(at(14, 10, 40))
    report = small_reads.run(SLA)
    assert (report.due_soon, report.deferred, report.closed) == (3, 8, 0)
    assert sorted(n.number for n in w.sent()) == sorted(waiting)

    report = small_reads.run(frozenset({"autoclose"}))
    assert (report.closed, report.due_soon) == (8, 0)
    assert small_reads.run(frozenset({"sla", "autoclose"})).read == 0


SCENARIOS: list[Callable[[Api], None]] = [
    due_soon_breach_then_met_late,
    pause_and_resume,
    priority_change,
    concurrent_sweeps,
    chinese_messages_and_auto_close_notice,
    deferred_work_does_not_hide_due_tickets,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_sweep(api: Api, scenario: Callable[[Api], None]) -> None:
    """SQLite and DynamoDB on moto in-process."""
    scenario(api)


@pytest.fixture
def server_api(moto_server_url: str, tmp_path: Path) -> Iterator[Api]:
    """Like conftest's ``api``, on DynamoDB on moto's server over HTTP."""
    deps.reset()
    with make_store("dynamodb-server", tmp_path, moto_server_url) as store:
        settings = _settings(tmp_path, "dynamodb")
        deps.override(settings=settings, store=store)
        with Client(app, stage_name="local") as client:
            yield Api(client, "dynamodb-server", settings, raw_dump=lambda: "")
    deps.reset()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_sweep_on_moto_server(server_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(server_api)
