"""The Open311 reference page's curl examples, run exactly as written against a real local stack.

As for the README's walk-through, only the API address changes (the stack runs on free ports)
and ``CLEARLOOP_DATA_DIR`` points the CLI (which issues the API key) at the stack's data folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.open311 import parse_xml
from tests.support.stack import REPO_ROOT, running_stack

pytestmark = pytest.mark.integration

PAGE = REPO_ROOT / "site" / "docs" / "reference" / "open311.md"


def examples() -> str:
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- open311:start -->\s*```bash\n(.*?)```\s*<!-- open311:end -->", text, re.S
    )
    assert block is not None, "the Open311 page has no example block"
    return block.group(1)


def xml_documents(output: str) -> list[str]:
    return re.findall(r'<\?xml version="1.0" encoding="UTF-8"\?>\n<[^\n]*', output)


@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])
def test_the_open311_examples_work_as_written(tmp_path: Path, store: str) -> None:
    script = examples()
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
    out = done.stdout
    lines = out.splitlines()
    docs = xml_documents(out)
    for doc in docs:
        parse_xml(doc)  # well-formed
    roots = [parse_xml(doc).tag for doc in docs]
    assert roots == ["services", "service_requests", "errors"], out

    discovery = json.loads(lines[0])
    assert discovery["endpoints"][0]["url"] == f"{stack.api_url}/open311/v2"
    definition = json.loads(next(line for line in lines if line.startswith('{"service_code"')))
    assert definition["attributes"][0]["code"] == "hazard_kind"

    created = json.loads(next(line for line in lines if '"service_notice"' in line))
    number = created[0]["service_request_id"]
    assert number.startswith("FB-")
    one = parse_xml(docs[1]).find("request")
    assert one is not None
    assert one.findtext("service_request_id") == number
    assert one.findtext("status") == "open"
    assert one.findtext("lat") == "51.5074"
    assert "ann@example.org" not in out

    listed = [
        json.loads(line)
        for line in lines
        if line.startswith('[{"service_request_id"') and '"status":' in line
    ]
    window, by_id, own = listed[0], listed[1], listed[2]
    assert number in [r["service_request_id"] for r in window]
    assert [r["service_request_id"] for r in by_id] == [number]
    assert own[0]["service_code"] == "service-waiting"
    assert own[0]["address_id"] == "counter-3"

    errors = parse_xml(docs[2])
    assert errors.findtext("error/code") == "403"
    too_long = json.loads(lines[-1])
    assert too_long == [
        {"code": 400, "description": "end_date: may not be more than 90 days after start_date"}
    ]
