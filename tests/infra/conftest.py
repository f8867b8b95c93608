"""Fixtures of the deployment tests: the packaged template and zip, built once per session.

``built`` runs the real build (``infra.build.build``: pip for the Lambda platform, then
``chalice package --merge-template``) into a temporary folder. The platform wheels are cached
under ``build/cache/`` (git-ignored), so only the first session on a machine downloads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.build import BuildResult, build

# A CloudFront-style origin, so the template is built as a second-pass deploy would build it.
SITE_ORIGIN = "https://d111111abcdef8.cloudfront.net"
STAGE = "prod"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The template and zip for ``STAGE``, as ``scripts/deploy`` would upload them."""
    return build(tmp_path_factory.mktemp("infra"), stage=STAGE, site_origin=SITE_ORIGIN)


@pytest.fixture(scope="session")
def template(built: BuildResult) -> dict[str, Any]:
    """The written template.json, parsed (what CloudFormation would receive)."""
    parsed: dict[str, Any] = json.loads(Path(built.template_path).read_text())
    return parsed


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found
