"""``clearloop demo`` and ``clearloop publish``, and the local runner's hourly publish job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import cli, deps, runner
from chalicelib.config import Settings


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLEARLOOP_STAGE", "local")
    monkeypatch.setenv("CLEARLOOP_STORE", "sqlite")
    monkeypatch.setenv("CLEARLOOP_DATA_DIR", str(tmp_path / "data"))
    # Registered so that whatever the commands set is undone after the test.
    monkeypatch.setenv("CLEARLOOP_PUBLISH_DIR", str(tmp_path / "unused"))
    monkeypatch.delenv("CLEARLOOP_SITE_BUCKET", raising=False)
    deps.reset()
    yield tmp_path
    deps.reset()


def test_demo_refuses_outside_the_local_stage(
    local_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLEARLOOP_STAGE", "dev")
    assert cli.main(["demo", "--tickets", "5"]) == 2
    assert "CLEARLOOP_STAGE must be local" in capsys.readouterr().err
    assert not (local_env / "data" / "clearloop.db").exists()


def test_demo_loads_data_that_publish_turns_into_pages(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo", "--tickets", "60", "--days", "30", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "demo: 60/60 tickets" in out
    summary = next(line for line in out.splitlines() if line.startswith("demo: 60 tickets"))
    assert "resolutions" in summary
    assert "approved for the board" in summary

    site = local_env / "site"
    (site).mkdir()
    (site / "index.html").write_text('<link rel="stylesheet" href="assets/css/clearloop.css">')
    assert cli.main(["publish", "--site-dir", str(site)]) == 0
    assert "published" in capsys.readouterr().out
    metrics = json.loads((site / "transparency" / "data" / "metrics.json").read_text())
    assert metrics["periods"][0]["key"] == "last-30-days"
    assert metrics["periods"][0]["overall"]["received"] > 0
    assert (site / "board" / "index.html").is_file()
    assert (site / "index.html").read_text().startswith("<link")  # the site's own page is kept
    board = json.loads((site / "transparency" / "data" / "board.json").read_text())
    for item in board["items"]:
        assert (site / "board" / "items" / item["id"] / "index.html").is_file()


def test_demo_bad_sizes(local_env: Path) -> None:
    assert cli.main(["demo", "--tickets", "0"]) == 2


def test_the_runner_publishes_hourly() -> None:
    jobs = {job.name: job for job in runner.JOBS}
    assert jobs["publish"].interval_seconds == 3600
    assert jobs["publish"].run is runner.publish_job


def test_the_publish_job_targets_the_served_site_and_keeps_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, site = tmp_path / "data", tmp_path / "site"
    data_dir.mkdir()
    site.mkdir()
    (site / "index.html").write_text("home")
    stamp = data_dir / "site-build.json"
    stamp.write_text(json.dumps({"site_dir": str(site), "output": "before"}))
    ran: list[tuple[str, ...]] = []

    def fake_cli_job(*arguments: str) -> Any:
        def run(ctx: runner.JobContext) -> None:
            ran.append(arguments)
            (site / "transparency").mkdir()
            (site / "transparency" / "index.html").write_text("published")

        return run

    monkeypatch.setattr(runner, "cli_job", fake_cli_job)
    settings = Settings.from_env({"CLEARLOOP_DATA_DIR": str(data_dir)})

    runner.publish_job(runner.JobContext(settings=settings, env={}, cwd=tmp_path))

    assert ran == [("publish", "--site-dir", str(site))]
    refreshed = json.loads(stamp.read_text())
    assert refreshed["output"] == runner._tree_fingerprint([site], site)
    assert refreshed["site_dir"] == str(site)
