"""The packaged deployment (template.json and deployment.zip) against the issue's requirements.

Everything here reads the output of one real build (``conftest.built``); nothing needs AWS.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from app import app as chalice_app
from chalicelib.store.dynamodb.schema import TABLE_DEFINITION, TTL_ATTRIBUTE
from infra.build import BuildResult, compiled_file_problems
from infra.template import (
    ALARM_TOPIC,
    CONTACT_KEY,
    FUNCTION_ROLE,
    MAC_KEY,
    METRIC_NAMESPACE,
    REST_API,
    SITE_BUCKET,
    SITE_DISTRIBUTION,
    SITE_HEADERS,
    SITE_OAC,
    SLA_BREACH_METRIC,
    SWEEP_HANDLER,
    TABLE,
    functions_of,
)
from tests.infra.conftest import SITE_ORIGIN, STAGE

SUPPORTED_RUNTIMES = {"python3.12", "python3.13"}
DATA_SERVICES = {"dynamodb", "s3", "kms", "ses"}
SITE_OBJECTS = {"Fn::Sub": f"${{{SITE_BUCKET}.Arn}}/*"}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _unconditional(statements: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Statements, with each ``Fn::If`` replaced by whichever of its branches is a statement."""
    for statement in statements:
        if "Fn::If" in statement:
            _, *branches = statement["Fn::If"]
            yield from (b for b in branches if b != {"Ref": "AWS::NoValue"})
        else:
            yield statement


def identity_statements(resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of every IAM identity policy in the template (both branches of a
    conditional statement)."""
    for role in of_type(resources, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            yield from _unconditional(policy["PolicyDocument"]["Statement"])
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        yield from _unconditional(policy["Properties"]["PolicyDocument"]["Statement"])


def app_schedules() -> dict[str, str]:
    """Handler -> schedule expression of every ``@app.schedule`` in app.py."""
    found = {}
    for source in chalice_app.event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression is not None:
            text = expression if isinstance(expression, str) else expression.to_string()
            found[source.handler_string] = text
    return found


def template_schedules(template: dict[str, Any]) -> dict[str, set[str]]:
    """Handler -> schedule expressions of the template's scheduled functions."""
    found: dict[str, set[str]] = {}
    for function in functions_of(template).values():
        props = function["Properties"]
        for event in props.get("Events", {}).values():
            if event["Type"] == "Schedule":
                found.setdefault(props["Handler"], set()).add(event["Properties"]["Schedule"])
    return found


def alarms_on(resources: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    """Alarm properties that watch ``namespace/metric``, directly or in metric math."""
    found = []
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        watched = [(props.get("Namespace"), props.get("MetricName"))] + [
            (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
            for m in props.get("Metrics", [])
            if "MetricStat" in m
        ]
        if (namespace, metric) in watched:
            found.append(props)
    return found


def test_cfn_lint_reports_nothing(built: BuildResult) -> None:
    regions = ["us-east-1", "eu-west-1"]
    text = built.template_path.read_text()
    matches = lint(text, regions=regions, config=ManualArgs(regions=regions, include_checks=["I"]))
    assert [(m.rule.id, m.linenumber, m.message) for m in matches] == []


def test_table_is_the_schema_definition(resources: dict[str, Any]) -> None:
    table = resources[TABLE]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        assert props[key] == TABLE_DEFINITION[key], key
    assert set(TABLE_DEFINITION) <= set(props)


def test_table_has_pitr_kms_encryption_ttl_and_is_retained(resources: dict[str, Any]) -> None:
    table = resources[TABLE]
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert TTL_ATTRIBUTE == "ttl"
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_no_iam_wildcards_on_the_table_bucket_or_keys(resources: dict[str, Any]) -> None:
    statements = list(identity_statements(resources))
    assert statements
    for statement in statements:
        assert "NotAction" not in statement, statement
        assert "NotResource" not in statement, statement
        actions = as_list(statement["Action"])
        assert "*" not in json.dumps(actions), statement
        services = {action.split(":")[0] for action in actions}
        if services & DATA_SERVICES:
            for resource in as_list(statement["Resource"]):
                if resource == SITE_OBJECTS:
                    # The one accepted "*": the objects of the stack's own site bucket, and
                    # only for object actions.
                    assert set(actions) <= {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
                    continue
                assert "*" not in json.dumps(resource), statement
        elif "*" in as_list(statement["Resource"]):
            # Only PutMetricData, which has no resource-level permissions, and only for the
            # Clearloop namespace.
            assert actions == ["cloudwatch:PutMetricData"], statement
            assert statement["Condition"] == {
                "StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}
            }
    # The table's indexes are named one by one from the schema, and only for Query.
    index_resources = [
        r for s in statements if s["Action"] == ["dynamodb:Query"] for r in as_list(s["Resource"])
    ]
    names = [i["IndexName"] for i in TABLE_DEFINITION["GlobalSecondaryIndexes"]]
    # Each index of the stack's table, or of a restored table when RestoredTableName is set.
    assert [r["Fn::If"][2] for r in index_resources] == [
        {"Fn::Sub": f"${{{TABLE}.Arn}}/index/{n}"} for n in names
    ]
    assert [r["Fn::If"][1]["Fn::Sub"].split(":table/")[1] for r in index_resources] == [
        f"${{RestoredTableName}}/index/{n}" for n in names
    ]
    assert not any("dynamodb:Scan" in as_list(s["Action"]) for s in statements)


def test_functions_use_the_templates_role_and_no_sam_generated_policies(
    template: dict[str, Any],
) -> None:
    for name, function in functions_of(template).items():
        props = function["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [FUNCTION_ROLE, "Arn"]}, name
        assert "Policies" not in props, name


# SPEC section 4: the sweep every 5 minutes, the publisher hourly, housekeeping daily.
SPEC_SCHEDULES = {
    "app.sla_sweep": "rate(5 minutes)",
    "app.publish": "rate(1 hour)",
    "app.daily_housekeeping": "rate(1 day)",
}


def test_every_schedule_in_app_is_deployed_with_its_rate(template: dict[str, Any]) -> None:
    deployed = template_schedules(template)
    expected = app_schedules()
    assert expected == SPEC_SCHEDULES
    for handler, expression in expected.items():
        assert deployed.get(handler) == {expression}, (handler, expression, deployed)
    assert set(deployed) == set(expected)


def test_alarms_watch_errors_throttles_breaches_and_the_sweep(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    api_5xx = alarms_on(resources, "AWS/ApiGateway", "5XXError")
    assert [a["Dimensions"] for a in api_5xx] == [
        [{"Name": "ApiName", "Value": resources[REST_API]["Properties"]["Name"]}]
    ]
    lambda_errors = alarms_on(resources, "AWS/Lambda", "Errors")
    watched = {a["Dimensions"][0]["Value"]["Ref"] for a in lambda_errors}
    assert watched == set(functions_of(template))
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        (throttles,) = alarms_on(resources, "AWS/DynamoDB", metric)
        indexes = {
            d["Value"]
            for m in throttles["Metrics"]
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "GlobalSecondaryIndexName"
        }
        assert indexes == {i["IndexName"] for i in TABLE_DEFINITION["GlobalSecondaryIndexes"]}
    (breaches,) = alarms_on(resources, METRIC_NAMESPACE, SLA_BREACH_METRIC)
    assert breaches["Dimensions"] == [{"Name": "Stage", "Value": STAGE}]
    assert breaches["Threshold"] == 1
    (sweep,) = [
        n for n, f in functions_of(template).items() if f["Properties"]["Handler"] == SWEEP_HANDLER
    ]
    failures = resources["SweepFailuresAlarm"]["Properties"]
    assert failures["Namespace"] == "AWS/Lambda"
    assert failures["MetricName"] == "Errors"
    assert failures["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": sweep}}]
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": ALARM_TOPIC}]


def test_site_bucket_is_private_and_read_only_by_its_distribution(
    resources: dict[str, Any],
) -> None:
    bucket = resources[SITE_BUCKET]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "AccessControl" not in bucket
    assert "WebsiteConfiguration" not in bucket
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    site_policies = [
        p
        for p in of_type(resources, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": SITE_BUCKET}
    ]  # the photo bucket has its own (tests/infra/test_attachments_template.py)
    (policy,) = site_policies
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Action"] == "s3:GetObject"
        source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
        assert source.endswith(f":distribution/${{{SITE_DISTRIBUTION}}}")
    config = resources[SITE_DISTRIBUTION]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [SITE_OAC, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert resources[SITE_OAC]["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == (
        "always"
    )


def test_site_is_served_with_the_security_headers(resources: dict[str, Any]) -> None:
    config = resources[SITE_HEADERS]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert f"https://${{{REST_API}}}.execute-api." in directives["connect-src"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    behavior = resources[SITE_DISTRIBUTION]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": SITE_HEADERS}
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"


def test_api_gateway_throttles_every_method(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    (setting,) = resources[REST_API]["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    parameters = template["Parameters"]
    for key in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert parameters[setting[key]["Ref"]]["Default"] > 0
    throttled = resources[REST_API]["Properties"]["GatewayResponses"]["THROTTLED"]
    assert throttled["StatusCode"] == 429
    assert '"rate_limited"' in throttled["ResponseTemplates"]["application/json"]
    # OpenAPI: every 429 carries Retry-After, and the site may read it cross-origin.
    headers = throttled["ResponseParameters"]["Headers"]
    assert headers["Retry-After"] == "'1'"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    # The other gateway responses do not promise a wait.
    missing = resources[REST_API]["Properties"]["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert "Retry-After" not in missing["ResponseParameters"]["Headers"]


def test_cors_and_functions_point_at_this_stacks_resources(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    body = json.dumps(resources[REST_API]["Properties"]["DefinitionBody"])
    origins = set(re.findall(r'Access-Control-Allow-Origin": "([^"]*)"', body))
    assert origins == {f"'{SITE_ORIGIN}'"}
    for function in functions_of(template).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CLEARLOOP_STAGE"] == STAGE
        assert variables["CLEARLOOP_STORE"] == "dynamodb"
        assert variables["CLEARLOOP_TABLE"] == {
            "Fn::If": ["UseRestoredTable", {"Ref": "RestoredTableName"}, {"Ref": TABLE}]
        }
        assert variables["CLEARLOOP_KMS_KEY_ID"] == {"Fn::GetAtt": [CONTACT_KEY, "Arn"]}
        assert variables["CLEARLOOP_MAC_KEY_ID"] == {"Fn::GetAtt": [MAC_KEY, "Arn"]}
        assert variables["CLEARLOOP_SITE_ORIGIN"] == SITE_ORIGIN
        assert variables["CLEARLOOP_DATA_DIR"].startswith("/tmp/")


def test_keys_are_usable_only_by_the_functions_and_only_per_ticket(
    resources: dict[str, Any],
) -> None:
    contact, mac = resources[CONTACT_KEY], resources[MAC_KEY]
    assert contact["Properties"]["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert contact["Properties"]["EnableKeyRotation"] is True
    assert mac["Properties"]["KeySpec"] == "HMAC_256"
    assert mac["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    role = {"Fn::GetAtt": [FUNCTION_ROLE, "Arn"]}
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    for key in (contact, mac):
        assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            assert "*" not in json.dumps(statement["Action"]), statement
            assert statement["Principal"]["AWS"] in (role, root), statement
            if statement["Principal"]["AWS"] == root:  # manages, never uses
                assert not {"kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateMac"} & set(
                    statement["Action"]
                )
    (use,) = [
        s for s in contact["Properties"]["KeyPolicy"]["Statement"] if s["Principal"]["AWS"] == role
    ]
    assert use["Condition"]["Null"] == {"kms:EncryptionContext:ticket": "false"}


def test_runtime_is_supported_and_the_one_the_wheels_were_built_for(
    template: dict[str, Any], built: BuildResult
) -> None:
    runtimes = {f["Properties"]["Runtime"] for f in functions_of(template).values()}
    assert runtimes == {built.runtime}
    assert built.runtime in SUPPORTED_RUNTIMES


def test_zip_has_no_compiled_files_for_another_python(built: BuildResult) -> None:
    with zipfile.ZipFile(built.zip_path) as archive:
        names = archive.namelist()
    version = built.runtime.removeprefix("python").replace(".", "")
    # Independent of compiled_file_problems: any CPython tag but the runtime's, any bytecode.
    wrong = [n for n in names if re.search(r"cpython-3\d+", n) and f"cpython-{version}-" not in n]
    assert wrong == []
    assert [n for n in names if n.endswith(".pyc")] == []
    assert compiled_file_problems(names, built.runtime) == []
    # What the functions need is there: the app, chalice's runtime and the abi3 cryptography.
    assert {"app.py", "chalice/app.py", "chalicelib/crypto/kms.py"} <= set(names)
    assert "cryptography/hazmat/bindings/_rust.abi3.so" in names
    assert not any(n.startswith(("bin/", "vendor/")) for n in names)


def test_packages_without_abi3_wheels_come_built_for_the_runtime(built: BuildResult) -> None:
    """cffi, markupsafe and Pillow publish one wheel per CPython version: the build fetches the
    runtime's (not this interpreter's) for any such package, with no per-package setting."""
    version = built.runtime.removeprefix("python").replace(".", "")
    with zipfile.ZipFile(built.zip_path) as archive:
        infos = archive.infolist()
    names = {i.filename for i in infos}
    for module in (
        "_cffi_backend",
        "markupsafe/_speedups",
        "PIL/_imaging",
    ):
        assert f"{module}.cpython-{version}-x86_64-linux-gnu.so" in names, module
    assert any(n.startswith("pillow.libs/") for n in names)  # its bundled C libraries
    # Lambda's limit for a function's unzipped code (the zip is uploaded through S3).
    assert sum(i.file_size for i in infos) < 250 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("cffi/_cffi_backend.cpython-311-x86_64-linux-gnu.so", "3.11"),
        ("markupsafe/_speedups.cpython-313-darwin.so", "x86_64 Linux"),
        ("chalicelib/__pycache__/app.cpython-313.pyc", "bytecode"),
        ("pkg/ext.pyd", "Linux"),
    ],
)
def test_compiled_file_check_names_each_problem(name: str, problem: str) -> None:
    (found,) = compiled_file_problems([name], "python3.13")
    assert problem in found


def test_compiled_file_check_allows_abi3_runtime_tagged_and_plain_libraries() -> None:
    names = [
        "cryptography/hazmat/bindings/_rust.abi3.so",
        "_cffi_backend.cpython-313-x86_64-linux-gnu.so",
        "cffi.libs/libffi-40b3ba58.so.8.1.4",
        "jinja2/__init__.py",
    ]
    assert compiled_file_problems(names, "python3.13") == []


def test_role_allows_every_call_the_dynamodb_adapter_makes(resources: dict[str, Any]) -> None:
    """A new kind of DynamoDB call in the adapter must come with its permission (or it fails
    only on AWS, with AccessDenied)."""
    import chalicelib.store.dynamodb.store as adapter

    # Every module of the adapter (its mixins make calls too) but schema.py, which creates tables
    # for tests and the local stack only; ``self._client.get()`` is the lazy builder, not a call.
    modules = sorted(Path(adapter.__file__).parent.glob("*.py"))
    source = "".join(p.read_text() for p in modules if p.name != "schema.py")
    calls = set(re.findall(r"(?<![A-Za-z_])client\.([a-z_]+)\(", source))
    assert calls, "the adapter's client calls were not found"
    # Transactions are authorized per item, by the item actions they contain.
    implied = {
        "transact_write_items": {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
        "transact_get_items": {"GetItem"},
    }
    needed = set()
    for call in calls:
        needed |= implied.get(call, {"".join(w.title() for w in call.split("_"))})
    allowed = {
        action.removeprefix("dynamodb:")
        for statement in identity_statements(resources)
        for action in as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert needed <= allowed, needed - allowed
