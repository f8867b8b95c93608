"""The packaged zip imports and serves a request on the Lambda runtime's Python version.

Lambda runs ``RUNTIME`` (3.13) while this machine packages with 3.11; if a CPython of the
runtime's version is installed (pyenv, Debian, ...), the zip's own code and wheels are loaded
with it, in isolation from this virtual environment, and the API handler answers a request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra.build import BuildResult, python_version

SMOKE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.update(
    CLEARLOOP_STAGE="prod",
    CLEARLOOP_STORE="dynamodb",
    CLEARLOOP_SITE_ORIGIN="https://d111111abcdef8.cloudfront.net",
    CLEARLOOP_DATA_DIR=sys.argv[2],
    AWS_DEFAULT_REGION="eu-west-1",
)
import io
import app, boto3, cryptography, markupsafe
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # abi3 Rust + cffi backend
from PIL import Image  # a cp313 extension with its own bundled C libraries

picture = io.BytesIO()
Image.new("RGB", (4, 4), (200, 30, 30)).save(picture, "PNG")
assert Image.open(io.BytesIO(picture.getvalue())).getpixel((1, 1)) == (200, 30, 30)
from chalicelib.crypto.kms import KmsEnvelopeCipher, make_kms_client

key = AESGCM.generate_key(bit_length=256)
assert AESGCM(key).decrypt(b"n" * 12, AESGCM(key).encrypt(b"n" * 12, b"ok", b"FB"), b"FB") == b"ok"
assert str(markupsafe.escape("<b>")) == "&lt;b&gt;"
make_kms_client("eu-west-1")  # botocore loads its service model on this Python
event = {
    "resource": "/v1/categories", "path": "/v1/categories", "httpMethod": "GET",
    "headers": {"Accept-Language": "en"}, "multiValueHeaders": {"Accept-Language": ["en"]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {
        "resourcePath": "/v1/categories", "httpMethod": "GET", "path": "/api/v1/categories",
        "stage": "api", "requestId": "smoke", "identity": {"sourceIp": "192.0.2.1"},
    },
}
response = app.app(event, None)
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
    "cryptography": cryptography.__file__,
    "pillow": Image.__file__,
    "status": response["statusCode"],
    "categories": len(json.loads(response["body"])["categories"]),
}))
"""


def _runtime_python(version: str) -> str | None:
    candidates = [shutil.which(f"python{version}")]
    candidates += [str(p) for p in Path.home().glob(f".pyenv/versions/{version}.*/bin/python3")]
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def test_zip_serves_a_request_on_the_runtime_python(built: BuildResult, tmp_path: Path) -> None:
    version = python_version(built.runtime)
    python = _runtime_python(version)
    if python is None:
        pytest.fail(
            f"no CPython {version} on this machine to load the zip with (this machine kind "
            f"ships it under ~/.pyenv/versions; install python{version} to run this check)"
        )
    code = tmp_path / "code"
    with zipfile.ZipFile(built.zip_path) as archive:
        archive.extractall(code)
    # -I: no user site, no PYTHONPATH, no current directory: only the zip's own files.
    done = subprocess.run(
        [python, "-I", "-c", SMOKE, str(code), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["python"] == version
    assert result["cryptography"].startswith(str(code))
    assert result["pillow"].startswith(str(code))
    assert result["status"] == 200
    assert result["categories"] > 0
