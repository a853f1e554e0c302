"""The OpenAPI document the app serves passes both ADR Spectral rulesets (tests/adr/) without an error.

Warnings are allowed where docs/importing-and-api.md (the API section) explains them. Spectral must be installable: the
test skips only outside CI when node or npm is missing; in CI (CI=true) that fails instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Browser
from tests.spectral import SpectralUnavailable, ensure_spectral

RULESETS = Path(__file__).resolve().parent / "adr"
ERROR = 0  # Spectral's severities: 0 error, 1 warning, 2 info, 3 hint


@pytest.fixture(scope="module")
def spectral() -> Path:
    try:
        return ensure_spectral()
    except SpectralUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"Spectral is required in CI: {missing}")
        pytest.skip(f"Spectral cannot be installed: {missing}")


@pytest.mark.parametrize("ruleset", ["adr-2.1.0-spectral.yml", "adr-2.2.0-rc.1-linter.yaml"])
def test_the_served_openapi_document_has_no_adr_errors(
    anonymous: Browser, spectral: Path, tmp_path: Path, ruleset: str
):
    served = anonymous.get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = tmp_path / "openapi.json"
    document.write_bytes(served.content)
    report = tmp_path / "report.json"
    run = subprocess.run(
        [
            str(spectral),
            "lint",
            "--quiet",
            "--ruleset",
            str(RULESETS / ruleset),
            "--format",
            "json",
            "--output",
            str(report),
            "--fail-severity",
            "error",
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), run.stderr
    findings = json.loads(report.read_text() or "[]")
    errors = [
        f"{f['code']} at {'.'.join(map(str, f['path']))}: {f['message']}" for f in findings if f["severity"] == ERROR
    ]
    assert errors == [], "\n".join(errors)
    assert run.returncode == 0, run.stderr
