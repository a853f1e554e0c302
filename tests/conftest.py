"""Shared fixtures: every test gets its own real SQLite file under a temporary data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from starlette.testclient import TestClient
from tests.databases import database_url_for, dropped_afterwards

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Keyword search only: embedding every test's initiatives would make the suite slow.
    The hybrid tests (test_semantic_search.py) use the default encoder explicitly."""
    return Settings(data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model="none")


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """On the PostgreSQL run, drop the databases a test created (tests/databases.py)."""
    with dropped_afterwards():
        yield


class Browser(TestClient):
    """The Starlette test client acting as a browser: it fetches a page first to get its CSRF cookie."""

    def csrf(self) -> str:
        if not self.cookies.get("kb_csrf"):
            self.get("/")
        return self.cookies["kb_csrf"]

    def submit(self, url: str, data: dict[str, Any], **kwargs: Any):
        return self.post(url, data={**data, "csrf_token": self.csrf()}, **kwargs)


@pytest.fixture
def client(settings: Settings) -> Iterator[Browser]:
    with Browser(create_app(settings)) as test_client:
        yield test_client


def valid_initiative(**changes: Any) -> dict[str, Any]:
    """A complete, valid initiative in the shape of the API and import files."""
    data: dict[str, Any] = {
        "external_id": "GE-TEST-001",
        "province": "NL-GE",
        "kind": "living_lab",
        "title": "Wegdekinspectie met camera's op provinciale wegen",
        "summary": "Camera's op onderhoudsvoertuigen herkennen scheuren en gaten in het asfalt.",
        "description": "## Aanpak\n\nWe rijden **elke week** alle wegen.",
        "themes": ["mobiliteit", "data en AI"],
        "programme_line": "data",
        "phase": "pilot",
        "technologies": ["computer vision"],
        "suppliers": ["RoadSense"],
        "budget_eur": 250000,
        "start_date": "2025-03-01",
        "end_date": "2026-12-31",
        "contact_name": "Team Wegbeheer",
        "contact_email": "wegbeheer@gelderland.example",
        "links": ["https://gelderland.example/wegdek"],
        "status": "gepubliceerd",
        "lessons_learned": "Begin klein.",
        "results": "30% minder inspectie-uren.",
        "seeks_partners": True,
        "tender_date": "2027-04-01",
    }
    data.update(changes)
    return data


def as_form(data: dict[str, Any]) -> dict[str, Any]:
    """The same initiative as an HTML form would post it."""
    form = {k: ("" if v is None else v) for k, v in data.items() if k not in {"seeks_partners", "themes"}}
    form["technologies"] = "; ".join(data.get("technologies", []))
    form["suppliers"] = "; ".join(data.get("suppliers", []))
    form["links"] = "\n".join(data.get("links", []))
    form["themes"] = list(data.get("themes", []))
    if data.get("seeks_partners"):
        form["seeks_partners"] = "on"
    return form


def run_cli(data_dir: Path, *args: str, stdin: str | None = None,
            embedding_model: str = "none") -> subprocess.CompletedProcess[str]:
    """Run the real ``kennisbank`` command in a subprocess against the given data directory."""
    env = {**os.environ, "KENNISBANK_DATA_DIR": str(data_dir), "KENNISBANK_EMBEDDING_MODEL": embedding_model,
           "KENNISBANK_DATABASE_URL": database_url_for(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kennisbank", *args],
        cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )
