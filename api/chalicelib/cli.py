"""The operator command line: ``clearloop <command> [options]``.

Each subcommand is one function registered in ``COMMANDS`` with the function that declares its
options; ``main`` builds the parser from that table. Settings come from the environment
(``config.py``); options only override what they name.

Example::

    $ clearloop run                         # the whole portal locally (see runner.py)
    $ clearloop run --store dynamodb        # same, on the DynamoDB adapter against moto's server
    $ CLEARLOOP_DATA_DIR=/srv/clearloop clearloop init-store

    exit_code = main(["init-store", "--data-dir", "/tmp/clearloop"])
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib import runner
from chalicelib.config import STORES, Settings, SettingsError
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
