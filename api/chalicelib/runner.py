"""The local runner: the whole portal on one machine, with no AWS account.

``clearloop run`` prepares the store, builds the MkDocs site, starts ``chalice local`` for the API,
serves the built site with the production security headers, runs the scheduler loop, prints the
URLs and stops every child cleanly on Ctrl-C or SIGTERM. Everything binds to 127.0.0.1 only.

Example::

    $ clearloop run                      # SQLite under .local/, API on :8000, site on :8001
    $ clearloop run --store dynamodb     # the DynamoDB adapter against moto's server (in memory)

    from chalicelib.runner import RunOptions, run
    exit_code = run(RunOptions(api_port=9000, site_port=9001), base_env=os.environ)

Children (moto's server, ``chalice local``, one-shot helpers such as ``mkdocs build``) run in their
own process groups with their output in ``<data dir>/logs/``; stopping sends SIGTERM to each group
and SIGKILL after a timeout, so nothing is left behind. If a child dies on its own, the runner stops
the rest and exits non-zero with that child's last log lines.

Scheduled work (the SLA sweep, the publisher) goes in ``JOBS``: each ``Job(name, interval_seconds,
run)`` runs in the scheduler thread right after start-up and then every interval, with a
``JobContext`` holding the API's settings and environment. With no jobs the loop does not start.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import importlib.metadata
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, TextIO

from chalicelib.config import Settings, SettingsError
from chalicelib.site_server import SiteServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
READY_MARKER = "Clearloop is running"
STORE_LABELS = {"sqlite": "SQLite", "dynamodb": "DynamoDB on moto's server"}
MOTO_NOTE = "moto keeps everything in memory: the DynamoDB data is gone when the stack stops"
# Fake credentials for every child: the local stack must never reach a real AWS account.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_BUILD_STAMP = "site-build.json"
_LOG_TAIL_LINES = 25


class RunnerError(Exception):
    """The stack cannot start or stopped on its own; the message says why and what to do."""


class _Interrupted(Exception):
    """Ctrl-C, SIGTERM or SIGHUP arrived while starting: stop cleanly."""


@dataclass(frozen=True)
class RunOptions:
    """What ``clearloop run`` was asked for; paths are made absolute by the caller or here."""

    store: str = "sqlite"
    api_port: int = 8000
    site_port: int = 8001
    data_dir: Path = PROJECT_ROOT / ".local"
    site_dir: Path = PROJECT_ROOT / "build" / "site"
    build: bool = True
    project_root: Path = PROJECT_ROOT
    ready_timeout: float = 90.0
    stop_timeout: float = 10.0

    @property
    def api_dir(self) -> Path:
        return self.project_root / "api"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def site_url(self) -> str:
        return f"http://{HOST}:{self.site_port}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


@dataclass(frozen=True)
class JobContext:
    """What a scheduled job gets: the API's settings and environment (to run a CLI subcommand)."""

    settings: Settings
    env: Mapping[str, str]
    cwd: Path


class Job(NamedTuple):
    """A job the scheduler loop runs right after start-up, then every ``interval_seconds``."""

    name: str
    interval_seconds: float
    run: Callable[[JobContext], None]


def cli_job(*arguments: str) -> Callable[[JobContext], None]:
    """A job that runs ``clearloop <arguments>`` with the API's environment."""

    def run(ctx: JobContext) -> None:
        done = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "chalicelib.cli", *arguments],
            cwd=ctx.cwd,
            env=dict(ctx.env),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"clearloop {' '.join(arguments)} failed: {done.stderr[-2000:]}")

    return run


def publish_job(ctx: JobContext) -> None:
    """``clearloop publish`` into the site folder this stack built and serves (the build stamp
    names it), then bring the stamp's fingerprint of that folder up to date: published pages
    belong in the built site and must not make the next start rebuild it."""
    stamp_path = ctx.settings.data_dir / _BUILD_STAMP
    site_dir = Path(_read_stamp(stamp_path).get("site_dir") or PROJECT_ROOT / "build" / "site")
    cli_job("publish", "--site-dir", str(site_dir))(ctx)
    stamp = _read_stamp(stamp_path)
    if stamp.get("site_dir") == str(site_dir) and "output" in stamp:
        stamp["output"] = _tree_fingerprint([site_dir], site_dir)
        stamp_path.write_text(json.dumps(stamp, indent=2), encoding="utf-8")


# The same schedules as the deployment (app.py): the SLA sweep every 5 minutes, the publisher
# hourly, housekeeping (auto-close, contact retention) daily; each also runs once at start.
JOBS: list[Job] = [
    Job("sla sweep", 300, cli_job("sweep", "--jobs", "sla")),
    Job("publish", 3600, publish_job),
    Job("housekeeping", 86_400, cli_job("sweep", "--jobs", "autoclose,retention")),
]
STACK_FILE = "stack.json"


class Child:
    """A child process in its own process group, its output appended to a log file."""

    def __init__(
        self,
        label: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.label = label
        self.log_path = log_path
        with log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {stamp} {' '.join(command)}\n".encode())
            log.flush()
            self.log_offset = log.tell()
            # A new session: Ctrl-C in the terminal reaches only the runner, which stops the
            # children in order, and killpg reaches anything a child spawned.
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                list(command),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines this child wrote during this run."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float) -> None:
        """SIGTERM to the group, SIGKILL after ``timeout``; then clear any straggler."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        _signal_group(self.process.pid, signal.SIGKILL)

    def failure(self, what: str) -> RunnerError:
        code = self.process.returncode
        tail = self.tail() or "(no output)"
        return RunnerError(
            f"{self.label} {what} (exit code {code}). Last lines of {self.log_path}:\n{tail}"
        )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Scheduler:
    """Runs the jobs in one thread; a failing job is logged and retried at its next interval."""

    def __init__(
        self,
        jobs: Sequence[Job],
        context: JobContext,
        log_path: Path,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.jobs = list(jobs)
        self.context = context
        self.log_path = log_path
        self.report = report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.jobs:
            return
        self._thread = threading.Thread(target=self._loop, name="clearloop-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        due = [time.monotonic()] * len(self.jobs)  # every job runs once right after start-up
        with self.log_path.open("a", encoding="utf-8") as log:
            while not self._stop.is_set():
                for index, job in enumerate(self.jobs):
                    if self._stop.is_set() or due[index] > time.monotonic():
                        continue
                    self._run_one(job, log)
                    due[index] = time.monotonic() + job.interval_seconds
                self._stop.wait(max(0.0, min(due) - time.monotonic()))

    def _run_one(self, job: Job, log: TextIO) -> None:
        started = time.monotonic()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            job.run(self.context)
        except Exception as e:
            log.write(f"{stamp} {job.name} failed:\n{traceback.format_exc()}")
            self.report(f"job {job.name} failed ({e!r}); see {self.log_path}")
        else:
            log.write(f"{stamp} {job.name} ok in {time.monotonic() - started:.2f}s\n")
        log.flush()


@dataclass
class _Stack:
    """Everything started so far, so one place can stop it all in reverse order."""

    options: RunOptions
    children: list[Child] = field(default_factory=list)
    site_server: SiteServer | None = None
    site_thread: threading.Thread | None = None
    site_log: TextIO | None = None
    scheduler: Scheduler | None = None
    stack_file: Path | None = None

    def spawn(
        self,
        label: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_name: str,
    ) -> Child:
        child = Child(label, command, cwd=cwd, env=env, log_path=self.options.log_dir / log_name)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                raise child.failure("stopped unexpectedly")
        if self.site_thread is not None and not self.site_thread.is_alive():
            raise RunnerError("the site server thread stopped unexpectedly")

    def close(self) -> None:
        if self.stack_file is not None:
            self.stack_file.unlink(missing_ok=True)
        timeout = self.options.stop_timeout
        if self.scheduler is not None:
            self.scheduler.stop(timeout)
        for child in reversed(self.children):
            child.stop(timeout)
        if self.site_server is not None:
            if self.site_thread is not None and self.site_thread.is_alive():
                self.site_server.shutdown()
            self.site_server.server_close()
        if self.site_log is not None:
            self.site_log.close()


class _StopFlag:
    """Turns Ctrl-C, SIGTERM and SIGHUP into a flag the main loop checks."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[signal.Signals, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers; the caller then stops us itself
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def ignore_further(self) -> None:
        # While shutting down (bounded by timeouts) a second Ctrl-C must not cut it short.
        for sig in self._previous:
            signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()

    def check(self) -> None:
        if self.event.is_set():
            raise _Interrupted


def run(
    options: RunOptions,
    *,
    base_env: Mapping[str, str],
    jobs: Sequence[Job] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the local stack until interrupted; 0 after a requested stop, 1 on any failure."""
    out = out or sys.stdout
    err = err or sys.stderr
    options = _absolute(options)
    stop = _StopFlag()
    stack = _Stack(options)
    stop.install()
    try:
        _start(stack, base_env, JOBS if jobs is None else jobs, stop, out)
        while not stop.event.wait(0.5):
            stack.check_alive()
    except _Interrupted:
        pass
    except RunnerError as e:
        print(f"clearloop run: {e}", file=err, flush=True)
        return 1
    finally:
        stop.ignore_further()
        try:
            stack.close()
        finally:
            stop.restore()
    print("Clearloop stopped.", file=out, flush=True)
    return 0


def _absolute(options: RunOptions) -> RunOptions:
    return replace(
        options,
        data_dir=options.data_dir.expanduser().resolve(),
        site_dir=options.site_dir.expanduser().resolve(),
        project_root=options.project_root.resolve(),
    )


def _start(
    stack: _Stack,
    base_env: Mapping[str, str],
    jobs: Sequence[Job],
    stop: _StopFlag,
    out: TextIO,
) -> None:
    options = stack.options

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    _check_options(options)
    env = _child_env(base_env, options)
    settings = _settings(env)  # fail on a bad CLEARLOOP_* value before starting anything
    try:
        options.log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunnerError(f"cannot create the data folder {options.data_dir}: {e}") from e

    if options.store == "dynamodb":
        moto_port = _free_port()
        endpoint = f"http://{HOST}:{moto_port}"
        say(f"Starting moto's DynamoDB server on {endpoint} ({MOTO_NOTE}).")
        moto = stack.spawn(
            "moto's server",
            # One request at a time: see scripts/moto_server.py for why threads would lose data.
            [sys.executable, str(PROJECT_ROOT / "scripts" / "moto_server.py"), str(moto_port)],
            cwd=options.data_dir,
            env=env,
            log_name="moto.log",
        )
        _wait_http(endpoint + "/", moto, stack, stop, options.ready_timeout, ok=lambda s: True)
        env["CLEARLOOP_DYNAMODB_ENDPOINT"] = endpoint
        settings = _settings(env)

    say(f"Preparing the store ({STORE_LABELS[options.store]})...")
    _run_once(
        stack,
        "init-store",
        [sys.executable, "-m", "chalicelib.cli", "init-store"],
        cwd=options.api_dir,
        env=env,
        stop=stop,
    )

    # Tells `clearloop` commands run beside this stack which store it uses (the DynamoDB
    # endpoint is a fresh port each run); removed again when the stack stops.
    stack_file = options.data_dir / STACK_FILE
    stack_file.write_text(
        json.dumps(
            {
                "store": options.store,
                "dynamodb_endpoint": env.get("CLEARLOOP_DYNAMODB_ENDPOINT"),
                "api_url": options.api_url,
                "site_url": options.site_url,
                "pid": os.getpid(),
            }
        )
    )
    stack.stack_file = stack_file

    api = stack.spawn(
        "the API server (chalice local)",
        [
            _chalice_executable(),
            "local",
            "--stage",
            "local",
            "--no-autoreload",
            "--host",
            HOST,
            "--port",
            str(options.api_port),
        ],
        cwd=options.api_dir,
        env=env,
        log_name="api.log",
    )

    if options.build:
        _build_site(stack, base_env, stop, say)  # overlaps with chalice local's start-up
    elif not (options.site_dir / "index.html").is_file():
        raise RunnerError(
            f"--no-build was given but {options.site_dir} has no index.html; "
            "run once without --no-build to build the site"
        )

    _start_site_server(stack)
    _wait_http(
        f"{options.api_url}/v1/health",
        api,
        stack,
        stop,
        options.ready_timeout,
        ok=lambda status: status == 200,
    )
    _wait_http(
        options.site_url + "/", None, stack, stop, options.ready_timeout, ok=lambda status: True
    )

    stack.scheduler = Scheduler(
        jobs,
        JobContext(settings=settings, env=dict(env), cwd=options.api_dir),
        options.log_dir / "scheduler.log",
        report=say,
    )
    stack.scheduler.start()
    say(_summary(options, settings, jobs))


def _settings(env: Mapping[str, str]) -> Settings:
    try:
        return Settings.from_env(env)
    except SettingsError as e:
        raise RunnerError(str(e)) from e


def _check_options(options: RunOptions) -> None:
    if options.store not in STORE_LABELS:
        raise RunnerError(f"unknown store {options.store!r}; use sqlite or dynamodb")
    if options.api_port == options.site_port:
        raise RunnerError(f"the API and the site cannot share port {options.api_port}")
    if not (options.api_dir / "app.py").is_file():
        raise RunnerError(
            f"{options.api_dir / 'app.py'} not found: clearloop run needs the project's source "
            "checkout (the Chalice app in api/)"
        )
    if options.build and not (options.project_root / "mkdocs.yml").is_file():
        raise RunnerError(f"{options.project_root / 'mkdocs.yml'} not found; cannot build the site")
    for port, role, flag in (
        (options.api_port, "API", "--api-port"),
        (options.site_port, "site", "--site-port"),
    ):
        if not _port_is_free(port):
            raise RunnerError(
                f"port {port} on {HOST} (for the {role}) is already in use; stop whatever is "
                f"listening there or choose another port with {flag}"
            )


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option as the servers use, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _child_env(base_env: Mapping[str, str], options: RunOptions) -> dict[str, str]:
    env = dict(base_env)
    # A profile would win over the fake credentials below in some botocore versions.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "CLEARLOOP_DYNAMODB_ENDPOINT"):
        env.pop(name, None)
    env.update(LOCAL_AWS_ENV)
    if not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = "us-east-1"
    env.update(
        {
            "CLEARLOOP_STAGE": "local",
            "CLEARLOOP_STORE": options.store,
            "CLEARLOOP_DATA_DIR": str(options.data_dir),
            "CLEARLOOP_SITE_ORIGIN": options.site_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _chalice_executable() -> str:
    # Not resolved: a venv's python is a symlink and its scripts sit next to the link.
    candidate = Path(sys.executable).parent / "chalice"
    if candidate.is_file():
        return str(candidate)
    raise RunnerError(f"the chalice command was not found next to {sys.executable}")


def _run_once(
    stack: _Stack,
    name: str,
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stop: _StopFlag,
) -> None:
    """Run a one-shot helper to completion; its output goes to ``logs/<name>.log``."""
    child = Child(name, command, cwd=cwd, env=env, log_path=stack.options.log_dir / f"{name}.log")
    try:
        while child.poll() is None:
            stop.check()
            stack.check_alive()
            try:
                child.process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
    finally:
        child.stop(stack.options.stop_timeout)
    if child.process.returncode != 0:
        raise child.failure("failed")


def _wait_http(
    url: str,
    child: Child | None,
    stack: _Stack,
    stop: _StopFlag,
    timeout: float,
    *,
    ok: Callable[[int], bool],
) -> None:
    """Poll ``url`` until it answers with a status ``ok`` accepts."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        stop.check()
        stack.check_alive()
        status = _http_status(url)
        if status is not None:
            if ok(status):
                return
            last = f"HTTP {status}"
        if time.monotonic() > deadline:
            where = f"; see {child.log_path}:\n{child.tail()}" if child else ""
            raise RunnerError(f"{url} did not become ready within {timeout:.0f}s ({last}){where}")
        time.sleep(0.1)


def _http_status(url: str) -> int | None:
    """The status of GET ``url`` on 127.0.0.1 (no proxy), or None when nothing answers yet."""
    rest = url.removeprefix(f"http://{HOST}:")
    port_text, _, path = rest.partition("/")
    connection = http.client.HTTPConnection(HOST, int(port_text), timeout=2)
    try:
        connection.request("GET", "/" + path)
        response = connection.getresponse()
        response.read()
    except OSError:
        return None
    finally:
        connection.close()
    return response.status


def _build_site(
    stack: _Stack, base_env: Mapping[str, str], stop: _StopFlag, say: Callable[[str], None]
) -> None:
    options = stack.options
    env = dict(base_env)
    env.update(_site_build_env(options))
    stamp_path = options.data_dir / _BUILD_STAMP
    wanted = _build_inputs(options, env)
    reason = _rebuild_reason(_read_stamp(stamp_path), wanted, options.site_dir)
    if reason is None:
        say(f"Site unchanged since the last build: {options.site_dir}")
        return
    say(f"Building the site into {options.site_dir} ({reason})...")
    stamp_path.unlink(missing_ok=True)
    started = time.monotonic()
    _run_once(
        stack,
        "mkdocs",
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(options.project_root / "mkdocs.yml"),
            "-d",
            str(options.site_dir),
        ],
        cwd=options.project_root,
        env=env,
        stop=stop,
    )
    stamp = {**wanted, "output": _tree_fingerprint([options.site_dir], options.site_dir)}
    stamp_path.write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    say(f"Site built in {time.monotonic() - started:.1f}s.")


def _build_inputs(options: RunOptions, env: Mapping[str, str]) -> dict[str, str]:
    """What the built site depends on, one entry per reason to rebuild."""
    root = options.project_root
    sources = [
        root / "mkdocs.yml",
        root / "site",
        options.api_dir / "chalicelib" / "data",
        options.api_dir / "openapi.json",  # rendered into the API reference page
    ]
    tools = []
    for package in ("mkdocs", "mkdocs-material"):
        try:
            tools.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            tools.append(f"{package} missing")
    config = root / "mkdocs.yml"
    names = _env_names(config.read_text(encoding="utf-8")) if config.is_file() else set()
    names |= set(_site_build_env(options))
    variables = [f"{name}={env.get(name)}" for name in sorted(names)]
    return {
        "site_dir": str(options.site_dir),
        "sources": _tree_fingerprint(sources, root),
        "environment": _tree_fingerprint([], root, variables),
        "tools": _tree_fingerprint([], root, tools),
    }


_REBUILD_REASONS = {
    "site_dir": "first build into this folder",
    "sources": "the site's sources changed",
    "environment": "the API or site address or another mkdocs.yml variable changed",
    "tools": "MkDocs or Material changed version",
}


def _rebuild_reason(
    stamp: Mapping[str, Any], wanted: Mapping[str, str], site_dir: Path
) -> str | None:
    """Why the site must be built again, or None when the last build is still good."""
    if not stamp:
        return "no previous build recorded"
    for key, reason in _REBUILD_REASONS.items():
        if stamp.get(key) != wanted[key]:
            return reason
    if not (site_dir / "index.html").is_file():
        return "the built site is missing"
    if stamp.get("output") != _tree_fingerprint([site_dir], site_dir):
        return "the built site was modified"
    return None


_ENV_TAG = re.compile(r"!ENV\s+(\[[^\]]*\]|\S+)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_names(config_text: str) -> set[str]:
    """The environment variables a MkDocs config reads with ``!ENV NAME`` or ``!ENV [A, B, x]``."""
    names = set()
    for match in _ENV_TAG.finditer(config_text):
        for item in match.group(1).strip("[]").split(","):
            if _ENV_NAME.fullmatch(item.strip()):
                names.add(item.strip())
    return names


def _site_build_env(options: RunOptions) -> dict[str, str]:
    """Variables mkdocs.yml reads with ``!ENV``: the API base and the site's own address."""
    return {
        "CLEARLOOP_API_URL": options.api_url,
        "CLEARLOOP_SITE_URL": options.site_url + "/",
    }


def _tree_fingerprint(paths: Iterable[Path], base: Path, extra: Iterable[str] = ()) -> str:
    """A digest of the names, sizes and modification times of every file under ``paths``."""
    digest = hashlib.sha256()
    for line in extra:
        digest.update(line.encode() + b"\n")
    for path in paths:
        for file in sorted(_files(path)):
            try:
                info = file.stat()
            except OSError:
                continue
            digest.update(f"{file.relative_to(base)}|{info.st_size}|{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        return
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in {"__pycache__", ".cache"}]
        for name in names:
            yield Path(folder) / name


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _start_site_server(stack: _Stack) -> None:
    options = stack.options
    stack.site_log = (options.log_dir / "site-access.log").open("a", encoding="utf-8")
    try:
        server = SiteServer(options.site_port, options.site_dir, options.api_url, stack.site_log)
    except OSError as e:
        raise RunnerError(
            f"cannot serve the site on {HOST}:{options.site_port} ({e.strerror}); "
            "choose another port with --site-port"
        ) from e
    stack.site_server = server
    stack.site_thread = threading.Thread(
        target=server.serve_forever, name="clearloop-site", daemon=True
    )
    stack.site_thread.start()


def _track_page(site_dir: Path) -> str | None:
    """The path of the "Track a ticket" page in the built site, if there is one."""
    if (site_dir / "track" / "index.html").is_file():
        return "/track/"
    for page in sorted(site_dir.glob("track*/index.html")):
        return f"/{page.parent.name}/"
    return None


def _summary(options: RunOptions, settings: Settings, jobs: Sequence[Job]) -> str:
    lines = [f"{READY_MARKER} (store: {STORE_LABELS[options.store]})"]
    lines.append(f"  site    {options.site_url}/")
    track = _track_page(options.site_dir)
    if track:
        lines.append(f"  track   {options.site_url}{track}")
    lines.append(f"  API     {options.api_url}/v1/health")
    if options.store == "sqlite":
        lines.append(f"  data    {settings.sqlite_path} (kept between runs)")
    else:
        lines.append(
            f"  data    table {settings.table_name!r} at {settings.dynamodb_endpoint} ({MOTO_NOTE})"
        )
    lines.append(f"  folder  {options.data_dir}")
    lines.append(f"  logs    {options.log_dir}")
    if jobs:
        names = ", ".join(f"{job.name} every {job.interval_seconds:g}s" for job in jobs)
        lines.append(f"  jobs    {names}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
