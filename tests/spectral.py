"""Spectral, the linter the ADR rulesets are written for, installed from npm into .tools/ (gitignored).

`make test` runs ``python -m tests.spectral`` so CI has it before the suite starts; the lint test calls
`ensure_spectral` too, so a plain ``pytest`` run installs it on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SPECTRAL_PACKAGE = "@stoplight/spectral-cli@6.16.3"
TOOLS = Path(__file__).resolve().parent.parent / ".tools"
SPECTRAL = TOOLS / "node_modules" / ".bin" / "spectral"


class SpectralUnavailable(Exception):
    """node or npm is missing, so Spectral cannot be installed."""


def ensure_spectral() -> Path:
    """The Spectral executable, installed with npm when it is not there yet."""
    if SPECTRAL.exists():
        return SPECTRAL
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise SpectralUnavailable(f"{' and '.join(missing)} not installed (Debian: apt-get install nodejs npm)")
    TOOLS.mkdir(exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--silent", SPECTRAL_PACKAGE],
        check=True,
        timeout=600,
    )
    return SPECTRAL


if __name__ == "__main__":
    print(ensure_spectral())
