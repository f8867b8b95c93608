"""Package the app for AWS Lambda and write the deployment's CloudFormation template.

``build(out_dir)`` writes ``<out>/template.json`` (one SAM/CloudFormation template: the API, every
scheduled function and the resources of :mod:`infra.template`) and ``<out>/deployment.zip`` (the
code of every function). It needs no AWS account; it needs PyPI (through pip's configured
indexes) the first time, for the Lambda platform's wheels, which are then cached.

Why the runtime is handled here: chalice picks the Lambda runtime *and* the wheels of compiled
dependencies from the interpreter that runs it (CPython 3.11 on the build machine), and has no
setting for either. So the build

1. stages a copy of ``api/`` whose ``requirements.txt`` is empty (chalice then downloads nothing)
   and whose ``vendor/`` holds the runtime dependencies installed by pip *for the Lambda
   platform*: CPython ``RUNTIME``'s version, manylinux x86_64, binary wheels only, at the
   versions installed in this environment (the ones the tests ran against). chalice copies
   ``vendor/`` into the zip as it is;
2. runs ``chalice package --merge-template`` (chalice's own role management off: the template
   brings a least-privilege role);
3. sets ``RUNTIME`` on every function (:func:`infra.template.finish_template`) and checks that
   every compiled extension in the zip is ``abi3`` or built for ``RUNTIME`` exactly.

Example::

    $ .venv/bin/python scripts/build_template.py --out build/infra --stage prod

    result = build(Path("build/infra"), stage="prod")
    result.template_path   # build/infra/template.json
    result.zip_path        # build/infra/deployment.zip
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infra.template import (
    PENDING_SITE_ORIGIN,
    ROLE_PLACEHOLDER,
    finish_template,
    merge_template,
)

ROOT: Final = Path(__file__).resolve().parent.parent
API_DIR: Final = ROOT / "api"
DEFAULT_OUT: Final = ROOT / "build" / "infra"
DEFAULT_CACHE: Final = ROOT / "build" / "cache" / "lambda-vendor"

# Supported until 2029 (cfn-lint's runtime lifecycle data); 3.12 would also do. The wheels are
# chosen for this version, so changing it here changes both together.
RUNTIME: Final = "python3.13"
# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34) on x86_64.
PLATFORMS: Final = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
DEFAULT_REGION: Final = "us-east-1"
STAGES: Final = ("dev", "prod")
# Bump when the vendoring recipe changes, so stale caches are not reused.
_VENDOR_RECIPE: Final = "1"

_EXTENSION = re.compile(r"\.(so|pyd|dylib)(\.[0-9.]+)?$")
_CPYTHON_TAG = re.compile(r"\.cpython-(\d)(\d+)[-.]")


class BuildError(RuntimeError):
    """The package or the template cannot be built; the message says what to do."""


@dataclass(frozen=True)
class BuildResult:
    template_path: Path
    zip_path: Path
    template: dict[str, Any]
    stage: str
    site_origin: str
    runtime: str


def python_version(runtime: str = RUNTIME) -> str:
    """``"python3.13"`` -> ``"3.13"``."""
    if not re.fullmatch(r"python3\.\d+", runtime):
        raise BuildError(f"not a Lambda Python runtime: {runtime!r}")
    return runtime.removeprefix("python")


def compiled_file_problems(names: list[str], runtime: str = RUNTIME) -> list[str]:
    """Files in a Lambda zip that would not load (or would load stale) on ``runtime``.

    Allowed: pure Python, ``abi3`` extensions, extensions tagged for ``runtime``'s CPython on
    x86_64 Linux, and shared libraries without a Python tag (bundled C libraries). Anything
    tagged for another CPython or platform, and any ``.pyc``, is a problem.
    """
    major, minor = python_version(runtime).split(".")
    problems = []
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base.endswith(".pyc"):
            problems.append(f"{name}: bytecode of the packaging interpreter")
            continue
        if not _EXTENSION.search(base) or ".abi3." in base:
            continue
        tag = _CPYTHON_TAG.search(base)
        if tag and (tag.group(1), tag.group(2)) != (major, minor):
            problems.append(f"{name}: built for CPython {tag.group(1)}.{tag.group(2)}")
        elif tag and "x86_64-linux-gnu" not in base:
            problems.append(f"{name}: not built for x86_64 Linux")
        elif base.endswith((".pyd", ".dylib")):
            problems.append(f"{name}: not a Linux library")
    return problems


def _constraints() -> str:
    """``name==version`` of every distribution in this environment (the tested versions)."""
    pins = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and "+" not in dist.version:  # local builds have no wheel on an index
            pins.add(f"{name.lower()}=={dist.version}")
    return "\n".join(sorted(pins)) + "\n"


def _link_or_copy_tree(source: Path, target: Path) -> None:
    """Hard-link a cached tree into the stage (fast), copying where links are impossible."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def vendor_dependencies(requirements: Path, runtime: str, cache_dir: Path) -> Path:
    """Install ``requirements`` for the Lambda platform into a cached folder and return it."""
    constraints = _constraints()
    key = hashlib.sha256(
        "\0".join(
            [_VENDOR_RECIPE, runtime, *PLATFORMS, requirements.read_text(), constraints]
        ).encode()
    ).hexdigest()[:16]
    target = cache_dir / f"{runtime}-{key}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".vendor-", dir=cache_dir))
    try:
        constraints_file = work / "constraints.txt"
        constraints_file.write_text(constraints)
        site = work / "site"
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # bytecode of this interpreter would be wrong on the runtime
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version(runtime),
            *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
            "--target",
            str(site),
            "-r",
            str(requirements),
            "-c",
            str(constraints_file),
        ]
        # Fixed argv (this interpreter's pip), no shell.
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BuildError(
                f"pip could not install {requirements.name} for {runtime} on Linux x86_64 "
                f"(it needs PyPI or a mirror with those wheels):\n{done.stderr[-3000:]}"
            )
        # Console scripts point at this machine's interpreter; Lambda never runs them.
        shutil.rmtree(site / "bin", ignore_errors=True)
        try:
            site.rename(target)
        except OSError:
            if not target.is_dir():  # not "another build got there first"
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def packaging_config(config: dict[str, Any]) -> dict[str, Any]:
    """``.chalice/config.json`` as packaged: chalice manages no role, the template brings one.

    chalice's generated policy would be broad, and its source analysis cannot even read app.py
    (it fails on the type annotations); the template's role is least-privilege instead.
    """
    return {**config, "manage_iam_role": False, "iam_role_arn": ROLE_PLACEHOLDER}


def stage_project(stage_dir: Path, vendor: Path) -> Path:
    """A copy of ``api/`` as chalice should package it; returns the project folder."""
    project = stage_dir / "api"
    shutil.rmtree(stage_dir, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy2(API_DIR / "app.py", project / "app.py")
    shutil.copytree(
        API_DIR / "chalicelib",
        project / "chalicelib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache"),
    )
    (project / ".chalice").mkdir()
    config = packaging_config(json.loads((API_DIR / ".chalice" / "config.json").read_text()))
    (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    (project / "requirements.txt").write_text(
        "# Empty on purpose: vendor/ holds the dependencies, built for the Lambda runtime.\n"
    )
    _link_or_copy_tree(vendor, project / "vendor")
    return project


def _chalice() -> str:
    beside = Path(sys.executable).with_name("chalice")
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise BuildError("chalice is not installed: pip install -e '.[dev]'")
    return found


def _package_env(stage: str, site_origin: str, region: str) -> dict[str, str]:
    # app.py reads its settings when chalice imports it: start from none of the caller's.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLEARLOOP_"))}
    env.update(
        {
            "AWS_DEFAULT_REGION": region,  # chalice package refuses to run without one
            "CLEARLOOP_STAGE": stage,
            "CLEARLOOP_STORE": "dynamodb",
            # Baked into the API's CORS preflight answers by chalice.
            "CLEARLOOP_SITE_ORIGIN": site_origin,
        }
    )
    return env


def build(
    out_dir: Path = DEFAULT_OUT,
    *,
    stage: str = "dev",
    site_origin: str = PENDING_SITE_ORIGIN,
    region: str = DEFAULT_REGION,
    cache_dir: Path = DEFAULT_CACHE,
    runtime: str = RUNTIME,
) -> BuildResult:
    """Package the app and write ``template.json`` and ``deployment.zip`` into ``out_dir``."""
    if stage not in STAGES:
        raise BuildError(f"stage must be one of {', '.join(STAGES)} (api/.chalice/config.json)")
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?", site_origin):
        raise BuildError(f"site origin must look like https://host, got {site_origin!r}")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor = vendor_dependencies(API_DIR / "requirements.txt", runtime, cache_dir.resolve())
    project = stage_project(out_dir / "stage", vendor)
    packaged = out_dir / "chalice"
    template = package(project, packaged, stage=stage, site_origin=site_origin, region=region)
    finish_template(template, stage=stage, site_origin=site_origin, runtime=runtime)
    zip_path = out_dir / "deployment.zip"
    shutil.copy2(packaged / "deployment.zip", zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        problems = compiled_file_problems(archive.namelist(), runtime)
    if problems:
        raise BuildError("the zip would not run on " + runtime + ":\n" + "\n".join(problems))
    template_path = out_dir / "template.json"
    template_path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    with contextlib.suppress(OSError):  # the stage is only kept for inspection
        shutil.rmtree(out_dir / "stage")
    return BuildResult(template_path, zip_path, template, stage, site_origin, runtime)


def package(
    project: Path, packaged: Path, *, stage: str, site_origin: str, region: str
) -> dict[str, Any]:
    """Run ``chalice package --merge-template`` on ``project`` into ``packaged``; returns the
    merged template (before :func:`infra.template.finish_template`)."""
    merge = merge_template(stage, site_origin)
    merge_path = packaged.parent / f"{packaged.name}-merge.json"
    merge_path.write_text(json.dumps(merge, indent=2, sort_keys=True))
    shutil.rmtree(packaged, ignore_errors=True)
    done = subprocess.run(  # noqa: S603 - fixed argv (chalice beside this interpreter), no shell
        [
            _chalice(),
            "--project-dir",
            str(project),
            "package",
            "--stage",
            stage,
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "json",
            "--merge-template",
            str(merge_path),
            str(packaged),
        ],
        capture_output=True,
        text=True,
        env=_package_env(stage, site_origin, region),
        check=False,
    )
    if done.returncode != 0:
        raise BuildError(f"chalice package failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    template: dict[str, Any] = json.loads((packaged / "sam.json").read_text())
    for name, resource in merge["Resources"].items():
        # chalice deep-merges by logical ID: a function whose CamelCase name equals one of ours
        # would be fused with it. Ours must come out exactly as they went in.
        if "Type" in resource and template["Resources"].get(name) != resource:
            raise BuildError(f"chalice generated a resource named {name!r}: rename it in app.py")
    return template
