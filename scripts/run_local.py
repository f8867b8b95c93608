"""Run the portal locally without the ``clearloop`` console script: ``python scripts/run_local.py``.

Takes the same options as ``clearloop run`` (see ``--help``); the work is in chalicelib/runner.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[1] / "api"


def main(argv: list[str] | None = None) -> int:
    """Call ``clearloop run`` with ``argv`` (default: this script's arguments)."""
    if str(API_DIR) not in sys.path:
        sys.path.insert(0, str(API_DIR))
    from chalicelib.cli import main as clearloop

    return clearloop(["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
