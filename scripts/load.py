"""Load without loss: concurrent clients submit and look up tickets, then every ticket is counted.

Usage (against a running ``make run`` / ``clearloop run`` stack; loopback only)::

    .venv/bin/python scripts/load.py --api http://127.0.0.1:8000 --clients 32 --seconds 60 \\
        --data-dir .local [--retry-rate 0.2] [--lookup-rate 0.5] [--seed 1] [--report out.json]

Every client comes from 127.0.0.1, one address to the API's per-client rate limits: start the
stack with ``CLEARLOOP_RATE_LIMITS=off make run`` (or raise the ``CLEARLOOP_RATE_*`` limits), or
the run measures the limiter's 429s instead of the store.

Each of ``--clients`` threads, for ``--seconds``, either looks up one of its acknowledged tickets
(``--lookup-rate``; ``GET /v1/tickets/{number}`` with the key) or submits feedback whose subject
carries a marker unique to the run and the request (``LOAD-<run>-<client>-<n>``), always with an
``Idempotency-Key``. A fraction (``--retry-rate``) is sent again with the same key and body: half
right after the answer (a client that did not trust it), half after a simulated timeout (the
request is sent in full, the connection dropped before the answer is read, then the request
repeated). A 503 or 429 is retried with the same key after ``Retry-After`` (a few times).

Afterwards it proves nothing was lost or duplicated, from two independent sides:

1. every acknowledged ticket is looked up with its number and key (200, same number), and every
   answer to a retried key named the same ticket as the first;
2. the store itself is listed through the staff CSV export (all statuses, every page), with an
   admin token the script creates with the operator CLI (``clearloop staff add`` and
   ``clearloop token issue --quiet`` with ``CLEARLOOP_DATA_DIR`` = ``--data-dir``, so it works
   the same on SQLite and on the DynamoDB stack, whose moto endpoint ``stack.json`` names), or
   with ``--token``. Each marker must appear exactly once, as the acknowledged number; a marker
   the script never sent, or sent but never saw acknowledged, must not appear at all.

A 503 may answer a write that did land (the store committed, then the answer timed out). A real
client resolves that by sending the request again with the same key, so when the clients stop,
every submission still unacknowledged is resent (same key and body) until it is answered; a
ticket that exists without ever being acknowledged is then a failure ("stored but never
acknowledged").

It prints throughput and p50/p95/p99 latency per operation, the status codes seen, and the
lost, duplicated and unexpected counts; the exit code is 1 on any loss, duplicate, unexpected or
unacknowledged ticket, or 5xx other than 503, else 0. ``--report FILE`` writes the same as
JSON.

Why the export and not the SQLite file: it reads both stores through one code path, and it
checks what the API's own listing returns (with the department scoping an admin sees, i.e.
everything). The script only talks to 127.0.0.1/localhost and caps clients (64) and seconds
(120), so it cannot be pointed at someone else's server or left running.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import io
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_CLIENTS = 64
MAX_SECONDS = 120
BUSY_RETRIES = 8  # answers to a 503/429 before a client moves on (and settles it later)
REQUEST_TIMEOUT = 35.0  # above API Gateway's 29 s: a slow answer is still an answer
REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ("service-waiting", "service-conduct", "environment-noise", "process-forms")


class LoadError(Exception):
    """A bad argument or an unusable target; the message says why."""


@dataclass(frozen=True)
class Options:
    api: str
    clients: int = 8
    seconds: float = 10.0
    retry_rate: float = 0.2
    lookup_rate: float = 0.5
    data_dir: Path | None = None
    token: str | None = None
    seed: int | None = None
    verify: bool = True


@dataclass
class Sample:
    op: str
    status: int  # 0: no answer (network error or deliberately dropped)
    seconds: float


@dataclass
class Submission:
    """One logical submission: its marker, key and body, and every answer it got."""

    marker: str
    idempotency_key: str
    body: dict[str, Any]
    numbers: list[str] = field(default_factory=list)  # the number of every 201
    keys: list[str] = field(default_factory=list)
    acknowledged: bool = False


@dataclass
class Report:
    run: str
    clients: int
    seconds: float
    operations: dict[str, dict[str, Any]]
    statuses: dict[str, dict[str, int]]
    sent: int
    acknowledged: int
    settled: int
    in_doubt: int
    lost: list[str]
    duplicated: list[str]
    unexpected: list[str]
    retry_mismatches: list[str]
    server_errors: int
    unavailable: int
    retry_after_missing: int
    verified_by: str

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.in_doubt
            or self.duplicated
            or self.unexpected
            or self.retry_mismatches
            or self.server_errors
            or self.retry_after_missing
        )


def check_target(url: str) -> tuple[str, int]:
    """The host and port of ``url``, refusing anything but plain HTTP on the loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise LoadError(f"--api must be an http:// URL, got {url!r}")
    if parts.hostname not in LOOPBACK:
        raise LoadError(
            f"refusing {parts.hostname!r}: load is only ever sent to this machine "
            f"({', '.join(sorted(LOOPBACK))})"
        )
    return parts.hostname, parts.port or 80


def check_options(options: Options) -> None:
    check_target(options.api)
    if not 1 <= options.clients <= MAX_CLIENTS:
        raise LoadError(f"--clients must be 1 to {MAX_CLIENTS}")
    if not 0 < options.seconds <= MAX_SECONDS:
        raise LoadError(f"--seconds must be more than 0 and at most {MAX_SECONDS}")
    for name in ("retry_rate", "lookup_rate"):
        if not 0 <= getattr(options, name) <= 1:
            raise LoadError(f"--{name.replace('_', '-')} must be between 0 and 1")
    if options.verify and options.token is None and options.data_dir is None:
        raise LoadError("verifying needs --data-dir (to create an admin token) or --token")


class Connection:
    """One keep-alive HTTP connection per client; reopened after any error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Status (0 on a network error), headers and body."""
        conn = self._open()
        try:
            conn.request(method, path, body=body, headers=dict(headers))
            answer = conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, {}, b""
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data

    def send_and_drop(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        """Send a whole request, then hang up without reading the answer (a client timeout)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=dict(headers))
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()


class Client(threading.Thread):
    """One simulated user: submissions with retries, and lookups of its own tickets."""

    def __init__(self, index: int, run: str, options: Options, stop_at: float) -> None:
        super().__init__(name=f"load-client-{index}", daemon=True)
        self.index = index
        self.run_id = run
        self.options = options
        self.stop_at = stop_at
        host, port = check_target(options.api)
        self.conn = Connection(host, port)
        self.rng = random.Random(None if options.seed is None else options.seed * 1000 + index)
        self.samples: list[Sample] = []
        self.submissions: list[Submission] = []
        self.unavailable = 0
        self.retry_after_missing = 0
        self.mismatches: list[str] = []

    def run(self) -> None:
        try:
            while time.monotonic() < self.stop_at:
                mine = [s for s in self.submissions[-200:] if s.acknowledged]
                if mine and self.rng.random() < self.options.lookup_rate:
                    self.lookup(self.rng.choice(mine))
                else:
                    self.submit_one()
        except Exception as e:  # a bug in the client must fail the run, not vanish
            self.mismatches.append(f"client {self.index} crashed: {e!r}")
        finally:
            self.conn.close()

    def timed(
        self, op: str, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        started = time.perf_counter()
        status, answer_headers, data = self.conn.request(method, path, body, headers)
        self.samples.append(Sample(op, status, time.perf_counter() - started))
        if status in (429, 503):
            self.unavailable += 1
            if "retry-after" not in answer_headers:
                self.retry_after_missing += 1
        return status, answer_headers, data

    def submit_one(self) -> None:
        n = len(self.submissions) + 1
        marker = f"LOAD-{self.run_id}-{self.index:02d}-{n:06d}"
        body = {
            "type": self.rng.choice(["complaint", "suggestion", "inquiry"]),
            "category": self.rng.choice(CATEGORIES),
            "subject": f"{marker} load test",
            "description": f"Submitted by scripts/load.py, client {self.index}, request {n}.",
            "consent_to_publish": self.rng.random() < 0.5,
        }
        sub = Submission(marker, str(uuid.uuid4()), body)
        self.submissions.append(sub)
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": sub.idempotency_key}
        retry = self.rng.random() < self.options.retry_rate
        if retry and self.rng.random() < 0.5:
            # The client times out: the request arrives, the answer is never read.
            self.conn.send_and_drop("POST", "/v1/feedback", payload, headers)
            self.samples.append(Sample("submit-dropped", 0, 0.0))
        self.post_until_answered(sub, payload, headers, "submit")
        if retry and sub.acknowledged:
            self.post_until_answered(sub, payload, headers, "submit-retry")

    def post_until_answered(
        self, sub: Submission, payload: bytes, headers: Mapping[str, str], op: str
    ) -> None:
        for _ in range(BUSY_RETRIES):
            status, answer_headers, data = self.timed(op, "POST", "/v1/feedback", payload, headers)
            if status == 201:
                created = json.loads(data)
                if sub.numbers and created["number"] != sub.numbers[0]:
                    self.mismatches.append(
                        f"{sub.marker}: key {sub.idempotency_key} gave {sub.numbers[0]} "
                        f"then {created['number']}"
                    )
                sub.numbers.append(created["number"])
                sub.keys.append(created["key"])
                sub.acknowledged = True
                return
            if status in (0, 409, 429, 503):  # no answer, still in flight, busy: same key again
                wait = answer_headers.get("retry-after", "0.2")
                time.sleep(min(float(wait) if wait.isdigit() else 0.2, 2.0) * self.rng.random())
                continue
            return  # anything else is a failure of the request itself (counted by status)

    def settle(self) -> int:
        """Resend every unacknowledged submission (same key and body); how many were."""
        pending = [s for s in self.submissions if not s.acknowledged]
        for sub in pending:
            headers = {"Content-Type": "application/json", "Idempotency-Key": sub.idempotency_key}
            for _ in range(3):
                self.post_until_answered(sub, json.dumps(sub.body).encode(), headers, "settle")
                if sub.acknowledged:
                    break
        self.conn.close()
        return len(pending)

    def lookup(self, sub: Submission) -> None:
        number, key = sub.numbers[0], sub.keys[0]
        status, _, data = self.timed(
            "lookup", "GET", f"/v1/tickets/{quote(number)}", None, {"X-Ticket-Key": key}
        )
        if status == 200 and json.loads(data).get("number") != number:
            self.mismatches.append(f"{sub.marker}: lookup of {number} answered another ticket")


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(samples: Sequence[Sample], seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_op[s.op].append(s)
    operations, statuses = {}, {}
    for op, items in sorted(by_op.items()):
        times = [s.seconds for s in items if s.status]
        operations[op] = {
            "count": len(items),
            "per_second": round(len(items) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(percentile(times, 0.50) * 1000, 1),
            "p95_ms": round(percentile(times, 0.95) * 1000, 1),
            "p99_ms": round(percentile(times, 0.99) * 1000, 1),
        }
        statuses[op] = dict(sorted(Counter(str(s.status) for s in items).items()))
    return operations, statuses


def admin_token(data_dir: Path, run: str) -> str:
    """Create an admin and a token with the operator CLI, on the stack's store."""
    # Absolute: the CLI runs in api/, where a relative --data-dir (".local") would name another
    # folder, with another store and keyring.
    env = dict(os.environ, CLEARLOOP_DATA_DIR=str(data_dir.resolve()))
    env.pop("CLEARLOOP_STORE", None)  # let the CLI read the stack's stack.json
    staff_id = f"load-{run.lower()}"
    base = [sys.executable, "-m", "chalicelib.cli"]
    for argv in (
        [*base, "staff", "add", staff_id, "--name", "Load test", "--role", "admin"],
        [*base, "token", "issue", staff_id, "--days", "1", "--quiet", "--label", "load.py"],
    ):
        done = subprocess.run(
            argv, cwd=REPO / "api", env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise LoadError(f"{' '.join(argv[3:])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1]


def export_subjects(api: str, token: str) -> list[tuple[str, str]]:
    """(number, subject) of every ticket in the store, through the staff CSV export."""
    host, port = check_target(api)
    conn = Connection(host, port)
    rows: list[tuple[str, str]] = []
    cursor: str | None = None
    try:
        while True:
            path = "/v1/staff/export.csv" + (f"?cursor={quote(cursor)}" if cursor else "")
            status, headers, data = conn.request(
                "GET", path, None, {"Authorization": f"Bearer {token}"}
            )
            if status != 200:
                raise LoadError(f"the export answered {status}: {data[:300]!r}")
            for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
                rows.append((row["number"], row["subject"]))
            cursor = headers.get("x-next-cursor")
            if not cursor:
                return rows
    finally:
        conn.close()


def lookup_all(api: str, subs: Sequence[Submission], workers: int) -> list[str]:
    """Every acknowledged ticket, looked up with its number and key; the problems found."""
    host, port = check_target(api)
    problems: list[str] = []
    lock = threading.Lock()
    pending = list(subs)

    def work() -> None:
        conn = Connection(host, port)
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    sub = pending.pop()
                number, key = sub.numbers[0], sub.keys[0]
                for _ in range(BUSY_RETRIES):
                    status, _, data = conn.request(
                        "GET", f"/v1/tickets/{quote(number)}", None, {"X-Ticket-Key": key}
                    )
                    if status not in (0, 429, 503):
                        break
                    time.sleep(0.5)
                if status != 200 or json.loads(data).get("number") != number:
                    with lock:
                        problems.append(f"{sub.marker}: {number} answered {status}")
        finally:
            conn.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return problems


def verify(
    options: Options, run: str, subs: Sequence[Submission]
) -> tuple[list[str], list[str], list[str], int]:
    """Lost, duplicated and unexpected markers, and how many unacknowledged ones exist."""
    acknowledged = [s for s in subs if s.acknowledged]
    lost = lookup_all(options.api, acknowledged, options.clients)
    token = options.token or admin_token(options.data_dir or Path(), run)
    stored: dict[str, list[str]] = defaultdict(list)
    prefix = f"LOAD-{run}-"
    for number, subject in export_subjects(options.api, token):
        if subject.startswith(prefix):
            stored[subject.split(" ", 1)[0]].append(number)
    by_marker = {s.marker: s for s in subs}
    duplicated, unexpected, in_doubt = [], [], 0
    for marker, numbers in sorted(stored.items()):
        sub = by_marker.get(marker)
        if len(numbers) > 1:
            duplicated.append(f"{marker}: stored as {', '.join(sorted(numbers))}")
        if sub is None:
            unexpected.append(f"{marker}: stored as {numbers[0]} but never sent")
        elif not sub.acknowledged:
            in_doubt += 1
        elif numbers[0] != sub.numbers[0]:
            unexpected.append(f"{marker}: acknowledged as {sub.numbers[0]}, stored as {numbers}")
    for sub in acknowledged:
        if sub.marker not in stored:
            lost.append(f"{sub.marker}: acknowledged as {sub.numbers[0]}, not in the export")
    return lost, duplicated, unexpected, in_doubt


def run_load(
    options: Options,
    *,
    during: Callable[[float], None] | None = None,
    out: Callable[[str], None] = print,
) -> Report:
    """Run the clients, verify, and return the report. ``during(elapsed)`` is called about
    every 100 ms while the clients run (fault-injection tests use it)."""
    check_options(options)
    run = secrets.token_hex(4).upper()
    started = time.monotonic()
    stop_at = started + options.seconds
    clients = [Client(i, run, options, stop_at) for i in range(options.clients)]
    out(f"run {run}: {options.clients} clients for {options.seconds:g}s against {options.api}")
    for client in clients:
        client.start()
    while any(c.is_alive() for c in clients):
        if during is not None:
            during(time.monotonic() - started)
        for c in clients:
            c.join(timeout=0.1 / len(clients))
    elapsed = time.monotonic() - started
    # A client that gave up after repeated 503s still holds its request: like a real client, it
    # sends it again (same key and body) once the run is over, until it is answered.
    settled = sum(c.settle() for c in clients)
    samples = [s for c in clients for s in c.samples]
    subs = [s for c in clients for s in c.submissions]
    operations, statuses = summarise(samples, elapsed)
    lost: list[str] = []
    duplicated: list[str] = []
    unexpected: list[str] = []
    in_doubt = 0
    if options.verify:
        lost, duplicated, unexpected, in_doubt = verify(options, run, subs)
    mismatches = [m for c in clients for m in c.mismatches]
    report = Report(
        run=run,
        clients=options.clients,
        seconds=round(elapsed, 1),
        operations=operations,
        statuses=statuses,
        sent=len(subs),
        acknowledged=sum(s.acknowledged for s in subs),
        settled=settled,
        in_doubt=in_doubt,
        lost=lost,
        duplicated=duplicated,
        unexpected=unexpected,
        retry_mismatches=mismatches,
        server_errors=sum(1 for s in samples if s.status >= 500 and s.status != 503),
        unavailable=sum(c.unavailable for c in clients),
        retry_after_missing=sum(c.retry_after_missing for c in clients),
        verified_by="lookups + staff CSV export" if options.verify else "not verified",
    )
    out(format_report(report))
    return report


def format_report(r: Report) -> str:
    lines = [
        f"run {r.run}: {r.clients} clients, {r.seconds}s",
        f"{'operation':<16}{'count':>8}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        "  statuses",
    ]
    for op, m in r.operations.items():
        codes = " ".join(f"{k}x{v}" for k, v in r.statuses[op].items())
        lines.append(
            f"{op:<16}{m['count']:>8}{m['per_second']:>9}{m['p50_ms']:>9}{m['p95_ms']:>9}"
            f"{m['p99_ms']:>9}  {codes}"
        )
    lines += [
        f"submissions: {r.sent} sent, {r.acknowledged} acknowledged ({r.settled} only after "
        f"the run), {r.in_doubt} stored but never acknowledged; 503/429 answers: {r.unavailable} "
        f"(without Retry-After: {r.retry_after_missing}); other 5xx: {r.server_errors}",
        f"verified by {r.verified_by}: lost {len(r.lost)}, duplicated {len(r.duplicated)}, "
        f"unexpected {len(r.unexpected)}, retries answered differently "
        f"{len(r.retry_mismatches)}",
    ]
    for name in ("lost", "duplicated", "unexpected", "retry_mismatches"):
        for item in getattr(r, name)[:20]:
            lines.append(f"  {name}: {item}")
    lines.append("OK: nothing lost or duplicated" if r.ok else "FAILED")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--api", required=True, help="the API base URL (loopback only)")
    parser.add_argument("--clients", type=int, default=8, help=f"1 to {MAX_CLIENTS}")
    parser.add_argument("--seconds", type=float, default=10, help=f"at most {MAX_SECONDS}")
    parser.add_argument("--retry-rate", type=float, default=0.2)
    parser.add_argument("--lookup-rate", type=float, default=0.5)
    parser.add_argument("--data-dir", type=Path, help="the stack's data folder (admin token)")
    parser.add_argument("--token", help="an admin token (instead of --data-dir)")
    parser.add_argument("--seed", type=int, help="seed the clients' choices")
    parser.add_argument("--no-verify", action="store_true", help="skip the store check")
    parser.add_argument("--report", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    options = Options(
        api=args.api.rstrip("/"),
        clients=args.clients,
        seconds=args.seconds,
        retry_rate=args.retry_rate,
        lookup_rate=args.lookup_rate,
        data_dir=args.data_dir,
        token=args.token,
        seed=args.seed,
        verify=not args.no_verify,
    )
    try:
        report = run_load(options)
    except LoadError as e:
        print(f"load.py: {e}", file=sys.stderr)
        return 2
    if args.report:
        args.report.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
