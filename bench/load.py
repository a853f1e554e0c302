"""Load test on loopback: concurrent clients posting and editing initiatives while others search.

    python bench/load.py [--clients 30] [--duration 60] [--embeddings off]   # the server on SQLite
    .ci/postgres.sh .venv/bin/python bench/load.py [...]                     # on a throwaway PostgreSQL

Starts the real server (`kennisbank serve`) on a free loopback port with a fresh data directory and
one medewerker account per province, then runs `--clients` logged-in clients for `--duration`
seconds: each creates initiatives of its own province and edits its province's initiatives with
`If-Match` (clients of one province race for the same ones, so stale versions must get 412), and one
in ten searches instead. Bounded in time and count; traffic goes to 127.0.0.1 only.

The server runs with the default encoder, as deployed: a save is keyword-searchable at once and its
embedding and matches follow from the job queue, which the server works off while the load runs; a
search embeds its query. `--embeddings off` (KENNISBANK_EMBEDDING_MODEL=none) measures the web, the
database and the index without the encoder, as this benchmark did before issue 12.

Checks, printed at the end (exit 1 when one fails): no 5xx; the number of initiatives equals the
number of 201 responses; no lost update (every initiative's version is 1 plus the edits that got
200); the goals of issue 12, create p95 under 150 ms and search p95 under 100 ms. Search latency
under load is also printed as a ratio to the same searches on the idle server, measured in the same
run, and with the encoder on, how long after the load the semantic part caught up (no page of the
newest initiatives says "wordt verwerkt" any more).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "belasting test wachtwoord lang genoeg"
PROVINCES = ["NL-GR", "NL-FR", "NL-DR", "NL-OV", "NL-FL", "NL-GE", "NL-UT", "NL-NH", "NL-ZH", "NL-ZE", "NL-NB", "NL-LI"]
QUERIES = ["stikstof", "wegdek inspectie", "datalab", "klimaatadaptatie", "energie", "fietspaden", "water"]
WORDS = (
    "sensoren wegdek stikstof datalab fietspad waterkwaliteit zonnepanelen drone subsidie loket archief "
    "biodiversiteit warmtenet laadpalen dijk bodem open data chatbot"
).split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """A fresh PostgreSQL database when run under .ci/postgres.sh, else '' (SQLite in the data dir)."""
    server = os.environ.get("KENNISBANK_TEST_DATABASE_URL", "")
    if not server:
        return ""
    import asyncpg

    name = "load_" + uuid.uuid4().hex[:12]

    async def create() -> None:
        connection = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def initiative(province: str, n: int) -> dict:
    words = random.sample(WORDS, 4)
    return {
        "province": province,
        "kind": "portfolio_project",
        "phase": "pilot",
        "themes": ["data en AI"],
        "title": f"Belastingtest {n}: {' '.join(words)}",
        "summary": f"Een initiatief over {', '.join(words)} om de server onder last te meten.",
        "external_id": f"LOAD-{uuid.uuid4().hex[:10]}",
    }


CREATE_GOAL_MS = 150
SEARCH_GOAL_MS = 100


class Stats:
    def __init__(self) -> None:
        self.status: Counter[int] = Counter()
        self.created: dict[int, int] = {}  # initiative id -> successful edits
        self.search_ms: list[float] = []
        self.create_ms: list[float] = []


async def log_in(client: httpx.AsyncClient, email: str) -> None:
    await client.get("/inloggen")
    response = await client.post(
        "/inloggen", data={"email": email, "password": PASSWORD, "csrf_token": client.cookies["kb_csrf"]}
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed for {email}: {response.status_code}")
    client.headers["X-CSRF-Token"] = client.cookies["kb_csrf"]


async def search_once(client: httpx.AsyncClient, stats: Stats | None = None) -> float:
    started = time.perf_counter()
    response = await client.get("/api/v1/search", params={"q": random.choice(QUERIES)})
    elapsed = (time.perf_counter() - started) * 1000
    if stats is not None:
        stats.status[response.status_code] += 1
        stats.search_ms.append(elapsed)
    return elapsed


async def worker(url: str, number: int, deadline: float, stats: Stats, pools: dict[str, list[list[int]]]) -> None:
    """Create initiatives of the client's province, or edit one of that province's (possibly with a stale
    version, since several clients share a province: the server must then answer 412, never overwrite)."""
    province = PROVINCES[number % len(PROVINCES)]
    pool = pools.setdefault(province, [])  # [id, version last seen], shared by the province's clients
    async with httpx.AsyncClient(base_url=url, timeout=30, follow_redirects=False) as client:
        await log_in(client, f"load.{province.lower()}@load.example")
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if number % 10 == 0:
                await search_once(client, stats)
                continue
            if pool and random.random() < 0.5:
                entry = random.choice(pool)
                response = await client.patch(
                    f"/api/v1/initiatives/{entry[0]}",
                    json={"summary": f"Bijgewerkt {n} door client {number}, onder last."},
                    headers={"If-Match": f'"{entry[1]}"'},
                )
                stats.status[response.status_code] += 1
                if response.status_code == 200:
                    stats.created[entry[0]] += 1
                    entry[1] = response.json()["version"]
                elif response.status_code == 412:
                    entry[1] = (await client.get(f"/api/v1/initiatives/{entry[0]}")).json()["version"]
            else:
                started = time.perf_counter()
                response = await client.post("/api/v1/initiatives", json=initiative(province, n))
                stats.create_ms.append((time.perf_counter() - started) * 1000)
                stats.status[response.status_code] += 1
                if response.status_code == 201:
                    body = response.json()
                    stats.created[body["id"]] = 0
                    pool.append([body["id"], body["version"]])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def published_total(client: httpx.AsyncClient) -> int:
    return (await client.get("/api/v1/initiatives", params={"perPage": 1})).json()["total"]


async def check(url: str, stats: Stats, before: int) -> list[str]:
    problems = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await log_in(client, "load.nl-ge@load.example")
        stored = await published_total(client) - before
        if stored != len(stats.created):
            problems.append(f"{stored} initiatives stored, {len(stats.created)} created (201)")
        lost = 0
        for initiative_id, edits in stats.created.items():
            version = (await client.get(f"/api/v1/initiatives/{initiative_id}")).json()["version"]
            lost += version != 1 + edits
        if lost:
            problems.append(f"{lost} initiatives whose version does not match their successful edits (lost updates)")
    server_errors = sum(count for status, count in stats.status.items() if status >= 500)
    if server_errors:
        problems.append(f"{server_errors} responses with status 5xx")
    if percentile(stats.create_ms, 95) >= CREATE_GOAL_MS:
        problems.append(f"create p95 {percentile(stats.create_ms, 95):.0f} ms under load (goal < {CREATE_GOAL_MS} ms)")
    if percentile(stats.search_ms, 95) >= SEARCH_GOAL_MS:
        problems.append(f"search p95 {percentile(stats.search_ms, 95):.0f} ms under load (goal < {SEARCH_GOAL_MS} ms)")
    return problems


async def waiting_jobs(url: str) -> int:
    """How many of the 100 most recent initiatives' pages still say "wordt verwerkt" (what a user
    sees; the queue is worked oldest first, so the newest are the last to finish)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await log_in(client, "load.nl-ge@load.example")
        ids = [
            item["id"] for item in (await client.get("/api/v1/initiatives", params={"perPage": 100})).json()["items"]
        ]
        pages = [await client.get(f"/initiatieven/{i}") for i in ids]
        return sum("Wordt verwerkt" in page.text for page in pages)


async def caught_up(url: str, limit: float = 600) -> float:
    """Seconds until no recent initiative's page says "wordt verwerkt" (at most `limit`)."""
    ended = time.monotonic()
    while await waiting_jobs(url) and time.monotonic() - ended < limit:
        await asyncio.sleep(1)
    return time.monotonic() - ended


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--embeddings", choices=["on", "off"], default="on", help="the default encoder (on) or none (off)"
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.duration <= 600:
        parser.error("at most 200 clients and 600 seconds")

    data_dir = Path(tempfile.mkdtemp(prefix="kennisbank-load-")) / "data"
    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_DATABASE_URL": database_url(),
        "KENNISBANK_LOG_LEVEL": "WARNING",
    }
    env.pop("KENNISBANK_EMBEDDING_MODEL", None)  # the default encoder
    if args.embeddings == "off":
        env["KENNISBANK_EMBEDDING_MODEL"] = "none"
    kennisbank = [sys.executable, "-m", "kennisbank"]
    subprocess.run([*kennisbank, "seed"], env=env, cwd=REPO, check=True, capture_output=True)
    for province in PROVINCES:
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
                PASSWORD,
            ],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*kennisbank, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)

        async def run() -> tuple[list[float], Stats, list[str], float | None]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as idle_client:
                await log_in(idle_client, "load.nl-ut@load.example")
                idle = [await search_once(idle_client) for _ in range(100)]
                before = await published_total(idle_client)
            stats, pools = Stats(), {}
            deadline = time.monotonic() + args.duration
            await asyncio.gather(*(worker(url, n, deadline, stats, pools) for n in range(args.clients)))
            problems = await check(url, stats, before)
            return idle, stats, problems, await caught_up(url) if args.embeddings == "on" else None

        idle, stats, problems, catch_up = asyncio.run(run())
    finally:
        server.terminate()
        server.wait(timeout=30)

    database = "PostgreSQL" if env["KENNISBANK_DATABASE_URL"] else "SQLite"
    requests = sum(stats.status.values())
    encoder = "the default encoder" if args.embeddings == "on" else "embeddings off"
    print(
        f"Load on {database} with {encoder}: {args.clients} clients for {args.duration:.0f} s, {requests} requests "
        f"({requests / args.duration:.0f}/s)"
    )
    print(f"  statuses: {dict(sorted(stats.status.items()))}")
    server_errors = sum(count for status, count in stats.status.items() if status >= 500)
    print(
        f"  initiatives created: {len(stats.created)} (201s: {stats.status[201]}), edits that succeeded: "
        f"{sum(stats.created.values())}, 5xx: {server_errors}"
    )
    print(f"  create p50/p95: {percentile(stats.create_ms, 50):.0f} / {percentile(stats.create_ms, 95):.0f} ms")
    idle_p95, load_p50, load_p95 = (
        percentile(idle, 95),
        percentile(stats.search_ms, 50),
        percentile(stats.search_ms, 95),
    )
    print(
        f"  search idle p50/p95: {statistics.median(idle):.1f} / {idle_p95:.1f} ms; under load p50/p95: "
        f"{load_p50:.1f} / {load_p95:.1f} ms ({load_p95 / idle_p95:.1f}x the idle p95)"
    )
    if catch_up is not None:
        print(f"  semantic part (embeddings, vectors, matches) caught up {catch_up:.0f} s after the load")
    for problem in problems:
        print(f"  FAILED: {problem}")
    print("  all checks passed" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
