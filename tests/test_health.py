"""Operations: liveness and readiness probes, request ids in structured logs, settings checked at start-up."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import httpx
from tortoise import connections

from tests.conftest import REPO, cli_env
from tests.databases import database_url_for, on_postgres, run_sql


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_reports_database_and_search_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "search": "ok"}}


def test_readyz_names_the_database_when_it_is_down_while_healthz_stays_up(client, data_dir):
    assert client.get("/readyz").status_code == 200
    client.portal.call(connections.get("default").close)
    if on_postgres():
        name = database_url_for(data_dir).rsplit("/", 1)[1]
        run_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        run_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    else:
        database_file = data_dir / "kennisbank.sqlite3"
        database_file.rename(data_dir / "moved.sqlite3")
        database_file.mkdir()  # a directory where the database file was: it cannot be opened
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["down"] == ["database"] and body["checks"]["search"] == "ok"
    assert body["detail"] == "Niet bereikbaar: de database."
    assert client.get("/healthz").status_code == 200


def test_readyz_names_the_search_index_when_it_is_gone(client, data_dir):
    shutil.rmtree(data_dir / "kennisbank")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["title"] == "Niet gereed" and body["down"] == ["search"]
    assert body["checks"]["database"] == "ok" and body["checks"]["search"].startswith("onbereikbaar")
    assert body["detail"] == "Niet bereikbaar: de zoekindex."


def test_a_request_id_is_echoed_or_made_up(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"}).headers["x-request-id"] == "lb-7f3a.42"
    made_up = client.get("/healthz").headers["x-request-id"]
    assert len(made_up) == 32 and made_up != client.get("/healthz").headers["x-request-id"]
    injected = client.get("/healthz", headers={"X-Request-ID": 'x" injected=1'}).headers["x-request-id"]
    assert injected != 'x" injected=1' and len(injected) == 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_server_logs_json_lines_with_the_request_id(data_dir):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
        cwd=REPO,
        env=cli_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-ID": "probe-1"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.status_code == 200 and response.headers["x-request-id"] == "probe-1"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    assert len(lines) == len(stderr.splitlines()), "every log line is JSON"
    request_lines = [line for line in lines if line.get("request_id") == "probe-1"]
    assert request_lines == [
        {
            **request_lines[0],
            "logger": "kennisbank.requests",
            "method": "GET",
            "path": "/readyz",
            "status": 200,
            "level": "INFO",
        }
    ]
    assert request_lines[0]["duration_ms"] >= 0


def test_serve_lists_every_invalid_setting_and_exits_non_zero(data_dir):
    result = subprocess.run(
        [sys.executable, "-m", "kennisbank", "serve"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(data_dir, page_size="0", log_level="LUID", base_url="ftp://kennisbank"),
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for setting in ("KENNISBANK_PAGE_SIZE", "KENNISBANK_LOG_LEVEL", "KENNISBANK_BASE_URL"):
        assert setting in result.stderr
    assert "draait op" not in result.stdout
