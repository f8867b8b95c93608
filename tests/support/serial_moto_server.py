"""Moto's server, answering one request at a time: ``python serial_moto_server.py HOST PORT``.

``moto_server`` serves each request on its own thread, but moto's DynamoDB backend is not
thread-safe: a cancelled ``TransactWriteItems`` restores a deep copy of the whole table taken
before it ran, erasing writes that other threads made meanwhile, and concurrent copies fail with
"dictionary changed size during iteration". DynamoDB itself serializes transactions, so tests
that race requests (the contract suite's idempotency race) need a server that does too. This is
moto's own application (``moto.server``) behind werkzeug's single-threaded server.
"""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
