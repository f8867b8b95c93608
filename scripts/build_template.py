#!/usr/bin/env python3
"""Package the app and write the AWS deployment's CloudFormation template (no AWS account needed).

Example::

    $ .venv/bin/python scripts/build_template.py --out build/infra --stage prod
    build/infra/template.json
    build/infra/deployment.zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: infra/

from infra.build import DEFAULT_OUT, DEFAULT_REGION, STAGES, BuildError, build
from infra.template import PENDING_SITE_ORIGIN


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
