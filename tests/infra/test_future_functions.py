"""A schedule added to app.py flows into the deployment with no change to infra/.

This packages a small chalice app with other jobs and schedules than app.py's (a cron
expression, a job split in two) through the same merge and finishing steps as the real build,
without the vendored dependencies (a few seconds, no network).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from infra.build import RUNTIME, package, packaging_config
from infra.template import FUNCTION_ROLE, finish_template, functions_of, table_properties

FIXTURE_APP = """
from chalice import Chalice, Rate

app = Chalice(app_name="clearloop")


@app.route("/v1/health")
def health():
    return {"status": "ok"}


@app.schedule(Rate(5, unit=Rate.MINUTES))
def sla_sweep(event):
    return None


@app.schedule("rate(1 hour)")
def publish(event):
    return None


@app.schedule("rate(1 day)")
def auto_close(event):
    return None


@app.schedule("cron(15 3 * * ? *)")
def retention(event):
    return None
"""
EXPECTED = {
    "app.sla_sweep": "rate(5 minutes)",
    "app.publish": "rate(1 hour)",
    "app.auto_close": "rate(1 day)",
    "app.retention": "cron(15 3 * * ? *)",
}
ORIGIN = "https://d222222abcdef8.cloudfront.net"


@pytest.fixture(scope="module")
def future_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("future")
    project = root / "api"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").write_text(FIXTURE_APP)
    (project / "requirements.txt").write_text("")
    config = {"version": "2.0", "app_name": "clearloop", "stages": {"dev": {}}}
    (project / ".chalice" / "config.json").write_text(json.dumps(packaging_config(config)))
    template = package(project, root / "out", stage="dev", site_origin=ORIGIN, region="eu-west-1")
    return finish_template(template, stage="dev", site_origin=ORIGIN, runtime=RUNTIME)


def test_each_schedule_becomes_a_function_with_its_rate(future_template: dict[str, Any]) -> None:
    found = {}
    for function in functions_of(future_template).values():
        props = function["Properties"]
        for event in props.get("Events", {}).values():
            found[props["Handler"]] = event["Properties"]["Schedule"]
        assert props["Runtime"] == RUNTIME
        assert props["Role"] == {"Fn::GetAtt": [FUNCTION_ROLE, "Arn"]}
    assert found == EXPECTED


def test_each_scheduled_function_gets_logs_an_alarm_and_a_longer_timeout(
    future_template: dict[str, Any],
) -> None:
    resources = future_template["Resources"]
    assert resources["SlaSweep"]["Properties"]["Timeout"] == 240
    assert resources["APIHandler"]["Properties"]["Timeout"] == 28
    sweep_alarm = resources["SweepFailuresAlarm"]["Properties"]
    assert sweep_alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SlaSweep"}}]
    assert (sweep_alarm["EvaluationPeriods"], sweep_alarm["DatapointsToAlarm"]) == (3, 2)
    for name in ("Publish", "AutoClose", "Retention", "APIHandler"):
        assert f"{name}ErrorsAlarm" in resources
        assert resources[f"{name}LogGroup"]["Properties"]["RetentionInDays"] == 30
    logs = resources[FUNCTION_ROLE]["Properties"]["Policies"][-1]["PolicyDocument"]
    assert len(logs["Statement"][0]["Resource"]) == 5


def test_template_with_every_job_passes_cfn_lint(future_template: dict[str, Any]) -> None:
    matches = lint(
        json.dumps(future_template, indent=1),
        regions=["eu-west-1"],
        config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]),
    )
    assert [(m.rule.id, m.linenumber, m.message) for m in matches] == []


def test_a_table_setting_infra_does_not_know_fails_the_build() -> None:
    with pytest.raises(ValueError, match="StreamSpecification"):
        table_properties({"BillingMode": "PAY_PER_REQUEST", "StreamSpecification": {}})


def test_a_function_named_like_an_infra_resource_is_refused(tmp_path: Path) -> None:
    from infra.build import BuildError

    project = tmp_path / "api"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").write_text(
        FIXTURE_APP.split("@app.schedule", maxsplit=1)[0]
        + '@app.schedule("rate(1 day)")\ndef table(event):\n    return None\n'
    )
    (project / "requirements.txt").write_text("")
    config = {"version": "2.0", "app_name": "clearloop", "stages": {"dev": {}}}
    (project / ".chalice" / "config.json").write_text(json.dumps(packaging_config(config)))
    with pytest.raises(BuildError, match="'Table'"):
        package(project, tmp_path / "out", stage="dev", site_origin=ORIGIN, region="eu-west-1")
