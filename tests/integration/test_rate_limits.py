"""Per-client limits on the real local stack (``clearloop run`` on SQLite, over HTTP).

Day-long windows keep the test clear of window boundaries. Afterwards the raw database file must
not hold the caller's address, and the housekeeping sweep (run through the operator CLI, as the
runner's scheduler runs it) deletes the counters once their window has ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.stack import REPO_ROOT, http_request, running_stack

FEEDBACK = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "The queue at counter 3",
    "description": "Two hours, and nobody said why.",
}
AS_OF = ("--as-of", "+2d")  # both day windows have ended


def test_limits_on_the_local_stack_answer_429_and_store_no_address(tmp_path: Path) -> None:
    env = {
        "CLEARLOOP_RATE_SUBMIT": "1/1d",
        "CLEARLOOP_RATE_LOOKUP": "2/1d",
    }
    with running_stack(tmp_path / "data", site_dir=tmp_path / "site", env=env) as stack:
        origin = {"Origin": stack.site_url}
        created = http_request(
            "POST", stack.api_url + "/v1/feedback", body=FEEDBACK, headers=origin
        )
        assert created.status == 201, created.text
        number = created.json()["number"]

        refused = http_request(
            "POST", stack.api_url + "/v1/feedback", body=FEEDBACK, headers=origin
        )
        assert refused.status == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        wait = refused.header("Retry-After")
        assert wait is not None
        assert wait.isdigit()
        assert 1 <= int(wait) <= 86_400
        assert "Retry-After" in (refused.header("Access-Control-Expose-Headers") or "")

        for _ in range(2):
            looked = http_request("GET", f"{stack.api_url}/v1/tickets/{number}", headers=origin)
            assert looked.status == 200, looked.text
        assert http_request("GET", f"{stack.api_url}/v1/tickets/{number}").status == 429

        database = (stack.data_dir / "clearloop.db").read_bytes()
        wal = stack.data_dir / "clearloop.db-wal"
        stored = database + (wal.read_bytes() if wal.exists() else b"")
        assert b"127.0.0.1" not in stored

        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLOOP_")}
        cli_env["CLEARLOOP_DATA_DIR"] = str(stack.data_dir)
        swept = subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "sweep", "--jobs", "retention", *AS_OF],
            cwd=REPO_ROOT / "api",
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert swept.returncode == 0, swept.stdout + swept.stderr
        assert "rate counters purged: 2" in swept.stdout  # submit and lookup
