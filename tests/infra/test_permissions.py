"""Every AWS call the deployed code makes is allowed by the template, on the right resource.

The calls are read from the code itself: each module that holds an AWS client is scanned for
the client's methods it calls (``client.put_object(...)``, ``get_paginator("list_objects_v2")``),
each must be a real operation of that service (botocore's model), and ``IAM_ACTIONS`` maps it
to the IAM action that authorizes it. A new call without an entry fails here, before it fails
on AWS with AccessDenied; an entry whose grant is missing, or granted on another resource,
fails too. (The DynamoDB adapter's calls are checked the same way in test_template.py.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from infra.template import (
    CONTACT_KEY,
    FUNCTION_ROLE,
    MAC_KEY,
    METRIC_NAMESPACE,
    SES_SENDER,
    SITE_BUCKET,
    ses_identity_arns,
)
from tests.infra.test_template import as_list, identity_statements

API = Path(__file__).resolve().parents[2] / "api"

# Module (under api/) -> the AWS service whose client it calls.
CLIENT_MODULES = {
    "chalicelib/publish/sinks.py": "s3",
    "chalicelib/notify/ses.py": "ses",
    "chalicelib/observe/cloudwatch.py": "cloudwatch",
    "chalicelib/crypto/kms.py": "kms",
}
# boto3 method -> the IAM action that authorizes it (not always the operation's own name).
IAM_ACTIONS = {
    "s3": {
        "get_object": "s3:GetObject",
        "put_object": "s3:PutObject",
        "list_objects_v2": "s3:ListBucket",
        "delete_objects": "s3:DeleteObject",  # checked per key
    },
    "ses": {"send_email": "ses:SendEmail", "send_raw_email": "ses:SendRawEmail"},
    "cloudwatch": {"put_metric_data": "cloudwatch:PutMetricData"},
    "kms": {
        "generate_data_key": "kms:GenerateDataKey",
        "decrypt": "kms:Decrypt",
        "generate_mac": "kms:GenerateMac",
    },
}
SITE_OBJECTS = {"Fn::Sub": f"${{{SITE_BUCKET}.Arn}}/*"}
SITE_BUCKET_ARN = {"Fn::GetAtt": [SITE_BUCKET, "Arn"]}
ROLE = {"Fn::GetAtt": [FUNCTION_ROLE, "Arn"]}

# A client call: ``client.<method>(`` or, in kms.py, ``self._client.get().<method>(``.
_CALL = re.compile(r"(?:\bclient|\.get\(\))\s*\.\s*([a-z_0-9]+)\(")
_PAGINATOR = re.compile(r"get_paginator\(\s*[\"']([a-z_0-9]+)[\"']")


def client_calls(module: str, service: str) -> set[str]:
    """The operations of ``service`` that ``module`` calls through its client."""
    source = (API / module).read_text()
    calls = set(_CALL.findall(source)) | set(_PAGINATOR.findall(source))
    calls.discard("get_paginator")
    model = botocore.session.get_session().get_service_model(service)
    operations = {xform_name(name) for name in model.operation_names}
    unknown = calls - operations
    assert not unknown, f"{module}: {sorted(unknown)} are not {service} operations"
    assert calls, f"no {service} calls found in {module}: is the pattern out of date?"
    return calls


def granted(resources: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The role's statements that allow ``action``."""
    return [
        s
        for s in identity_statements(resources)
        if s["Effect"] == "Allow" and action in as_list(s["Action"])
    ]


@pytest.mark.parametrize(("module", "service"), CLIENT_MODULES.items())
def test_every_call_has_a_known_iam_action(module: str, service: str) -> None:
    missing = client_calls(module, service) - set(IAM_ACTIONS[service])
    assert not missing, f"{module} calls {sorted(missing)}: add its IAM action and grant it"


def test_the_publisher_may_use_the_site_bucket_and_nothing_else(
    resources: dict[str, Any],
) -> None:
    for call in client_calls("chalicelib/publish/sinks.py", "s3"):
        action = IAM_ACTIONS["s3"][call]
        statements = granted(resources, action)
        assert statements, f"{call} needs {action}"
        expected = SITE_BUCKET_ARN if action == "s3:ListBucket" else SITE_OBJECTS
        for statement in statements:
            assert as_list(statement["Resource"]) == [expected], statement


def test_notifications_may_be_sent_only_from_the_configured_sender(
    resources: dict[str, Any],
) -> None:
    for call in client_calls("chalicelib/notify/ses.py", "ses"):
        (statement,) = granted(resources, IAM_ACTIONS["ses"][call])
        assert statement["Resource"] == ses_identity_arns()
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": SES_SENDER}}}
    # With no sender configured the statement is left out altogether.
    (conditional,) = [
        s
        for role in resources.values()
        if role["Type"] == "AWS::IAM::Role"
        for policy in role["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if "Fn::If" in s
    ]
    assert conditional["Fn::If"][0] == "HasSesSender"
    assert conditional["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_ses_identities_are_the_sender_address_and_its_domain() -> None:
    address, domain = ses_identity_arns()
    assert address["Fn::Sub"].endswith(f":identity/${{{SES_SENDER}}}")
    template, variables = domain["Fn::Sub"]
    assert template.endswith(":identity/${Domain}")
    select = variables["Domain"]["Fn::Select"]
    assert select[0] == 1
    # What CloudFormation computes: "<sender>@x" split at "@", second part.
    for sender, expected in (("feedback@example.org", "example.org"), ("", "x")):
        text = select[1]["Fn::Split"][1]["Fn::Sub"].replace(f"${{{SES_SENDER}}}", sender)
        assert text.split(select[1]["Fn::Split"][0])[select[0]] == expected


def test_metrics_may_be_published_only_in_the_clearloop_namespace(
    resources: dict[str, Any],
) -> None:
    for call in client_calls("chalicelib/observe/cloudwatch.py", "cloudwatch"):
        (statement,) = granted(resources, IAM_ACTIONS["cloudwatch"][call])
        # PutMetricData has no resource-level permissions: "*" narrowed by the namespace.
        assert statement["Resource"] == "*"
        assert statement["Condition"] == {
            "StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}
        }


def test_the_keys_let_the_functions_make_exactly_the_calls_the_code_makes(
    resources: dict[str, Any],
) -> None:
    needed = {IAM_ACTIONS["kms"][c] for c in client_calls("chalicelib/crypto/kms.py", "kms")}
    allowed: set[str] = set()
    for key in (CONTACT_KEY, MAC_KEY):
        for statement in resources[key]["Properties"]["KeyPolicy"]["Statement"]:
            if statement["Principal"]["AWS"] == ROLE:
                allowed |= set(as_list(statement["Action"]))
    assert allowed == needed
    # And nothing in the role's own policies reaches KMS (the key policies decide alone).
    assert not [
        a for s in identity_statements(resources) for a in as_list(s["Action"]) if "kms:" in a
    ]


def test_the_functions_are_told_the_sender(template: dict[str, Any]) -> None:
    from infra.template import functions_of

    for function in functions_of(template).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CLEARLOOP_SES_SENDER"] == {"Ref": SES_SENDER}
        assert variables["CLEARLOOP_SITE_BUCKET"] == {"Ref": SITE_BUCKET}
    parameter = template["Parameters"][SES_SENDER]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("feedback@example.org")
    assert pattern.fullmatch("")
    assert not pattern.fullmatch("not an address")
