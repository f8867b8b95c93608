"""Benchmark: the SLA sweep reads only what is due, however many tickets are open.

Usage::

    .venv/bin/python scripts/bench_sweep.py [--open 100000] [--small 1000] [--due 100]
        [--repeat 7] [--dynamodb-open 200] [--skip-dynamodb]

Targets (the exit code is 1 if any is missed):

1. every sweep over ``--due`` due tickets reads at most ``1.5 x --due`` items, counted by the
   store's own ``items_read`` (rows returned on SQLite, ``ScannedCount`` on DynamoDB), on every
   adapter;
2. on SQLite, the median sweep over ``--open`` open tickets takes at most 1.5 times the median
   sweep over ``--small`` open tickets, measured in the same run (runs alternate between the two
   databases so drift hits both alike).

Every sweep runs through ``SweepService`` (the use case the schedule calls), with a notifier that
counts messages in memory. Only the data is loaded around the adapters, in bulk, with the
adapters' own row and item encoders: one SQLite transaction per 10,000 tickets, DynamoDB
``BatchWriteItem``. Between SQLite repetitions the due tickets are re-armed through
``save_tickets`` (their original state, at the next version), so each repetition sweeps the same
100 tickets on the same database.

DynamoDB runs on moto in-process, with far fewer open tickets: moto answers an index query by
walking the table in Python and copies the whole table for every TransactWriteItems (its
rollback), so a 100 ms sweep on DynamoDB takes minutes on a 100,000-item moto table. Its times
say nothing about DynamoDB; the items read are what carries over, because the sweep's one read,
the due-index query, reads the same items on DynamoDB as on moto (its ``ScannedCount`` counts
only items inside the key condition, never the rest of the table).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
API_DIR = ROOT / "api"
if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))

from chalicelib.domain.departments import Directory, load_directory  # noqa: E402
from chalicelib.domain.numbers import format_number  # noqa: E402
from chalicelib.domain.sla import DEFAULT_POLICY_PATH, compute_deadlines, load_policy_file  # noqa: E402
from chalicelib.domain.sla_state import Timers, next_due  # noqa: E402
from chalicelib.domain.tickets import Event, Ticket  # noqa: E402
from chalicelib.notify.port import Notification  # noqa: E402
from chalicelib.services.sweep import SweepReport, SweepService  # noqa: E402
from chalicelib.store.port import TicketChange  # noqa: E402

READ_FACTOR = 1.5
TIME_FACTOR = 1.5
BULK_ROWS = 10_000
# The sweep runs at 11:50 on a Monday. Due: P2 complaints submitted at 09:00 (first response
# breached at 11:00) and at 10:00 (due soon since 11:36). Not due: tickets submitted from 11:00
# on, whose first warning is after 11:50 (P2 at 12:36 at the earliest, P3 days later).
NOW = datetime(2026, 11, 23, 11, 50, tzinfo=UTC)
POLICY = load_policy_file(DEFAULT_POLICY_PATH)
TIMERS = Timers(autoclose_after=timedelta(days=14), contact_retention=timedelta(days=365))
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


class FixedClock:
    def now(self) -> datetime:
        return NOW


class CountingNotifier:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, notification: Notification) -> None:
        self.sent += 1


def directory() -> Directory:
    data = json.loads((API_DIR / "chalicelib" / "data" / "departments.json").read_text())
    return load_directory(data, set())


# --- data ----------------------------------------------------------------------------------------


def _template(submitted: datetime, ticket_type: str, priority: str) -> Ticket:
    ticket = Ticket(
        number="FB-0000-0000",
        type=ticket_type,
        category="service-waiting",
        subject="Long queue at counter 3",
        description="Waited two hours at counter 3; nobody explained the delay. " * 4,
        location=None,
        channel="web",
        priority=priority,
        department="customer-service",
        status="received",
        submitted_at=submitted,
        updated_at=submitted,
        deadlines=compute_deadlines(submitted, priority, POLICY),
        key_hash="sha256:" + "ab" * 32,
        language="en",
        consent_to_publish=False,
        event_seq=1,
    )
    return ticket.replace(due_at=next_due(ticket, POLICY, TIMERS))


def tickets(open_count: int, due: int, seed: int) -> Iterator[tuple[Ticket, list[Event]]]:
    """``open_count`` open tickets, the first ``due`` of them due at ``NOW``, each with its
    "submitted" event. Deadlines come from a few hundred templates (the calendar arithmetic is
    the slow part); every ticket has its own random number."""
    rng = random.Random(seed)
    due_templates = [
        _template(NOW.replace(hour=9, minute=0), "complaint", "P2"),
        _template(NOW.replace(hour=10, minute=0), "complaint", "P2"),
    ]
    later = [
        _template(NOW.replace(hour=11, minute=0) + timedelta(seconds=7 * i), kind, priority)
        for i in range(400)
        for kind, priority in (("complaint", "P2"), ("suggestion", "P3"))
    ]
    for template in [*due_templates, *later]:
        is_due = template.due_at is not None and template.due_at < NOW
        if is_due != (template in due_templates):
            raise SystemExit(f"bad template: due at {template.due_at}, sweep at {NOW}")
    numbers: set[str] = set()
    for i in range(open_count):
        number = format_number(rng.getrandbits(48).to_bytes(6, "big"), "FB")
        if number in numbers:
            continue  # one in many billions; the count check below would notice
        numbers.add(number)
        template = due_templates[i % 2] if i < due else later[rng.randrange(len(later))]
        ticket = template.replace(number=number)
        event = Event(
            number=number,
            seq=1,
            at=ticket.submitted_at,
            kind="submitted",
            public=True,
            actor="submitter",
            actor_label="submitter",
            data={"channel": "web"},
        )
        yield ticket, [event]


def load_sqlite(path: Path, open_count: int, due: int, seed: int) -> tuple[Any, list[Ticket]]:
    """A migrated SQLite store holding the tickets, written in bulk transactions with the
    adapter's own row encoding (``create_ticket`` one by one would take minutes)."""
    from chalicelib.store import codec
    from chalicelib.store import sqlite as adapter

    store = adapter.SqliteStore(path)
    store.migrate()
    due_tickets: list[Ticket] = []
    batch: list[tuple[Ticket, list[Event]]] = []

    def flush() -> None:
        # The INSERT of SqliteStore.create_ticket, many rows per transaction (no idempotency
        # record, no rollups: the sweep reads neither).
        rows = [adapter._ticket_row(t, codec.ticket_to_record(t)) for t, _ in batch]
        marks = ", ".join("?" * len(rows[0]))
        with store._write() as conn:
            conn.executemany(
                f"INSERT INTO tickets ({adapter._TICKET_COLUMNS}) VALUES ({marks})",  # noqa: S608
                rows,
            )
            adapter._insert_events(conn, [e for _, events in batch for e in events])
        batch.clear()

    for ticket, events in tickets(open_count, due, seed):
        if len(due_tickets) < due:
            due_tickets.append(ticket)
        batch.append((ticket, events))
        if len(batch) == BULK_ROWS:
            flush()
    if batch:
        flush()
    rows = store._read("SELECT count(*) FROM tickets", ())[0][0]
    if rows != open_count:
        raise SystemExit(f"loaded {rows} tickets, expected {open_count}")
    return store, due_tickets


@contextmanager
def dynamodb_store(open_count: int, due: int, seed: int) -> Iterator[tuple[Any, list[Ticket]]]:
    """A DynamoDB store on moto in-process, loaded with BatchWriteItem and the adapter's own
    item encoding."""
    os.environ.update(FAKE_AWS)
    import boto3
    from moto import mock_aws

    from chalicelib.store.dynamodb import store as adapter
    from chalicelib.store.dynamodb.schema import create_table

    with mock_aws():
        client = boto3.session.Session().client("dynamodb", region_name="us-east-1")
        create_table(client, "clearloop-bench", poll_seconds=1)
        store = adapter.DynamoTicketStore("clearloop-bench", lambda: client)
        due_tickets: list[Ticket] = []
        batch: list[dict[str, Any]] = []
        for ticket, events in tickets(open_count, due, seed):
            if len(due_tickets) < due:
                due_tickets.append(ticket)
            batch.append({"PutRequest": {"Item": adapter._to_item(adapter._ticket_item(ticket))}})
            batch += [
                {"PutRequest": {"Item": adapter._to_item(adapter._event_item(e))}} for e in events
            ]
            if len(batch) >= 24:
                client.batch_write_item(RequestItems={"clearloop-bench": batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={"clearloop-bench": batch})
        yield store, due_tickets


def rearm(store: Any, originals: list[Ticket]) -> None:
    """Put each due ticket back in its original state, at its next version (through the
    port), so the next repetition has the same work to do."""
    changes = []
    for original in originals:
        view = store.get_ticket(original.number)
        current = view.ticket
        again = original.replace(version=current.version + 1, event_seq=current.event_seq)
        changes.append(TicketChange(again, current.version, []))
    for change in changes:
        store.save_tickets([change])


# --- measuring -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Sweep:
    seconds: float
    items_read: int
    report: SweepReport
    notifications: int


def sweep(store: Any) -> Sweep:
    notifier = CountingNotifier()
    service = SweepService(store, FixedClock(), POLICY, TIMERS, notifier, directory())
    read_before = store.items_read
    started = time.perf_counter()
    report = service.run(frozenset({"sla"}))
    seconds = time.perf_counter() - started
    return Sweep(seconds, store.items_read - read_before, report, notifier.sent)


def check_sweep(label: str, result: Sweep, due: int, failures: list[str]) -> None:
    r = result.report
    print(
        f"  {label}: {result.seconds * 1000:8.1f} ms, items read {result.items_read} "
        f"(target <= {int(due * READ_FACTOR)}), due soon {r.due_soon}, breached {r.breached}, "
        f"notifications {result.notifications}"
    )
    if result.items_read > due * READ_FACTOR:
        failures.append(f"{label}: read {result.items_read} items for {due} due tickets")
    if r.due_soon + r.breached != due or result.notifications != due:
        failures.append(f"{label}: handled {r.due_soon + r.breached} of {due} due tickets")


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = step()
    print(f"  {label}: {time.perf_counter() - started:.1f} s")
    return value


def bench_sqlite(args: argparse.Namespace, failures: list[str]) -> None:
    print(f"SQLite: {args.small:,} and {args.open:,} open tickets, {args.due} due in each")
    with tempfile.TemporaryDirectory(prefix="clearloop-bench-") as tmp:
        small = timed(
            f"load {args.small:,}",
            lambda: load_sqlite(Path(tmp) / "small.db", args.small, args.due, seed=1),
        )
        large = timed(
            f"load {args.open:,}",
            lambda: load_sqlite(Path(tmp) / "large.db", args.open, args.due, seed=2),
        )
        times: dict[str, list[float]] = {"small": [], "large": []}
        for rep in range(args.repeat + 1):  # the first round warms caches and is not counted
            for name, (store, originals) in (("small", small), ("large", large)):
                if rep:
                    rearm(store, originals)
                result = sweep(store)
                label = f"{name} #{rep}" if rep else f"{name} warm-up"
                check_sweep(label, result, args.due, failures)
                if rep:
                    times[name].append(result.seconds)
        for store, _ in (small, large):
            store.close()
    small_median = statistics.median(times["small"])
    large_median = statistics.median(times["large"])
    ratio = large_median / small_median
    print(
        f"  median sweep: {small_median * 1000:.1f} ms over {args.small:,} open, "
        f"{large_median * 1000:.1f} ms over {args.open:,} open: ratio {ratio:.2f} "
        f"(target <= {TIME_FACTOR})"
    )
    if ratio > TIME_FACTOR:
        failures.append(f"SQLite: sweep time ratio {ratio:.2f} > {TIME_FACTOR}")


def bench_dynamodb(args: argparse.Namespace, failures: list[str]) -> None:
    print(
        f"DynamoDB (moto in-process): {args.dynamodb_open:,} open tickets, {args.due} due "
        f"(not {args.open:,}: moto copies the whole table on every transaction and walks it for "
        "every index query, so its times are not DynamoDB's; items read are)"
    )
    started = time.perf_counter()
    with dynamodb_store(args.dynamodb_open, args.due, seed=3) as (store, _):
        print(f"  load {args.dynamodb_open:,}: {time.perf_counter() - started:.1f} s")
        result = sweep(store)
        check_sweep("sweep", result, args.due, failures)
        again = sweep(store)
        print(f"  sweep again: items read {again.items_read}, notifications {again.notifications}")
        if again.notifications or again.items_read:
            failures.append("DynamoDB: a second sweep read or sent something")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tickets, large run")
    parser.add_argument("--small", type=int, default=1_000, help="open tickets, small run")
    parser.add_argument("--due", type=int, default=100, help="due tickets in every run")
    parser.add_argument("--repeat", type=int, default=7, help="timed sweeps per SQLite size")
    parser.add_argument("--dynamodb-open", type=int, default=200, help="open tickets on moto")
    parser.add_argument("--skip-dynamodb", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.due <= min(args.small, args.open, args.dynamodb_open):
        parser.error("--due must be positive and at most every open count")

    failures: list[str] = []
    started = time.perf_counter()
    bench_sqlite(args, failures)
    if not args.skip_dynamodb:
        bench_dynamodb(args, failures)
    print(f"total {time.perf_counter() - started:.0f} s")
    for failure in failures:
        print(f"MISSED: {failure}", file=sys.stderr)
    if not failures:
        print("all targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
