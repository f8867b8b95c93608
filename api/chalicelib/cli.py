"""The operator command line: ``clearloop <command> [options]``.

Each subcommand is one function registered in ``COMMANDS`` with the function that declares its
options; ``main`` builds the parser from that table. Settings come from the environment
(``config.py``); options only override what they name.

Example::

    $ clearloop run                         # the whole portal locally (see runner.py)
    $ clearloop run --store dynamodb        # same, on the DynamoDB adapter against moto's server
    $ CLEARLOOP_DATA_DIR=/srv/clearloop clearloop init-store
    $ clearloop backup /backups/clearloop-2026-11-25.db   # SQLite: safe while running

    exit_code = main(["init-store", "--data-dir", "/tmp/clearloop"])
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib import deps, runner
from chalicelib.config import STORES, Settings, SettingsError
from chalicelib.domain.staff import ROLES, StaffMember
from chalicelib.errors import ClearloopError
from chalicelib.store.sqlite import SqliteStore


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, options and handler (returns the exit code)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handle: Callable[[argparse.Namespace], int]
    description: str = ""
    epilog: str = ""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


# --- run ---------------------------------------------------------------------------------------

_RUN_EPILOG = """\
Everything binds to 127.0.0.1 only. With the SQLite store the data stays in the data folder
between runs. With --store dynamodb the runner starts moto's DynamoDB server as a child and
creates the table on it: moto keeps nothing across restarts, so that data is gone when the
stack stops. Logs of the children are in <data dir>/logs/. Ctrl-C or SIGTERM stops everything.
"""


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        choices=STORES,
        default="sqlite",
        help="sqlite: a file in the data folder, kept between runs (default); "
        "dynamodb: the DynamoDB adapter against moto's server, in memory only",
    )
    parser.add_argument("--api-port", type=_port, default=8000, help="API port (default 8000)")
    parser.add_argument("--site-port", type=_port, default=8001, help="site port (default 8001)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the SQLite file, local keys, the outbox and logs "
        "(default: .local in the project folder; git-ignored)",
    )
    parser.add_argument(
        "--site-dir",
        type=Path,
        default=None,
        help="where the site is built and served from (default: build/site in the project folder)",
    )
    parser.add_argument(
        "--no-build",
        dest="build",
        action="store_false",
        help="serve the site as last built instead of running mkdocs build "
        "(a build is skipped anyway when nothing under site/ or mkdocs.yml changed)",
    )


def cmd_run(args: argparse.Namespace) -> int:
    """Run the API, the site and the scheduler locally until Ctrl-C."""
    options = runner.RunOptions(
        store=args.store,
        api_port=args.api_port,
        site_port=args.site_port,
        data_dir=args.data_dir or runner.PROJECT_ROOT / ".local",
        site_dir=args.site_dir or runner.PROJECT_ROOT / "build" / "site",
        build=args.build,
    )
    return runner.run(options, base_env=os.environ)


# --- init-store --------------------------------------------------------------------------------


def _init_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", choices=STORES, default=None, help="override CLEARLOOP_STORE")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="override CLEARLOOP_DATA_DIR (SQLite)"
    )


def cmd_init_store(args: argparse.Namespace) -> int:
    """Create or migrate the SQLite schema, or create the DynamoDB table, then exit."""
    env = dict(os.environ)
    if args.store:
        env["CLEARLOOP_STORE"] = args.store
    if args.data_dir:
        env["CLEARLOOP_DATA_DIR"] = str(args.data_dir)
    settings = Settings.from_env(env)
    print(prepare_store(settings))
    return 0


def prepare_store(settings: Settings) -> str:
    """Make the configured store ready for use; idempotent. Returns what was done."""
    if settings.store == "sqlite":
        store = SqliteStore(settings.sqlite_path)
        try:
            version = store.migrate()
        finally:
            store.close()
        return f"SQLite store ready: {settings.sqlite_path} (schema version {version})"

    # Lazy: boto3 costs ~170 ms to import and the SQLite path never needs it.
    from chalicelib.store.dynamodb import schema
    from chalicelib.store.dynamodb.store import make_client

    schema.create_table(make_client(settings), settings.table_name)
    where = settings.dynamodb_endpoint or f"AWS region {settings.region}"
    return f"DynamoDB table {settings.table_name!r} ready at {where}"


# --- operating a store -------------------------------------------------------------------------


def operator_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands that act on the store.

    When ``CLEARLOOP_STORE`` is not set and a local stack (``clearloop run``) is running on the
    data folder, its ``stack.json`` says which store it uses, so ``clearloop staff add`` works
    beside ``make run --store dynamodb`` (whose moto endpoint changes every run).
    """
    env = dict(os.environ if base is None else base)
    if env.get("CLEARLOOP_STORE"):
        return env
    data_dir = Path(env.get("CLEARLOOP_DATA_DIR") or runner.PROJECT_ROOT / ".local")
    env.setdefault("CLEARLOOP_DATA_DIR", str(data_dir))
    stack_file = data_dir / runner.STACK_FILE
    try:
        info = json.loads(stack_file.read_text())
    except (OSError, ValueError):
        return env
    env["CLEARLOOP_STORE"] = str(info.get("store") or "sqlite")
    if info.get("dynamodb_endpoint"):
        env["CLEARLOOP_DYNAMODB_ENDPOINT"] = str(info["dynamodb_endpoint"])
        for name, value in runner.LOCAL_AWS_ENV.items():
            env.setdefault(name, value)
    return env


def _use_operator_env() -> None:
    """Point ``deps`` at the store this command should act on."""
    env = operator_env()
    os.environ.update(env)
    deps.reset()


def _staff_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a staff member (or --replace an existing one)")
    add.add_argument("id", help="login id: a lower-case slug, e.g. ann")
    add.add_argument("--name", required=True, help="display name (never shown publicly)")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--department",
        action="append",
        default=[],
        dest="departments",
        help="a department this member works for (repeat for several)",
    )
    add.add_argument("--replace", action="store_true", help="update an existing member")
    sub.add_parser("list", help="list staff members")
    for name, text in (("disable", "disable a member"), ("enable", "enable a member again")):
        p = sub.add_parser(name, help=text)
        p.add_argument("id")


def cmd_staff(args: argparse.Namespace) -> int:
    """Manage staff accounts."""
    _use_operator_env()
    service = deps.staff_access_service()
    if args.action == "add":
        m = service.add_staff(args.id, args.name, args.role, args.departments, replace=args.replace)
        print(f"staff {m.id}: {m.role} of {', '.join(m.departments) or 'every department'}")
    elif args.action == "list":
        for m in service.list_staff():
            state = "" if m.active else "  (disabled)"
            print(f"{m.id:<20} {m.role:<11} {','.join(m.departments) or '*':<30} {m.name}{state}")
    else:
        m = service.set_active(args.id, args.action == "enable")
        print(f"staff {m.id} {'enabled' if m.active else 'disabled'}")
    return 0


def _token_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    issue = sub.add_parser("issue", help="issue a bearer token (printed once)")
    issue.add_argument("staff_id")
    issue.add_argument("--days", type=int, default=90, help="valid for this many days (90)")
    issue.add_argument("--label", default="", help="a note, e.g. the device")
    issue.add_argument("--quiet", action="store_true", help="print only the token (for scripts)")
    lst = sub.add_parser("list", help="list a member's tokens (ids, never the tokens)")
    lst.add_argument("staff_id")
    rev = sub.add_parser("revoke", help="revoke a token by its id")
    rev.add_argument("staff_id")
    rev.add_argument("token_id", help="the id shown by 'token list' (at least 6 characters)")


def cmd_token(args: argparse.Namespace) -> int:
    """Issue, list and revoke staff tokens."""
    _use_operator_env()
    service = deps.staff_access_service()
    if args.action == "issue":
        issued = service.issue_token(args.staff_id, days=args.days, label=args.label)
        if args.quiet:
            print(issued.token)
        else:
            print(
                f"token {issued.token_id} for {args.staff_id}, valid until "
                f"{issued.record.expires_at:%Y-%m-%d %H:%M} UTC. Shown once:"
            )
            print(issued.token)
    elif args.action == "list":
        for t in service.list_tokens(args.staff_id):
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            print(f"{t.token_hash[:12]}  {state:<20} {used:<28} {t.label}")
    else:
        t = service.revoke_token(args.staff_id, args.token_id)
        print(f"token {t.token_hash[:12]} of {args.staff_id} revoked")
    return 0


def _canned_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a reply template")
    add.add_argument("--title", required=True)
    add.add_argument(
        "--text",
        required=True,
        help="the reply; {number}, {category} and {department} are filled in",
    )
    add.add_argument("--category", default=None, help="only for this category (default: all)")
    add.add_argument("--title-zh", default=None, help="the title in Simplified Chinese")
    add.add_argument(
        "--text-zh", default=None, help="the reply in Simplified Chinese (sent to zh tickets)"
    )
    sub.add_parser("list", help="list reply templates")
    rm = sub.add_parser("delete", help="delete a template")
    rm.add_argument("id")


def cmd_canned(args: argparse.Namespace) -> int:
    """Manage canned responses (as the system administrator)."""
    _use_operator_env()
    service = deps.ticket_work_service()
    operator = StaffMember("operator", "Operator", "admin", (), deps.clock().now())
    if args.action == "add":
        body = {"title": args.title, "text": args.text, "category": args.category}
        if args.title_zh is not None or args.text_zh is not None:
            body["translations"] = {"zh": {"title": args.title_zh, "text": args.text_zh}}
        c = service.add_canned(operator, body)
        print(f"canned response {c['id']} added")
    elif args.action == "list":
        for c in service.list_canned(operator, None):
            zh = c["translations"].get("zh", {}).get("title")
            print(
                f"{c['id']}  {c['category'] or '*':<24} {c['title']}" + (f" / {zh}" if zh else "")
            )
    else:
        service.delete_canned(operator, args.id)
        print(f"canned response {args.id} deleted")
    return 0


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        default="sla,autoclose,retention",
        help="comma-separated: sla, autoclose, retention (default: all)",
    )
    parser.add_argument(
        "--as-of",
        default=None,
        metavar="TIME",
        help="local stage only: sweep as if it were TIME (ISO 8601 with offset, or +Nd / +Nh "
        "from now), to try auto-close and breaches without waiting",
    )


class _FixedClock:
    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


def _as_of(text: str) -> datetime:
    now = datetime.now(UTC)
    if text.startswith("+") and text[-1:] in ("d", "h") and text[1:-1].isdigit():
        amount = int(text[1:-1])
        return now + (timedelta(days=amount) if text.endswith("d") else timedelta(hours=amount))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"--as-of: {text!r} is not ISO 8601 or +Nd/+Nh") from None
    if at.tzinfo is None:
        raise SettingsError("--as-of needs a UTC offset, e.g. 2026-12-01T09:00:00+00:00")
    return at


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep once: SLA warnings/breaches, auto-close, contact retention."""
    _use_operator_env()
    if args.as_of is not None:
        if deps.settings().stage != "local":
            raise SettingsError("--as-of is for the local stage only")
        deps.override(clock=_FixedClock(_as_of(args.as_of)))
    jobs = frozenset(j.strip() for j in args.jobs.split(",") if j.strip())
    try:
        report = deps.sweep_service().run(jobs)
    except ValueError as e:
        print(f"clearloop sweep: {e}", file=sys.stderr)
        return 2
    print(
        f"sweep ({','.join(sorted(jobs))}): read {report.read}, due soon {report.due_soon}, "
        f"breached {report.breached}, closed {report.closed}, purged {report.purged}, "
        f"notifications {len(report.notifications)}"
    )
    if "retention" in jobs:  # client hashes are kept only while their window lasts
        print(f"rate counters purged: {deps.rate_limit_service().purge_expired()}")
    return 0


# --- publishing and demo data ------------------------------------------------------------------


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site-dir",
        type=Path,
        default=None,
        help="the built site to publish into (default: CLEARLOOP_PUBLISH_DIR, build/site)",
    )
    parser.add_argument(
        "--bucket",
        default=None,
        help="publish to this S3 bucket instead (default: CLEARLOOP_SITE_BUCKET when set)",
    )


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the transparency page, the board, the feed and the open data once."""
    _use_operator_env()
    if args.site_dir is not None:
        os.environ["CLEARLOOP_PUBLISH_DIR"] = str(args.site_dir.resolve())
        os.environ.pop("CLEARLOOP_SITE_BUCKET", None)
    if args.bucket:
        os.environ["CLEARLOOP_SITE_BUCKET"] = args.bucket
    deps.reset()
    report = deps.publish_service().run()
    print(
        f"published {report.files} files to {report.where} ({report.board_items} board items, "
        f"{report.rollup_rows} rollup rows read); removed {report.deleted} old files"
    )
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tickets", type=int, default=300, help="how many tickets (300)")
    parser.add_argument("--days", type=int, default=90, help="spread over this many days (90)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data")


def cmd_demo(args: argparse.Namespace) -> int:
    """Load demo data into the local store through the API's use cases."""
    _use_operator_env()
    settings = deps.settings()
    if settings.stage != "local":
        print(
            f"clearloop demo: refusing to load made-up data on the {settings.stage!r} stage "
            "(CLEARLOOP_STAGE must be local)",
            file=sys.stderr,
        )
        return 2
    if not (1 <= args.tickets <= 100_000 and 1 <= args.days <= 3650):
        print("clearloop demo: --tickets 1-100000 and --days 1-3650", file=sys.stderr)
        return 2
    from chalicelib.services.demo import DemoLoader

    where = settings.sqlite_path if settings.store == "sqlite" else settings.table_name
    print(f"Loading {args.tickets} demo tickets over {args.days} days into {where}...")
    report = DemoLoader(
        tickets=args.tickets,
        days=args.days,
        seed=args.seed,
        progress=lambda line: print(line, flush=True),
    ).run()
    print(
        f"demo: {report.submitted} tickets, {report.resolved} resolutions, "
        f"{report.rejected} rejected, {report.merged} merged, {report.rated} ratings "
        f"({report.reopened} reopened), {report.breaches} SLA breaches, "
        f"{report.approved} approved for the board, {report.open_at_end} still open"
    )
    print(
        "Publish the pages with `clearloop publish` (the local stack does it hourly and at start)."
    )
    return 0


# --- backup and restore (SQLite) --------------------------------------------------------------

_BACKUP_EPILOG = """\
The SQLite store only (on AWS the table has point-in-time recovery: see the operations guide).
Safe while `clearloop run` is serving the data folder: the copy is the database as of one
instant. Exit status: 0 done, 1 refused or failed (the message says why), 2 bad settings.
"""
_RESTORE_EPILOG = """\
Stop `clearloop run` first (restore refuses while it serves the data folder). The replaced
database is kept as <database>.before-restore; an older backup is migrated to this version.
Exit status: 0 done, 1 refused (nothing was changed) or failed, 2 bad settings.
"""


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the backup file to write (replaced if it exists)")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="override CLEARLOOP_DATA_DIR (default .local)"
    )


def _restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a backup made by `clearloop backup`")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="override CLEARLOOP_DATA_DIR (default .local)"
    )


def _sqlite_settings(args: argparse.Namespace, command: str) -> Settings:
    base = dict(os.environ)
    if args.data_dir is not None:
        base["CLEARLOOP_DATA_DIR"] = str(args.data_dir)
    settings = Settings.from_env(operator_env(base))
    if settings.store != "sqlite":
        raise SettingsError(
            f"{command} is for the SQLite store; the DynamoDB table is backed up by "
            "point-in-time recovery (operations guide, 'Back up and restore')"
        )
    return settings


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent, verified copy of the SQLite database to FILE."""
    from chalicelib.store.sqlite_backup import BackupError, backup

    settings = _sqlite_settings(args, "backup")
    try:
        info = backup(settings.sqlite_path, args.file)
    except BackupError as e:
        print(f"clearloop backup: {e}", file=sys.stderr)
        return 1
    print(
        f"backed up {settings.sqlite_path} to {info.path}: {info.tickets} tickets, "
        f"schema version {info.schema_version}, {info.size} bytes (integrity check ok)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the SQLite database with a backup, keeping the old one beside it."""
    from chalicelib.store.sqlite_backup import BackupError, restore

    settings = _sqlite_settings(args, "restore")
    try:
        done = restore(
            args.file, settings.sqlite_path, running_file=settings.data_dir / runner.STACK_FILE
        )
    except BackupError as e:
        print(f"clearloop restore: {e}", file=sys.stderr)
        return 1
    source = done.restored_from
    migrated = (
        f", migrated from schema version {source.schema_version} to {done.schema_version}"
        if source.schema_version != done.schema_version
        else ""
    )
    print(f"restored {done.database} from {source.path}: {source.tickets} tickets{migrated}")
    if done.before_restore is not None:
        print(f"the previous database is kept as {done.before_restore}")
    return 0


# --- open311-key -------------------------------------------------------------------------------


def _open311_key_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    issue = sub.add_parser("issue", help="issue an API key for a client app (printed once)")
    issue.add_argument("--name", required=True, help="the app's name: a lower-case slug")
    issue.add_argument("--days", type=int, default=365, help="valid for this many days (365)")
    issue.add_argument("--quiet", action="store_true", help="print only the key (for scripts)")
    sub.add_parser("list", help="list the keys (ids and apps, never the keys)")
    rev = sub.add_parser("revoke", help="revoke a key by its id")
    rev.add_argument("key_id", help="the id shown by 'open311-key list' (at least 6 characters)")


def cmd_open311_key(args: argparse.Namespace) -> int:
    """Issue, list and revoke the API keys of Open311 client apps."""
    _use_operator_env()
    service = deps.open311_key_service()
    if args.action == "issue":
        issued = service.issue(args.name, days=args.days)
        if args.quiet:
            print(issued.key)
        else:
            print(
                f"Open311 key {issued.key_id} for {args.name}, valid until "
                f"{issued.record.expires_at:%Y-%m-%d %H:%M} UTC. Shown once:"
            )
            print(issued.key)
    elif args.action == "list":
        for t in service.list():
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            print(f"{t.token_hash[:12]}  {state:<20} {t.label}")
    else:
        t = service.revoke(args.key_id)
        print(f"Open311 key {t.token_hash[:12]} of {t.label} revoked")
    return 0


# --- the table ---------------------------------------------------------------------------------

COMMANDS: list[Command] = [
    Command(
        name="run",
        help="run the API, the site and the scheduler locally",
        description="Run the whole portal on this machine: the API (chalice local), the built "
        "site and the scheduler loop.",
        add_arguments=_run_arguments,
        handle=cmd_run,
        epilog=_RUN_EPILOG,
    ),
    Command(
        name="init-store",
        help="create or migrate the SQLite file, or create the DynamoDB table, and exit",
        description="Prepare the store named by CLEARLOOP_STORE (or --store): create or migrate "
        "the SQLite schema, or create the DynamoDB table (at CLEARLOOP_DYNAMODB_ENDPOINT when "
        "set).",
        add_arguments=_init_store_arguments,
        handle=cmd_init_store,
    ),
    Command(
        name="staff",
        help="add, list, disable and enable staff members",
        add_arguments=_staff_arguments,
        handle=cmd_staff,
    ),
    Command(
        name="token",
        help="issue, list and revoke staff bearer tokens",
        add_arguments=_token_arguments,
        handle=cmd_token,
    ),
    Command(
        name="canned",
        help="add, list and delete canned responses",
        add_arguments=_canned_arguments,
        handle=cmd_canned,
    ),
    Command(
        name="sweep",
        help="run the SLA sweep, auto-close and retention once",
        add_arguments=_sweep_arguments,
        handle=cmd_sweep,
    ),
    Command(
        name="publish",
        help="publish the transparency page, the board and the open data once",
        description="Compute the figures from the daily rollups and write the transparency "
        "page, the resolved-issue board, its Atom feed and the open data (JSON, CSV) to the site "
        "bucket (CLEARLOOP_SITE_BUCKET) or into the built site folder.",
        add_arguments=_publish_arguments,
        handle=cmd_publish,
    ),
    Command(
        name="demo",
        help="load demo data into the local store (local stage only)",
        description="Load a realistic data set (a few hundred tickets over 90 days, with "
        "replies, breaches, resolutions, ratings, reopenings and approved board items) into the "
        "local store through the same use cases the API calls. Refuses to run unless "
        "CLEARLOOP_STAGE is local.",
        add_arguments=_demo_arguments,
        handle=cmd_demo,
    ),
    Command(
        name="backup",
        help="write a consistent, verified copy of the SQLite database (safe while running)",
        description="Copy the SQLite database with SQLite's backup API (a consistent copy "
        "while the portal runs), check it (integrity check, schema version) and write it to "
        "FILE atomically, readable by its owner only.",
        add_arguments=_backup_arguments,
        handle=cmd_backup,
        epilog=_BACKUP_EPILOG,
    ),
    Command(
        name="restore",
        help="replace the SQLite database with a backup (portal stopped)",
        description="Check FILE (an intact Clearloop database of this or an older version), "
        "migrate a copy of it to this version and put it in place of the SQLite database, "
        "keeping the replaced one as <database>.before-restore.",
        add_arguments=_restore_arguments,
        handle=cmd_restore,
        epilog=_RESTORE_EPILOG,
    ),
    Command(
        name="open311-key",
        help="issue, list and revoke the API keys of Open311 client apps",
        description="API keys for Open311 GeoReport v2 client apps (needed to submit service "
        "requests). A key is printed once and stored only as a hash.",
        add_arguments=_open311_key_arguments,
        handle=cmd_open311_key,
    ),
]


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The ``clearloop`` parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="clearloop", description="Clearloop operator command line."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in commands:
        child = sub.add_parser(
            command.name,
            help=command.help,
            description=textwrap.fill(command.description or command.help, 78),
            epilog=command.epilog or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(child)
        child.set_defaults(handle=command.handle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's arguments), run the command, return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already reported by argparse
        return e.code if isinstance(e.code, int) else 1
    handle: Callable[[argparse.Namespace], int] = args.handle
    try:
        return handle(args)
    except SettingsError as e:
        print(f"clearloop: {e}", file=sys.stderr)
        return 2
    except ClearloopError as e:
        print(f"clearloop: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
