"""Performance benchmarks (issue #10): one table of figures, also written to the docs.

Usage::

    .venv/bin/python scripts/bench.py [--only import,first,handler,dynamodb,scaling,site]
        [--quick] [--no-write]

``make bench`` runs it with no options. Every figure is measured side by side with its floor in
the same run (interleaved, medians or p50s), because this 2-core machine is noisy: absolute
times from different runs do not compare, ratios within one run do.

| figure | floor | target |
| --- | --- | --- |
| cold import of ``app.py`` (median of 20 fresh processes) | ``import chalice, boto3`` | <= 1.25x |
| first request after a cold import, in process | the same app's second request | reported |
| status lookup through the Lambda handler | the adapter's bare ``get_ticket`` | <= 1.3x p50 |
| submission through the Lambda handler | the adapter's bare ``create_ticket`` | <= 1.3x p50 |
| DynamoDB requests: submit; lookup; transition | 1 tx; 1 update, 1 query; 1 query, 1 tx | equal |
| sweep and publish scaling | ``scripts/bench_sweep.py``, ``scripts/bench_publish.py`` | theirs |
| site: own JS+CSS, page weight, requests | - | <= 30 kB; no third party |

The public requests' DynamoDB floors include the per-client rate limiter: a submission's charge
is one more item of its own transaction (no request of its own), a lookup's is one ``UpdateItem``
of the client's counter, which also returns the client's key failures (with or without a key).
The limiter's counters go through their own client; both clients are metered.

The handler figures call ``app(event, context)`` with API Gateway (REST, proxy) events built here,
on SQLite and on DynamoDB (moto in-process), with the store ``deps`` builds in production
(``RetryingStore`` around the adapter); the floor is the same adapter's bare call.

DynamoDB capacity: moto does not report consumed capacity (it answers a constant placeholder for
single-item calls and queries, nothing for ``TransactWriteItems``). The script records what moto
says, counts the requests with botocore's ``before-parameter-build`` hook, and computes the units
from DynamoDB's documented rules (item sizes from the attribute names and values sent or read):
strongly consistent reads 1 RCU per 4 KB (at least 1), writes 1 WCU per 1 KB of the larger of the
old and new item, transactional writes twice that, index writes (all GSIs project ALL) 1 WCU per
1 KB of the index entry, twice when the index key changes.

The generated part of ``site/docs/performance.md`` (between the ``bench:generated`` markers) is
rewritten on every full run; the rest of the page is hand-written and kept. A missed target is
accepted only when that hand-written part explains it with a ``<!-- explains: ID -->`` marker
(the figure's ID is printed next to it); otherwise the script exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
API_DIR = ROOT / "api"
DOCS_PAGE = ROOT / "site" / "docs" / "performance.md"
SITE_BUILD = ROOT / "build" / "site-bench"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
API_BASE = "http://127.0.0.1:8000"  # written into the built site; requests to it are answered here

GENERATED_START = "<!-- bench:generated:start -->"
GENERATED_END = "<!-- bench:generated:end -->"
EXPLAINS = re.compile(r"<!--\s*explains:\s*([\w.-]+)\s*-->")

IMPORT_RATIO = 1.25
HANDLER_RATIO = 1.3
OWN_ASSET_BYTES = 30_000  # "30 KB": decimal kilobytes, uncompressed
# The project's own JS and CSS: the site's modules and styles, and the publisher's stylesheet.
OWN_ASSETS = ("/assets/js/", "/assets/css/", "/assets/published/")

# Fake credentials for every AWS client made here: real ones must never be used.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}

FEEDBACK = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "Long queue at counter 3",
    "description": (
        "I waited almost two hours at counter 3 on Monday morning and nobody explained the "
        "delay. Two of the four counters were closed."
    ),
    "consent_to_publish": True,
    "language": "en",
}


# --- results --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Figure:
    """One row of the table."""

    id: str
    figure: str
    measured: str
    floor: str
    ratio: str
    target: str
    ok: bool | None  # None: reported, no target

    @property
    def result(self) -> str:
        return {True: "met", False: "MISSED", None: "reported"}[self.ok]


@dataclasses.dataclass
class Run:
    figures: list[Figure] = dataclasses.field(default_factory=list)
    details: list[str] = dataclasses.field(default_factory=list)  # markdown sections

    def add(self, *figures: Figure) -> None:
        for f in figures:
            self.figures.append(f)
            print(f"  [{f.result}] {f.figure}: {f.measured} vs {f.floor} ({f.ratio}) [{f.id}]")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"


def kb(n: float) -> str:
    return f"{n / 1000:.1f} kB"


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) >= 10 else max(values)


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment without Clearloop settings, with fake AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLOOP_", "AWS_"))}
    env.update(FAKE_AWS)
    env.update(extra)
    return env


# --- API Gateway events ---------------------------------------------------------------------------


class LambdaContext:
    """The attributes of Lambda's context object that Chalice and the app may read."""

    function_name = "clearloop-prod-api_handler"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:clearloop-prod"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/clearloop-prod-api_handler"
    log_stream_name = "2026/11/23/[$LATEST]bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def proxy_event(
    method: str,
    resource: str,
    path_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API proxy-integration event, as the deployed gateway sends it."""
    path = resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    all_headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate, br",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "Origin": "https://feedback.example.org",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
        "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": "23/Nov/2026:09:00:00 +0000",
            "path": "/api" + path,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "api",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795424400000,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "bench"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def submit_event(feedback: dict[str, Any] = FEEDBACK, idempotent: bool = True) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if idempotent:  # the site's form always sends one
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return proxy_event("POST", "/v1/feedback", None, headers, json.dumps(feedback))


def lookup_event(number: str, key: str | None) -> dict[str, Any]:
    headers = {} if key is None else {"X-Ticket-Key": key}
    return proxy_event("GET", "/v1/tickets/{number}", {"number": number}, headers)


def transition_event(number: str, token: str, version: int, status: str) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "If-Match": f'"{version}"',
    }
    return proxy_event(
        "POST",
        "/v1/staff/tickets/{number}/transitions",
        {"number": number},
        headers,
        json.dumps({"status": status}),
    )


def answer(response: dict[str, Any], status: int) -> dict[str, Any]:
    """The JSON body of a handler response, after checking its status code."""
    if response["statusCode"] != status:
        raise RuntimeError(f"expected {status}, got {response['statusCode']}: {response['body']}")
    body: dict[str, Any] = json.loads(response["body"])
    return body


# --- 1. cold import -------------------------------------------------------------------------------

IMPORT_CHILD = """
import sys, time
sys.path.insert(0, {api!r})
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""


def time_import(statement: str, after: str = "") -> float:
    code = IMPORT_CHILD.format(api=str(API_DIR), statement=statement) + after
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=API_DIR,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[0])


def modules_of_app() -> list[str]:
    """The project's modules that ``import app`` loads (what each cold start pays for)."""
    listing = "print(sorted(m for m in sys.modules if m.startswith(('chalicelib', 'boto'))))"
    code = IMPORT_CHILD.format(api=str(API_DIR), statement="import app") + listing
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=API_DIR,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    names: list[str] = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own output
    return names


def bench_import(run: Run, repeats: int) -> None:
    print(f"cold import: {repeats} fresh processes each, interleaved")
    statements = {"app": "import app", "floor": "import chalice, boto3"}
    for statement in statements.values():  # compiles .pyc files on a fresh clone; not counted
        time_import(statement)
    times: dict[str, list[float]] = {"app": [], "floor": []}
    for i in range(repeats):
        order = ["app", "floor"] if i % 2 == 0 else ["floor", "app"]
        for name in order:
            times[name].append(time_import(statements[name]))
    app_median, floor_median = p50(times["app"]), p50(times["floor"])
    ratio = app_median / floor_median
    run.add(
        Figure(
            "cold-import",
            f"cold import of `app.py` (median of {repeats} processes)",
            ms(app_median),
            f"`import chalice, boto3`: {ms(floor_median)}",
            f"{ratio:.2f}x",
            f"<= {IMPORT_RATIO}x",
            ratio <= IMPORT_RATIO,
        )
    )
    modules = modules_of_app()
    ours = [m for m in modules if m.startswith("chalicelib")]
    boto = [m for m in modules if not m.startswith("chalicelib")]
    run.details.append(
        "### Cold import\n\n"
        f"Each figure is the `import` statement's own time inside a fresh `python -c` process "
        f"(interpreter start-up excluded), {repeats} processes each, alternating.\n\n"
        "| import | median | min | max |\n| --- | --- | --- | --- |\n"
        + "".join(
            f"| `{statements[n]}` | {ms(p50(t))} | {ms(min(t))} | {ms(max(t))} |\n"
            for n, t in times.items()
        )
        + f"\n`import app` loads {len(ours)} of the project's modules: "
        + ", ".join(f"`{m}`" for m in ours)
        + (f"; and {len(boto)} of boto3's and botocore's.\n" if boto else "; and no boto3.\n")
    )


# --- stores for the in-process figures ------------------------------------------------------------


@dataclasses.dataclass
class Harness:
    """The app, configured through ``deps`` on one store, and that store's bare adapter."""

    kind: str
    app: Any
    adapter: Any  # the adapter inside the RetryingStore that deps built
    settings: Any
    raw_client: Any = None  # DynamoDB only: a client without the meter's hooks

    def call(self, event: dict[str, Any], status: int) -> dict[str, Any]:
        return answer(self.app(event, LambdaContext()), status)

    def send(self, event: dict[str, Any], status: int) -> None:
        """The request, its status checked, its body not decoded: the timed form (the Chalice
        floor's answer is not decoded either)."""
        response = self.app(event, LambdaContext())
        if response["statusCode"] != status:
            raise RuntimeError(f"expected {status}, got {response['statusCode']}")

    def submit(self) -> tuple[str, str]:
        body = self.call(submit_event(), 201)
        return str(body["number"]), str(body["key"])


def settings_env(kind: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        "CLEARLOOP_STAGE": "local",
        "CLEARLOOP_STORE": kind,
        "CLEARLOOP_DATA_DIR": str(data_dir),
        "CLEARLOOP_TABLE": "clearloop-bench",
        "CLEARLOOP_OUTBOX_FILE": str(data_dir / "outbox.jsonl"),
        "CLEARLOOP_PUBLISH_DIR": str(data_dir / "site"),
        **FAKE_AWS,
    }
    # Every bench request comes from one address: per-client limits stay on (their counter is
    # part of what a request costs) but high enough never to refuse one.
    from chalicelib.domain.rate_limits import ACTIONS

    env.update({f"CLEARLOOP_RATE_{a.upper()}": "1000000/1m" for a in ACTIONS})
    env.update(extra)
    return env


@contextlib.contextmanager
def harness(kind: str) -> Iterator[Harness]:
    """The app on a fresh store: ``sqlite`` (a file) or ``dynamodb`` (moto in-process)."""
    from app import app
    from chalicelib import deps
    from chalicelib.config import Settings

    with tempfile.TemporaryDirectory(prefix="clearloop-bench-") as tmp:
        settings = Settings.from_env(settings_env(kind, Path(tmp)))
        with contextlib.ExitStack() as stack:
            raw_client = None
            if kind == "dynamodb":
                from moto import mock_aws

                from chalicelib.store.dynamodb.schema import create_table
                from chalicelib.store.dynamodb.store import make_client

                stack.enter_context(mock_aws())
                raw_client = make_client(settings)
                create_table(raw_client, settings.table_name, poll_seconds=1)
            deps.reset()
            deps.override(settings=settings)
            store = deps.store()  # RetryingStore(adapter), as deps builds it in production
            try:
                yield Harness(kind, app, store.inner, settings, raw_client)
            finally:
                if kind == "sqlite":
                    store.close()
                deps.reset()


def clone_ticket(h: Harness, number: str, idem_key: str) -> tuple[Any, ...]:
    """The stored ticket ``number`` with its events, idempotency record and rollup increments,
    under a fresh number: what the adapter is given to create the same ticket again."""
    from chalicelib.domain import numbers, rollups
    from chalicelib.store.port import IdempotencyRecord

    view = h.adapter.get_ticket(number)
    now = view.ticket.submitted_at
    record = h.adapter.get_idempotency(idem_hash(idem_key), now)
    new = numbers.format_number(os.urandom(numbers.RANDOM_BYTES_FOR_NUMBER), numbers_prefix(h))
    ticket = view.ticket.replace(number=new)
    events = [dataclasses.replace(e, number=new) for e in view.events]
    clone_record = IdempotencyRecord(
        key_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        request_hash=record.request_hash,
        number=new,
        response={**record.response, "number": new},
        created_at=record.created_at,
        expires_at=record.expires_at,
    )
    from chalicelib import deps

    delta = rollups.delta(None, ticket, deps.policy().calendar.timezone)
    return ticket, events, clone_record, delta


def numbers_prefix(h: Harness) -> str:
    return str(h.settings.number_prefix)


# --- 2. first request after a cold import ---------------------------------------------------------


def child_first_request(spec_text: str) -> None:
    """In a fresh process: import the app, then time its first and second request."""
    spec = json.loads(spec_text)
    os.environ.update(spec["env"])
    os.chdir(API_DIR)
    sys.path.insert(0, str(API_DIR))
    started = time.perf_counter()
    from app import app

    imported = time.perf_counter() - started
    if spec["request"] == "lookup":
        events = [lookup_event(spec["number"], spec["key"]) for _ in range(2)]
        status = 200
    else:
        events = [submit_event() for _ in range(2)]
        status = 201
    times = []
    for event in events:
        started = time.perf_counter()
        response = app(event, LambdaContext())
        times.append(time.perf_counter() - started)
        answer(response, status)
    print(json.dumps({"import": imported, "first": times[0], "second": times[1]}))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server (scripts/moto_server.py, one request at a time) on a free local port."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "moto_server.py"), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=clean_env(MOTO_PORT=str(port)),
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            import urllib.request

            while True:
                try:
                    urllib.request.urlopen(url + "/moto-api/", timeout=1).close()  # noqa: S310
                    break
                except OSError:
                    if child.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"moto server did not start: {log.read()!r}") from None
                    time.sleep(0.1)
            yield url
        finally:
            child.terminate()
            child.wait(timeout=10)


def bench_first_request(run: Run, repeats: int) -> None:
    print(f"first request after a cold import: {repeats} fresh processes per case")
    from chalicelib import deps
    from chalicelib.config import Settings

    rows = []
    with tempfile.TemporaryDirectory(prefix="clearloop-bench-") as tmp, moto_server() as moto:
        for kind in ("sqlite", "dynamodb"):
            extra = {}
            if kind == "dynamodb":
                from chalicelib.store.dynamodb.schema import create_table
                from chalicelib.store.dynamodb.store import make_client

                extra = {"CLEARLOOP_DYNAMODB_ENDPOINT": moto}
            env = settings_env(kind, Path(tmp) / kind, **extra)
            settings = Settings.from_env(env)
            if kind == "dynamodb":
                create_table(make_client(settings), settings.table_name, poll_seconds=1)
            from app import app

            deps.reset()
            deps.override(settings=settings)
            number, key = Harness(kind, app, None, settings).submit()
            deps.reset()
            for request in ("lookup", "submission"):
                spec = json.dumps({"env": env, "request": request, "number": number, "key": key})
                samples = []
                for rep in range(repeats + 1):  # the first compiles any stale .pyc: not counted
                    out = subprocess.run(
                        [sys.executable, __file__, "--child-first-request", spec],
                        env=clean_env(),
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    if rep:
                        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
                first = p50([s["first"] for s in samples])
                second = p50([s["second"] for s in samples])
                imported = p50([s["import"] for s in samples])
                cold = p50([s["import"] + s["first"] for s in samples])
                store = "SQLite" if kind == "sqlite" else "DynamoDB (moto server, HTTP)"
                rows.append((store, request, imported, first, cold, second))
                run.add(
                    Figure(
                        f"first-{request}-{kind}",
                        f"first {request} after cold import, {store}",
                        f"{ms(first)} (with the import: {ms(cold)})",
                        f"second {request}: {ms(second)}",
                        f"{first / second:.1f}x",
                        "reported",
                        None,
                    )
                )
    run.details.append(
        "### First request after a cold import\n\n"
        f"A fresh process per sample ({repeats} per case, medians) imports `app`, then sends two "
        "requests of the same kind through `app(event, context)`. On DynamoDB the app talks to "
        "moto's server over HTTP, so the first request also pays for importing boto3 and "
        "building the client, as on a Lambda cold start.\n\n"
        "| store | request | import `app` | first request | import + first | second request |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        + "".join(
            f"| {s} | {r} | {ms(i)} | {ms(f)} | {ms(c)} | {ms(t)} |\n" for s, r, i, f, c, t in rows
        )
    )


# --- 3. handler vs adapter ------------------------------------------------------------------------


def rotated(
    rounds: int,
    steps: dict[str, Callable[[int], object]],
    after_round: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Time every step once per round, the order rotating and reversing from round to round, so
    drift and cache effects hit every step alike; ``after_round`` runs untimed."""
    names = list(steps)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        k = i % len(names)
        order = names[k:] + names[:k]
        if (i // len(names)) % 2:
            order.reverse()
        for name in order:
            started = time.perf_counter()
            steps[name](i)
            times[name].append(time.perf_counter() - started)
        if after_round is not None:
            after_round(i)
    return times


def chalice_floor_app() -> Any:
    """A Chalice app with the same two routes and CORS configuration as ours, whose views return
    a constant response at once: what Chalice's own dispatch costs per request."""
    from chalice.app import Chalice, Response

    from chalicelib.http import cors_config

    floor = Chalice(app_name="bench-floor")
    cors = cors_config()

    def constant() -> Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return Response(body='{"ok":true}', status_code=200, headers=headers)

    @floor.route("/v1/tickets/{number}", methods=["GET"], cors=cors)
    def status(number: str) -> Response:
        return constant()

    @floor.route("/v1/feedback", methods=["POST"], cors=cors)
    def submit() -> Response:
        return constant()

    return floor


def forget_tickets(h: Harness, numbers: list[str], key_hashes: list[str]) -> None:
    """Delete tickets (and their events and idempotency records) from the moto table, so every
    round runs on a table of the same size: moto copies the whole table in each transaction."""
    from chalicelib.store.dynamodb import keys

    table = h.settings.table_name
    doomed = [{k: {"S": v} for k, v in keys.idempotency_key(kh).items()} for kh in key_hashes]
    for number in numbers:
        page = h.raw_client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.ticket_pk(number)}},
            ProjectionExpression="PK, SK",
        )
        doomed += page["Items"]
    for key in doomed:
        h.raw_client.delete_item(TableName=table, Key=key)


def measure_store(
    kind: str, lookups: int, submissions: int, floor_app: Any
) -> list[tuple[str, str, dict[str, list[float]]]]:
    """Lookups and submissions on one store: handler, use case, Chalice floor, adapter."""
    from chalicelib import deps

    label = "SQLite" if kind == "sqlite" else "DynamoDB (moto in-process)"
    print(f"handler vs adapter on {label}: {lookups} lookups, {submissions} submissions each")
    with harness(kind) as h:
        number, key = h.submit()
        for _ in range(10):  # warm every path: lazily built services, caches
            h.call(lookup_event(number, key), 200)
            deps.lookup_service().status(number, key)
            floor_app(lookup_event(number, key), LambdaContext())
            h.adapter.get_ticket(number)
        events = [lookup_event(number, key) for _ in range(lookups)]
        lookup_times = rotated(
            lookups,
            {
                "handler": lambda i: h.send(events[i], 200),
                "use case": lambda i: deps.lookup_service().status(number, key),
                "chalice": lambda i: floor_app(events[i], LambdaContext()),
                "adapter": lambda i: h.adapter.get_ticket(number),
            },
        )

        # Each round: a submission through the handler, the same through the use case called
        # directly, and the adapter creating again (under a fresh number) the ticket that the
        # previous round's handler submission stored.
        n = submissions
        handler_events = [submit_event() for _ in range(n + 1)]
        direct_keys = [uuid.uuid4().hex for _ in range(n)]
        floor_events = [submit_event() for _ in range(n)]
        first = h.call(handler_events[0], 201)
        clones = [clone_ticket(h, first["number"], idem_key(handler_events[0]))]
        made: dict[str, list[str]] = {"handler": [], "use case": []}
        service = deps.submission_service()

        def through_handler(i: int) -> None:
            made["handler"].append(h.call(handler_events[i + 1], 201)["number"])

        def through_use_case(i: int) -> None:
            made["use case"].append(service.submit(FEEDBACK, direct_keys[i]).body["number"])

        def bare_create(i: int) -> None:
            h.adapter.create_ticket(*clones[i][:3], rollups=clones[i][3])

        def next_round(i: int) -> None:
            clones.append(clone_ticket(h, made["handler"][i], idem_key(handler_events[i + 1])))
            if kind == "dynamodb":
                numbers = [made["handler"][i], made["use case"][i], clones[i][0].number]
                hashes = [clones[i][2].key_hash] + [
                    idem_hash(k) for k in (idem_key(handler_events[i + 1]), direct_keys[i])
                ]
                if i == 0:
                    numbers.append(first["number"])
                    hashes.append(idem_hash(idem_key(handler_events[0])))
                forget_tickets(h, numbers, hashes)

        submission_times = rotated(
            n,
            {
                "handler": through_handler,
                "use case": through_use_case,
                "chalice": lambda i: floor_app(floor_events[i], LambdaContext()),
                "adapter": bare_create,
            },
            next_round,
        )
    return [(label, "status lookup", lookup_times), (label, "submission", submission_times)]


def bench_handler(run: Run, rounds: dict[str, tuple[int, int]]) -> None:
    floor_app = chalice_floor_app()
    rows = []
    for kind in ("sqlite", "dynamodb"):
        rows += measure_store(kind, *rounds[kind], floor_app)
    for label, what, times in rows:
        handler, adapter = p50(times["handler"]), p50(times["adapter"])
        chalice = p50(times["chalice"])
        kind = "sqlite" if label == "SQLite" else "dynamodb"
        slug = "lookup" if what == "status lookup" else "submission"
        floor = "`get_ticket`" if slug == "lookup" else "`create_ticket`"
        run.add(
            Figure(
                f"handler-{slug}-{kind}",
                f"{what} through the handler, {label}",
                f"p50 {ms(handler)}",
                f"bare {floor}: p50 {ms(adapter)}",
                f"{handler / adapter:.2f}x",
                f"<= {HANDLER_RATIO}x",
                handler / adapter <= HANDLER_RATIO,
            ),
            # The floor no handler can go below: the bare call plus Chalice's own dispatch of
            # an empty route (same event, route and CORS configuration), measured in the same
            # rounds. Reported: what lies between is the use case's own work (see the table).
            Figure(
                f"handler-{slug}-{kind}-chalice-floor",
                f"{what} through the handler vs bare call + Chalice's empty route, {label}",
                f"p50 {ms(handler)}",
                f"{ms(adapter)} + {ms(chalice)} = {ms(adapter + chalice)}",
                f"{handler / (adapter + chalice):.2f}x",
                "reported",
                None,
            ),
        )

    def row(label: str, what: str, t: dict[str, list[float]]) -> str:
        h, u, c, a = (p50(t[k]) for k in ("handler", "use case", "chalice", "adapter"))
        return (
            f"| {label} | {what} | {ms(h)} (p90 {ms(p90(t['handler']))}) | {ms(u)} | {ms(c)} "
            f"| {ms(a)} (p90 {ms(p90(t['adapter']))}) | {ms(h - u - c)} | {h / a:.2f}x "
            f"| {(u + c) / a:.2f}x | {len(t['handler'])} |\n"
        )

    run.details.append(
        "### Handler, use case, Chalice and adapter\n\n"
        "Four things timed in every round, in rotating order: the request through "
        "`app(event, context)` (an API Gateway proxy event); the same use case called directly "
        "(`LookupService.status`, `SubmissionService.submit`, through the `RetryingStore` that "
        "`deps` builds); an empty Chalice app with the same route, CORS configuration and event "
        "(Chalice's own dispatch); and the adapter's bare call. The lookup sends the ticket's "
        "key (the submitter's view, with the timeline); submissions send an `Idempotency-Key` "
        "as the site's form does; the bare create stores the ticket that the previous round's "
        "handler submission stored (events, idempotency record, rollup increments) under a "
        "fresh number. On moto the tickets of each round are deleted afterwards (untimed), so "
        "every round runs on a table of the same size. *Glue* is handler - use case - Chalice: "
        "what our routes, middleware and `http.py` add. The last ratio is the floor the handler "
        "can reach without changing what a request does: the use case plus Chalice's "
        "dispatch.\n\n"
        "| store | request | handler p50 | use case | Chalice | adapter p50 | glue | handler / "
        "adapter | (use case + Chalice) / adapter | rounds |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "".join(row(*r) for r in rows)
    )


def idem_key(event: dict[str, Any]) -> str:
    return str(event["headers"]["Idempotency-Key"])


def idem_hash(key: str) -> str:
    """The idempotency record's key, as ``SubmissionService`` derives it."""
    return hashlib.sha256(f"feedback\x00{key}".encode()).hexdigest()


# --- 4. DynamoDB requests and capacity units ------------------------------------------------------

_GSIS = (("GSI1PK", "GSI1SK"), ("GSI2PK", "GSI2SK"), ("GSI3PK", "GSI3SK"))


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value by DynamoDB's documented item-size rules."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        digits = len(v.lstrip("-").replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(e) for k, e in v.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def write_units(old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
    return max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))


def index_write_units(old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
    """Writes to the GSIs (each projects ALL): 1 per KB of the entry; delete + put when the
    index key changes."""
    units = 0
    for pk, sk in _GSIS:
        before = (old[pk], old[sk]) if old and pk in old and sk in old else None
        after = (new[pk], new[sk]) if new and pk in new and sk in new else None
        if before and after and before == after:
            units += math.ceil(max(item_size(old), item_size(new)) / 1024)
        else:
            if before:
                units += math.ceil(item_size(old) / 1024)
            if after:
                units += math.ceil(item_size(new) / 1024)
    return units


@dataclasses.dataclass
class Call:
    operation: str
    items: int = 1
    rcu: float = 0.0
    wcu: float = 0.0
    index_wcu: float = 0.0
    reported: Any = None  # what moto put in ConsumedCapacity


class CapacityMeter:
    """Counts the DynamoDB requests a client makes and computes their capacity units.

    Hooked into botocore (``before-parameter-build`` / ``after-call``); reads the items a write
    touches before and after it through ``raw_client``, which has no hooks.
    """

    def __init__(self, clients: list[Any], raw_client: Any) -> None:
        self.raw = raw_client
        self.calls: list[Call] = []
        self._before: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for client in {id(c): c for c in clients}.values():
            events = client.meta.events
            events.register("before-parameter-build.dynamodb", self._on_params)
            events.register("after-call.dynamodb", self._on_answer)

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.raw.get_item(
            TableName=table, Key=key, ConsistentRead=True
        ).get("Item")
        return item

    @staticmethod
    def _key(item: dict[str, Any]) -> dict[str, Any]:
        return {"PK": item["PK"], "SK": item["SK"]}

    def _writes(self, params: dict[str, Any], operation: str) -> list[tuple[str, dict[str, Any]]]:
        """(table, key) of every item a write request touches."""
        if operation == "TransactWriteItems":
            out = []
            for entry in params["TransactItems"]:
                (action, body), *_ = entry.items()
                key = self._key(body["Item"]) if action == "Put" else body["Key"]
                out.append((body["TableName"], key))
            return out
        if operation == "PutItem":
            return [(params["TableName"], self._key(params["Item"]))]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"])]
        return []

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"  # ask; moto's answer is recorded as is
        writes = self._writes(params, model.name)
        self._before.append(
            (
                {"operation": model.name, "params": params, "writes": writes},
                {f"{t}|{json.dumps(k, sort_keys=True)}": self._get(t, k) for t, k in writes},
            )
        )

    def _on_answer(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        request, old_items = self._before.pop()
        operation, params = request["operation"], request["params"]
        call = Call(operation, reported=parsed.get("ConsumedCapacity"))
        if "Error" in parsed:
            # Refused (a condition failed): its units are not computed here.
            call.operation += f" (refused: {parsed['Error'].get('Code', '?')})"
            call.items = len(request["writes"]) or 1
        elif operation == "GetItem":
            call.rcu = read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
        elif operation == "Query":
            items = parsed.get("Items", [])
            call.items = len(items)
            total = sum(item_size(i) for i in items)
            call.rcu = read_units(total, bool(params.get("ConsistentRead")))
        elif request["writes"]:
            factor = 2 if operation == "TransactWriteItems" else 1
            call.items = len(request["writes"])
            for table, key in request["writes"]:
                old = old_items[f"{table}|{json.dumps(key, sort_keys=True)}"]
                new = self._get(table, key)
                call.wcu += factor * write_units(old, new)
                call.index_wcu += index_write_units(old, new)
        self.calls.append(call)

    @contextlib.contextmanager
    def measure(self) -> Iterator[list[Call]]:
        start = len(self.calls)
        got: list[Call] = []
        yield got
        got.extend(self.calls[start:])


def describe(calls: list[Call]) -> str:
    """The requests in the order they were made."""
    return ", ".join(
        c.operation + (f" ({c.items} items)" if c.operation.startswith("Transact") else "")
        for c in calls
    )


def units(calls: list[Call]) -> str:
    rcu = sum(c.rcu for c in calls)
    wcu = sum(c.wcu for c in calls)
    index = sum(c.index_wcu for c in calls)
    parts = [f"{rcu:g} RCU"] if rcu else []
    if wcu:
        parts.append(f"{wcu:g} WCU" + (f" (+ {index:g} index WCU)" if index else ""))
    return ", ".join(parts)


def bench_dynamodb_costs(run: Run) -> None:
    print("DynamoDB requests and capacity units (moto in-process; units computed)")
    from chalicelib import deps

    with harness("dynamodb") as h:
        # The store's client and the rate limiter's own (one attempt, short timeouts).
        meter = CapacityMeter([h.adapter.client, h.adapter.rate_counter_client()], h.raw_client)
        staff = deps.staff_access_service()
        staff.add_staff("ana", "Ana Agent", "agent", ["customer-service"])
        token = staff.issue_token("ana", days=30).token
        # Warm up: services built, and the token's first use recorded (authenticate() writes
        # last_used_at at most once per LAST_USED_RESOLUTION; the figures are the steady state).
        h.call(lookup_event(*h.submit()), 200)
        h.call(proxy_event("GET", "/v1/staff/me", None, {"Authorization": f"Bearer {token}"}), 200)
        cases: list[tuple[str, str, list[Call], list[Call]]] = []

        with meter.measure() as calls:
            body = h.call(submit_event(idempotent=False), 201)
        cases.append(("submission", "without Idempotency-Key", calls, calls[-1:]))
        with meter.measure() as calls:
            body = h.call(submit_event(), 201)
        cases.append(("submission", "with Idempotency-Key (the site's form)", calls, calls[-1:]))
        number, key = str(body["number"]), str(body["key"])
        with meter.measure() as calls:
            h.call(lookup_event(number, key), 200)
        cases.append(("lookup", "with the key (timeline)", calls, calls[-2:]))
        with meter.measure() as calls:
            h.call(lookup_event(number, None), 200)
        cases.append(("lookup", "without a key (public status)", calls, calls[-2:]))
        replay = submit_event()
        h.call(replay, 201)
        with meter.measure() as calls:
            h.call(replay, 201)
        cases.append(("submission", "replayed (the same Idempotency-Key again)", calls, calls[-1:]))
        with meter.measure() as calls:
            h.call(transition_event(number, token, 1, "acknowledged"), 200)
        # Authentication reads the token and its staff member first (two GetItems); the
        # transition itself is the ticket's read and the write.
        ticket_calls = [c for c in calls if c.operation in ("Query", "TransactWriteItems")]
        cases.append(("transition", "ticket read and write", ticket_calls, ticket_calls))
        cases.append(("transition", "whole request (authenticate, load, write)", calls, []))

    # The rate limit is in the floors: a submission's charge is an item of its transaction, a
    # lookup's is the counter's UpdateItem (which also returns the client's key failures).
    floors = {
        "submission": ["TransactWriteItems"],
        "lookup": ["UpdateItem", "Query"],
        "transition": ["Query", "TransactWriteItems"],
    }
    detail_rows = []
    for what, variant, calls, given_floor in cases:
        # A replay is the submission's transaction refused by the idempotency record's condition.
        made = [c.operation.split(" (refused")[0] for c in calls]
        ok: bool | None = made == floors[what] and calls == given_floor
        floor_calls = given_floor
        if not given_floor:
            ok = None  # authentication, or a retry: reported
            floor_calls = [c for c in calls if c.operation in floors[what]][-len(floors[what]) :]
        fid = f"dynamodb-{what}" + ("-idempotent" if "Idempotency-Key (" in variant else "")
        fid += "-request" if "whole request" in variant else ""
        fid += "-replay" if "replayed" in variant else ""
        fid += "-keyless" if "without a key" in variant else ""
        run.add(
            Figure(
                fid,
                f"DynamoDB per {what}, {variant}",
                f"{len(calls)} req: {describe(calls)}"
                + (f"; {units(calls)}" if units(calls) else " (refused: units not computed)"),
                " + ".join(f"1 {op}" for op in floors[what])
                + (f"; {units(floor_calls)}" if units(floor_calls) else ""),
                "equal" if ok else f"{len(calls)}/{len(floors[what])} req",
                "equal" if ok is not None else "reported",
                ok,
            )
        )
        for c in calls:
            detail_rows.append(
                f"| {what}, {variant} | {c.operation} | {c.items} | {c.rcu:g} | {c.wcu:g} "
                f"| {c.index_wcu:g} | `{json.dumps(c.reported)}` |\n"
            )
    run.details.append(
        "### DynamoDB requests and capacity units\n\n"
        "Requests are counted with botocore's `before-parameter-build` hook on the store's "
        "client (moto in-process). Every request asks for `ReturnConsumedCapacity=TOTAL`; the "
        "last column is moto's answer, which is a placeholder (a constant for single-item "
        "calls and queries, nothing for transactions), so the RCU and WCU columns are "
        "**computed**: item sizes from the attribute names and values sent or read back, "
        "strongly consistent reads 1 RCU per 4 KB (at least 1), writes 1 WCU per KB of the "
        "larger of the old and new item, doubled in a transaction, and index writes (every "
        "GSI projects ALL) 1 WCU per KB of the entry, twice when its key changes (shown "
        "separately; assumed not doubled by the transaction).\n\n"
        "| request | call | items | RCU | WCU | index WCU | moto's ConsumedCapacity |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n" + "".join(detail_rows)
    )


# --- 5. sweep and publish scaling -----------------------------------------------------------------


def paired_sweep_ratio(out: str) -> float | None:
    """The median of large/small over bench_sweep's alternating pairs of timed sweeps: a ratio
    that a step in the machine's load during the run does not skew (each pair sees the same)."""
    times: dict[str, dict[str, float]] = {"small": {}, "large": {}}
    for size, rep, value in re.findall(r"^\s+(small|large) #(\d+):\s+([\d.]+) ms", out, re.M):
        times[size][rep] = float(value)
    pairs = [times["large"][r] / times["small"][r] for r in times["small"] if r in times["large"]]
    return p50(pairs) if pairs else None


def sweep_summary(out: str) -> tuple[str, str] | None:
    """The summary of bench_sweep.py's output, and the ID of a miss: ``sweep-scaling-drift``
    when only its time ratio missed and the paired ratio is within the same target (the load
    changed during the run), else ``sweep-scaling``."""
    ratio = re.search(
        r"median sweep: ([\d.]+) ms over ([\d,]+) open, ([\d.]+) ms over ([\d,]+) open: "
        r"ratio ([\d.]+) \(target <= ([\d.]+)\)",
        out,
    )
    reads = [(int(a), int(b)) for a, b in re.findall(r"items read (\d+) \(target <= (\d+)\)", out)]
    if not ratio or not reads:
        return None
    small, small_n, large, large_n, factor, limit = ratio.groups()
    paired = paired_sweep_ratio(out)
    text = (
        f"sweep over {large_n} open {large} ms vs over {small_n} open {small} ms: {factor}x "
        f"(<= {limit}x; paired {paired or 0:.2f}x); items read per sweep at most "
        f"{max(r for r, _ in reads)} (<= {reads[0][1]}) on every adapter"
    )
    only_time = all("time ratio" in line for line in re.findall(r"^MISSED: (.*)$", out, re.M))
    drift = only_time and paired is not None and paired <= float(limit)
    return text, "sweep-scaling-drift" if drift else "sweep-scaling"


def publish_summary(out: str) -> tuple[str, str] | None:
    ratios = re.search(
        r"items read ratio ([\d.]+) \(limit ([\d.]+)\), "
        r"time ratio ([\d.]+)( CPU)? \(limit ([\d.]+)",
        out,
    )
    memory = re.search(r"peak memory of a publish with ([\d,]+) tickets: ([\d.]+) MB", out)
    if not ratios:
        return None
    items, items_limit, seconds, cpu, seconds_limit = ratios.groups()
    clock = "CPU time" if cpu else "time"
    text = f"items read {items}x (<= {items_limit}x), {clock} {seconds}x (<= {seconds_limit}x)"
    if memory:
        text += f", peak memory {memory.group(2)} MB with {memory.group(1)} tickets"
    return text, "publish-scaling"


def bench_scaling(run: Run) -> None:
    """Run the sweep and publish benchmarks of their own issues and report their verdicts. A
    script that is missing or crashes (no result printed: work in progress) is reported as such,
    not counted as a missed target."""
    for name, summarize in (
        ("bench_sweep.py", sweep_summary),
        ("bench_publish.py", publish_summary),
    ):
        script = ROOT / "scripts" / name
        label = f"`scripts/{name}`"
        stem = name.removeprefix("bench_").removesuffix(".py")
        if not script.exists():
            print(f"{name}: not present, skipped")
            run.add(Figure(f"{stem}-scaling", label, "not present", "-", "-", "as there", None))
            continue
        print(f"{name}: running")
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(script)],
            check=False,
            env=clean_env(),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        text = (out.stdout + out.stderr).strip()
        floor = "large history vs small, same run"
        verdict = summarize(out.stdout)
        if verdict is None:
            last = (text.splitlines() or ["no output"])[-1]
            print(f"{name} is not working (exit {out.returncode}): {last}", file=sys.stderr)
            figure = Figure(
                f"{stem}-not-working", label, f"**not working**: {last}", floor, "-", "-", None
            )
        else:
            summary, miss_id = verdict
            ok = out.returncode == 0
            figure = Figure(
                miss_id if not ok else f"{stem}-scaling", label, summary, floor, "-", "as there", ok
            )
        run.add(figure)
        run.details.append(
            f"### {label}\n\nExit status {out.returncode}, {seconds:.0f} s.\n\n"
            "```text\n" + text + "\n```\n"
        )


# --- 6. the site ----------------------------------------------------------------------------------


@dataclasses.dataclass
class PageLoad:
    path: str
    requests: int = 0
    total: int = 0
    own: int = 0
    material: int = 0
    api_calls: list[str] = dataclasses.field(default_factory=list)
    third_party: list[str] = dataclasses.field(default_factory=list)
    own_files: dict[str, int] = dataclasses.field(default_factory=dict)


def build_site() -> None:
    """The MkDocs site, plus the pages the publisher adds to it (from an empty store)."""
    subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--quiet", "-d", str(SITE_BUILD)],
        cwd=ROOT,
        env=clean_env(CLEARLOOP_API_URL=API_BASE, NO_MKDOCS_2_WARNING="1"),
        check=True,
    )
    with tempfile.TemporaryDirectory(prefix="clearloop-bench-") as data:
        subprocess.run(
            [str(BIN / "clearloop"), "publish"],
            cwd=ROOT,
            env=clean_env(CLEARLOOP_DATA_DIR=data, CLEARLOOP_PUBLISH_DIR=str(SITE_BUILD)),
            check=True,
            capture_output=True,
        )


def site_pages() -> list[str]:
    pages = []
    for html in sorted(SITE_BUILD.rglob("index.html")):
        rel = html.parent.relative_to(SITE_BUILD).as_posix()
        pages.append("/" if rel == "." else f"/{rel}/")
    return pages


def load_page(browser: Any, origin: str, path: str) -> PageLoad:
    result = PageLoad(path)
    context = browser.new_context()  # a cold cache for every page
    page = context.new_page()
    responses: list[Any] = []
    site_host = urlsplit(origin).netloc

    def route(r: Any) -> None:
        url = r.request.url
        parts = urlsplit(url)
        result.requests += 1
        if parts.hostname != "127.0.0.1":
            result.third_party.append(url)
            r.abort()
        elif parts.netloc != site_host:  # the API: not part of the site's weight
            result.api_calls.append(f"{r.request.method} {parts.path}")
            r.fulfill(status=503, content_type="application/json", body='{"error":{}}')
        else:
            r.continue_()

    context.route("**/*", route)
    # Playwright wraps handlers by setting an attribute on them: a bound method of a list will
    # not take one, hence the lambda.
    page.on("response", lambda response: responses.append(response))  # noqa: PLW0108
    page.goto(origin + path, wait_until="networkidle")
    page.wait_for_timeout(300)  # late dynamic imports after network idle
    for response in responses:
        parts = urlsplit(response.url)
        if parts.netloc != site_host:
            continue
        try:
            size = len(response.body())
        except Exception:  # redirects have no body
            size = 0
        result.total += size
        if parts.path.startswith(OWN_ASSETS):
            result.own += size
            result.own_files[parts.path] = size
        elif parts.path.startswith(("/assets/javascripts/", "/assets/stylesheets/")):
            result.material += size
    context.close()
    return result


def bench_site(run: Run) -> None:
    print("site: building and loading every page in headless Chromium")
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(API_DIR))
    from chalicelib.runner import SiteServer

    build_site()
    with tempfile.TemporaryFile("w+") as log:
        server = SiteServer(0, SITE_BUILD, API_BASE, log)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                loads = [load_page(browser, origin, path) for path in site_pages()]
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    worst = max(loads, key=lambda x: x.own)
    third = [u for x in loads for u in x.third_party]
    run.add(
        Figure(
            "site-own-assets",
            f"site: own JS+CSS per page (largest, of {len(loads)} pages)",
            f"{kb(worst.own)} ({worst.path})",
            "-",
            f"Material: {kb(worst.material)}",
            f"<= {kb(OWN_ASSET_BYTES)}",
            worst.own <= OWN_ASSET_BYTES,
        ),
        Figure(
            "site-third-party",
            "site: requests to hosts other than 127.0.0.1",
            str(len(third)),
            "-",
            "-",
            "none",
            not third,
        ),
        Figure(
            "site-weight",
            "site: page weight and requests per page (largest)",
            f"{kb(max(x.total for x in loads))}, {max(x.requests for x in loads)} requests",
            "-",
            "-",
            "reported",
            None,
        ),
    )
    own_files = sorted({f for x in loads for f in x.own_files})
    run.details.append(
        "### Site\n\n"
        f"Built with `mkdocs build --strict` (API base `{API_BASE}`), served by the local "
        "runner's `SiteServer` on 127.0.0.1, each page loaded in a fresh headless Chromium "
        "context (cold cache) until the network is idle. Bytes are uncompressed response "
        "bodies. API calls are answered 503 by the benchmark and not counted in the weight; any "
        "request to another host is aborted and fails the run.\n\n"
        "| page | own JS+CSS | Material JS+CSS | page weight | requests | API calls |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        + "".join(
            f"| `{x.path}` | {kb(x.own)} | {kb(x.material)} | {kb(x.total)} | {x.requests} "
            f"| {len(x.api_calls)} |\n"
            for x in loads
        )
        + "\nOwn files loaded: "
        + ", ".join(
            f"`{f.removeprefix('/assets/')}` {kb(max(x.own_files.get(f, 0) for x in loads))}"
            for f in own_files
        )
        + ".\n"
        + (f"\nThird-party requests: {', '.join(third)}\n" if third else "")
    )


# --- the docs page --------------------------------------------------------------------------------

HAND_WRITTEN_DEFAULT = """
## What the figures mean

(Hand-written; `scripts/bench.py` keeps everything outside the generated block.)
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.node()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def render(run: Run, seconds: float, explained: set[str]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def result(f: Figure) -> str:
        if f.ok is False:
            return "**missed**, explained below" if f.id in explained else "**MISSED**"
        return f.result

    table = "| figure | measured | floor | ratio | target | result |\n"
    table += "| --- | --- | --- | --- | --- | --- |\n"
    table += "".join(
        f"| {f.figure} | {f.measured} | {f.floor} | {f.ratio} "
        f"| {'-' if f.target == 'reported' else f.target} | {result(f)} |\n"
        for f in run.figures
    )
    return (
        f"{GENERATED_START}\n"
        "<!-- Written by scripts/bench.py (make bench) on every full run: not by hand. -->\n\n"
        f"Last run: {now}, on {machine()}; `scripts/bench.py` took {seconds:.0f} s.\n\n"
        f"{table}\n"
        "## Measurements in detail\n\n" + "\n".join(run.details) + f"\n{GENERATED_END}"
    )


def explained_ids(page: str) -> set[str]:
    outside = re.sub(
        re.escape(GENERATED_START) + ".*?" + re.escape(GENERATED_END), "", page, flags=re.S
    )
    return set(EXPLAINS.findall(outside))


def write_page(run: Run, seconds: float) -> set[str]:
    page = DOCS_PAGE.read_text(encoding="utf-8") if DOCS_PAGE.exists() else ""
    explained = explained_ids(page)
    block = render(run, seconds, explained)
    if GENERATED_START in page and GENERATED_END in page:
        head, rest = page.split(GENERATED_START, 1)
        tail = rest.split(GENERATED_END, 1)[1]
        page = head + block + tail
    else:
        page = "# Performance\n\n" + block + "\n" + HAND_WRITTEN_DEFAULT
    DOCS_PAGE.write_text(page, encoding="utf-8")
    return explained


# --- main -----------------------------------------------------------------------------------------

SECTIONS = ("import", "first", "handler", "dynamodb", "scaling", "site")


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--child-first-request"]:
        child_first_request(args_list[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="leave the docs page alone")
    args = parser.parse_args(args_list)
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        parser.error(f"unknown sections {sorted(only - set(SECTIONS))}; pick from {SECTIONS}")
    for name, value in FAKE_AWS.items():
        os.environ[name] = value  # nothing in this process may reach AWS
    for name in [n for n in os.environ if n.startswith("CLEARLOOP_")]:
        del os.environ[name]
    sys.path.insert(0, str(API_DIR))
    os.chdir(ROOT)

    started = time.perf_counter()
    run = Run()
    quick = args.quick
    if "import" in only:
        bench_import(run, 6 if quick else 20)
    if "first" in only:
        bench_first_request(run, 2 if quick else 5)
    if "handler" in only:
        rounds = (
            {"sqlite": (60, 30), "dynamodb": (30, 10)}
            if quick
            else {
                "sqlite": (400, 200),
                "dynamodb": (200, 60),
            }
        )
        bench_handler(run, rounds)
    if "dynamodb" in only:
        bench_dynamodb_costs(run)
    if "scaling" in only:
        bench_scaling(run)
    if "site" in only:
        bench_site(run)
    seconds = time.perf_counter() - started

    full = only == set(SECTIONS) and not quick
    page = DOCS_PAGE.read_text(encoding="utf-8") if DOCS_PAGE.exists() else ""
    explained = explained_ids(page)
    if full and not args.no_write:
        explained = write_page(run, seconds)
        print(f"wrote {DOCS_PAGE.relative_to(ROOT)}")
    if args.no_write or not full:
        print("\n" + "\n".join(run.details))
    print(f"\ntotal {seconds:.0f} s\n")
    width = max(len(f.figure) for f in run.figures)
    for f in run.figures:
        target = "-" if f.target == "reported" else f.target
        print(
            f"{f.figure:<{width}}  {f.measured}  |  {f.floor}  |  {f.ratio}  |  {target}  "
            f"|  {f.result}"
        )
    unexplained = [f for f in run.figures if f.ok is False and f.id not in explained]
    for f in run.figures:
        if f.ok is False:
            state = "explained in the docs page" if f.id in explained else "NOT explained"
            print(f"missed: {f.id} ({state})", file=sys.stderr)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
