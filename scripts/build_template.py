#!/usr/bin/env python3
"""Package the app and write the AWS deployment's CloudFormation template (no AWS account needed).

Example::

    $ .venv/bin/python scripts/build_template.py --out build/infra --stage prod
    build/infra/template.json
    build/infra/deployment.zip
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# Run inside the project's virtual environment (chalice, pip) whichever python started us.
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])  # noqa: S606
sys.path.insert(0, str(ROOT))  # infra/ is imported from the repository root

from infra.build import DEFAULT_OUT, DEFAULT_REGION, STAGES, BuildError, build  # noqa: E402
from infra.template import PENDING_SITE_ORIGIN  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--stage", choices=STAGES, default="dev", help="chalice stage")
    parser.add_argument(
        "--site-origin",
        default=PENDING_SITE_ORIGIN,
        help="the site's https origin, allowed by the API's CORS (scripts/deploy fills it in)",
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help="AWS region for chalice")
    args = parser.parse_args(argv)
    try:
        result = build(args.out, stage=args.stage, site_origin=args.site_origin, region=args.region)
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    print(result.template_path)
    print(result.zip_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
