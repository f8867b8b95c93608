"""Importing the app builds nothing: no AWS client, no database connection, no boto3 import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"

PROBE = """
import json, sqlite3, sys
opened = []
real_connect = sqlite3.connect
def spy(*args, **kwargs):
    opened.append(str(args[0]) if args else "?")
    return real_connect(*args, **kwargs)
sqlite3.connect = spy
import app
from chalicelib import deps
print(json.dumps({
    "boto3": "boto3" in sys.modules,
    "botocore": "botocore" in sys.modules,
    "babel": "babel" in sys.modules,
    "sqlite_connections": opened,
    "built": sorted(deps._cache),
    "routes": len(app.app.routes),
}))
"""


def test_import_creates_no_client_or_connection(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=API,
        env={"CLEARLOOP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["routes"] > 5  # the probe really imported the app
    assert facts["boto3"] is False
    assert facts["botocore"] is False
    assert facts["babel"] is False  # Babel is imported only where dates and numbers are formatted
    assert facts["sqlite_connections"] == []
    assert facts["built"] == []
    assert list(tmp_path.iterdir()) == []  # no key file, no database file
