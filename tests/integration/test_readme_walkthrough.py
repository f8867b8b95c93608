"""The README's walk-through, run exactly as written against a real local stack.

Only the API address is changed (the stack runs on free ports) and ``CLEARLOOP_DATA_DIR`` points
the CLI at the stack's data folder, as ``make run`` and the README's commands share ``.local``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import REPO_ROOT, running_stack

pytestmark = pytest.mark.integration

EXPECTED = [
    "P2",
    "acknowledged",
    "awaiting_info",
    "acknowledged",
    "resolved",
    "reopened",
    "True",
    "resolved",
    "closed",
]


def walkthrough() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S
    )
    assert block is not None, "README has no walk-through block"
    return block.group(1)


@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])
def test_readme_walkthrough_works_as_written(tmp_path: Path, store: str) -> None:
    script = walkthrough()
    assert "API=http://127.0.0.1:8000" in script
    with running_stack(tmp_path / "data", store=store) as stack:
        script = script.replace("API=http://127.0.0.1:8000", f"API={stack.api_url}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLOOP_", "AWS_"))}
        env["CLEARLOOP_DATA_DIR"] = str(stack.data_dir)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert lines[:2] == [
        "staff sue: supervisor of customer-service",
        "staff al: agent of customer-service",
    ]
    assert lines[2].startswith("ticket FB-")
    statuses = [line for line in lines[3:] if not line.startswith("sweep")]
    assert statuses == EXPECTED, done.stdout
    assert any(line.startswith("sweep (autoclose): read 1") for line in lines), done.stdout
