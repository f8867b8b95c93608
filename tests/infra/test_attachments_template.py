"""The photo bucket of the deployment (issue #12): private, encrypted, TLS only, quarantine
expiring, CORS for the site's POST only, least-privilege access, and the site's CSP."""

from __future__ import annotations

from typing import Any

import pytest

from infra.template import (
    ATTACHMENT_BUCKET,
    ATTACHMENT_BUCKET_POLICY,
    FUNCTION_ROLE,
    SITE_HEADERS,
    functions_of,
    merge_template,
)
from tests.infra.conftest import SITE_ORIGIN, STAGE


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    resources: dict[str, Any] = merge_template(STAGE, SITE_ORIGIN)["Resources"]
    return resources


def test_the_photo_bucket_is_private_and_encrypted(merged: dict[str, Any]) -> None:
    props = merged[ATTACHMENT_BUCKET]["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert merged[ATTACHMENT_BUCKET]["DeletionPolicy"] == "Retain"
    (deny,) = merged[ATTACHMENT_BUCKET_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_uploads_left_in_quarantine_expire_after_a_day(merged: dict[str, Any]) -> None:
    (rule,) = merged[ATTACHMENT_BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "quarantine/"
    assert rule["ExpirationInDays"] == 1
    assert rule["Status"] == "Enabled"


def test_cors_allows_the_sites_post_only(merged: dict[str, Any]) -> None:
    (rule,) = merged[ATTACHMENT_BUCKET]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == [SITE_ORIGIN]


def test_the_functions_reach_the_two_prefixes_only(merged: dict[str, Any]) -> None:
    policy = merged["AttachmentAccessPolicy"]["Properties"]
    assert policy["RoleName"] == {"Ref": FUNCTION_ROLE}
    objects, listing = policy["PolicyDocument"]["Statement"]
    assert sorted(objects["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert [r["Fn::Sub"] for r in objects["Resource"]] == [
        f"${{{ATTACHMENT_BUCKET}.Arn}}/quarantine/*",
        f"${{{ATTACHMENT_BUCKET}.Arn}}/attachments/*",
    ]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["attachments/*"]}}
    for resource in merged.values():  # nothing else touches the photo bucket
        text = str(resource)
        if ATTACHMENT_BUCKET in text and resource.get("Type") == "AWS::IAM::Role":
            pytest.fail("the function role names the photo bucket outside its own policy")


def test_the_site_csp_allows_the_bucket_and_previews(merged: dict[str, Any]) -> None:
    config = merged[SITE_HEADERS]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    directives = dict(d.strip().split(" ", 1) for d in csp["Fn::Sub"].split(";"))
    bucket = f"https://${{{ATTACHMENT_BUCKET}}}.s3.${{AWS::Region}}.amazonaws.com"
    assert bucket in directives["img-src"].split()
    assert "blob:" in directives["img-src"].split()
    assert bucket in directives["connect-src"].split()
    assert "'unsafe-inline'" not in csp["Fn::Sub"]


def test_every_function_is_told_the_bucket(template: dict[str, Any]) -> None:
    for name, function in functions_of(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CLEARLOOP_ATTACHMENT_BUCKET"] == {"Ref": ATTACHMENT_BUCKET}, name
