"""moto's server, answering one request at a time, on 127.0.0.1.

DynamoDB runs each transaction atomically. moto's stock server is threaded, and its
TransactWriteItems is not atomic across threads (a failed transaction restores a copy of the whole
table, wiping writes other requests made meanwhile), so concurrent clients could lose data that
real DynamoDB would keep. Serving requests one at a time gives the local stack and the tests
DynamoDB's semantics. Usage: ``python scripts/moto_server.py PORT``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: moto_server.py PORT", file=sys.stderr)
        return 2
    port = int(args[0])
    os.environ.setdefault("MOTO_PORT", str(port))
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        app,
        threaded=False,
        use_reloader=False,
        request_handler=MotoRequestHandler,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
