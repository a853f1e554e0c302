"""Shared fixtures: every test gets its own real SQLite file under a temporary data directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from kennisbank import audit
from kennisbank.accounts import passwords
from kennisbank.accounts import service as accounts
from kennisbank.models import User
from kennisbank.searching import embedding_jobs
from kennisbank.settings import Settings
from kennisbank.taxonomy import find_province
from kennisbank.web.app import create_app
from tests.databases import database_url_for, dropped_afterwards, migrated_database_url_for

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Keyword search only: embedding every test's initiatives would make the suite slow.
    The hybrid tests (test_semantic_search.py) use the default encoder explicitly."""
    return Settings(data_dir=data_dir, database_url=migrated_database_url_for(data_dir), embedding_model="none")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2id at its lowest cost inside the test process: the recommended cost (~130 ms a hash)
    spent on every test's logins made minutes of the suite. Subprocesses (the CLI, the browser tests'
    server) hash at the production cost, which test_login.py checks."""
    saved = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("kennisbank-dummy-password")
    yield
    passwords._hasher, passwords._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """On the PostgreSQL run, drop the databases a test created (tests/databases.py)."""
    with dropped_afterwards():
        yield


TEST_PASSWORD = "correct paard batterij nietje"


class Browser(TestClient):
    """The Starlette test client acting as a browser: it fetches a page first to get its CSRF cookie,
    and logs in through the real login form."""

    def csrf(self) -> str:
        if not self.cookies.get("kb_csrf"):
            self.get("/inloggen")
        return self.cookies["kb_csrf"]

    def submit(self, url: str, data: dict[str, Any], **kwargs: Any):
        return self.post(url, data={**data, "csrf_token": self.csrf()}, **kwargs)

    send_csrf_header = True  # like a script on our own pages; switch off to act as a forging site

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[tuple[str, str | None], dict[str, str]] = {}

    def request(self, method: str, url: Any, **kwargs: Any):  # type: ignore[override]
        """Unsafe API calls carry the X-CSRF-Token header, as our own pages' scripts would."""
        headers = dict(kwargs.pop("headers", None) or {})
        if (
            self.send_csrf_header
            and method.upper() not in {"GET", "HEAD", "OPTIONS"}
            and str(url).startswith("/api/")
            and "Authorization" not in headers
        ):
            headers.setdefault("X-CSRF-Token", self.csrf())
        return super().request(method, url, headers=headers, **kwargs)

    def bearer(self, province: str | None = "NL-GE", role: str = "medewerker") -> dict[str, str]:
        """Authorization headers with an API token of a (new or existing) account of this role and province."""
        key = (role, province)
        if key not in self._tokens:
            email = f"api.{role}.{(province or 'ida').lower()}@test.example"
            user = self.run(User.get_or_none, email=email) or self.make_user(role, province, email=email)
            new = self.run(accounts.create_token, audit.Actor(user), "tests")
            self._tokens[key] = {"Authorization": f"Bearer {new.token}"}
        return self._tokens[key]

    def create_initiative(self, **changes: Any) -> dict[str, Any]:
        """Post `valid_initiative(**changes)` through the API as a medewerker of its province."""
        data = valid_initiative(**changes)
        province = find_province(data["province"])
        response = self.post("/api/v1/initiatives", json=data, headers=self.bearer(province.code if province else None))
        assert response.status_code == 201, response.text
        return response.json()

    def settle(self, timeout: float = 120) -> None:
        """Wait until the semantic part of every save is done: the job queue is empty (the server's
        background consumer works it off; this drains it too, which the claims make safe)."""
        deadline = time.monotonic() + timeout
        while self.run(embedding_jobs.pending_count):
            self.run(self.app.state.job_consumer.drain)
            assert time.monotonic() < deadline, "the semantic job queue never emptied"
            time.sleep(0.05)

    #: Entering waits until start-up's background has reindexed and loaded the match engine (or given
    #: up on it), so a test starts from a server in its steady state: a save without an encoder then
    #: does its semantic part inside the request. tests/test_startup_loading.py switches it off.
    waits_for_the_match_engine = True

    def __enter__(self) -> Browser:
        super().__enter__()
        deadline = time.monotonic() + 60
        state = self.app.state
        while self.waits_for_the_match_engine and not (state.engine_tried.is_set() and state.reconciled.is_set()):
            assert time.monotonic() < deadline, "the match engine never finished loading"
            time.sleep(0.01)
        return self

    def run(self, function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run a coroutine function on the app's event loop (where its database connection lives)."""
        return self.portal.call(partial(function, *args, **kwargs))

    def make_user(
        self,
        role: str = "medewerker",
        province: str | None = "NL-GE",
        *,
        email: str | None = None,
        password: str = TEST_PASSWORD,
        name: str = "",
    ) -> User:
        email = email or f"{role}.{(province or 'ida').lower()}@test.example"
        return self.run(
            accounts.create_user, audit.SYSTEM, email=email, role=role, province=province, name=name, password=password
        )

    def login(self, email: str, password: str = TEST_PASSWORD):
        return self.submit("/inloggen", {"email": email, "password": password}, follow_redirects=False)

    def login_as(self, role: str = "medewerker", province: str | None = "NL-GE") -> User:
        """Create an account with this role (and province) and log in with it."""
        email = f"{role}.{(province or 'ida').lower()}@test.example"
        user = self.run(User.get_or_none, email=email) or self.make_user(role, province, email=email)
        response = self.login(user.email)
        assert response.status_code == 303, response.text
        return user


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[Browser]:
    """A browser that has not logged in."""
    with Browser(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def client(anonymous: Browser) -> Browser:
    """A browser logged in as a medewerker of Gelderland (the province of `valid_initiative`)."""
    anonymous.login_as("medewerker", "NL-GE")
    return anonymous


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


def cli_env(data_dir: Path, embedding_model: str = "none", **settings: str) -> dict[str, str]:
    """The environment of a ``kennisbank`` subprocess on this data directory; ``settings`` are
    further KENNISBANK_* values without the prefix (smtp_host="127.0.0.1")."""
    return {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_EMBEDDING_MODEL": embedding_model,
        "KENNISBANK_DATABASE_URL": database_url_for(data_dir),
        **{f"KENNISBANK_{name.upper()}": value for name, value in settings.items()},
    }


def run_cli(
    data_dir: Path, *args: str, stdin: str | None = None, embedding_model: str = "none", **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run the real ``kennisbank`` command in a subprocess against the given data directory."""
    return subprocess.run(
        [sys.executable, "-m", "kennisbank", *args],
        cwd=REPO,
        env=cli_env(data_dir, embedding_model, **settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
