"""Write the README's screenshots (docs/screenshots/*.png) from a freshly seeded server in Debian's chromium.

    .venv/bin/python docs/screenshots.py

Seeds a temporary data directory, creates a medewerker and a coordinator with a random password, serves
it on a free port (keyword search only, so no encoder is needed) and photographs the pages a new user
meets, on a desktop and on a phone-sized screen. Nothing outside the temporary directory is touched but
the PNGs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
MEDEWERKER = "medewerker.utrecht@kennisbank.example"
COORDINATOR = "coordinator@kennisbank.example"


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "kennisbank", *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_in(tab: Page, url: str, email: str, password: str) -> None:
    tab.goto(url + "/inloggen")
    tab.fill("#veld-email", email)
    tab.fill("#veld-password", password)
    tab.click("main button[type=submit]")
    tab.wait_for_url(url + "/")


def _shoot(tab: Page, url: str, path: str, name: str, *, full_page: bool = False) -> None:
    tab.goto(url + path)
    tab.wait_for_load_state("networkidle")
    tab.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screenshots/{name}.png  {path}")


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    OUT.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as temporary:
        env = {**os.environ, "KENNISBANK_DATA_DIR": str(Path(temporary) / "data"), "KENNISBANK_EMBEDDING_MODEL": "none"}
        _cli(env, "seed")
        _cli(
            env,
            "user",
            "create",
            "--email",
            MEDEWERKER,
            "--role",
            "medewerker",
            "--province",
            "NL-UT",
            "--password",
            password,
        )
        _cli(env, "user", "create", "--email", COORDINATOR, "--role", "coordinator", "--password", password)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    httpx.get(url + "/readyz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
                desktop = browser.new_context(locale="nl-NL", viewport=DESKTOP).new_page()
                _log_in(desktop, url, MEDEWERKER, password)
                _shoot(desktop, url, "/", "home")
                _shoot(desktop, url, "/zoeken?q=stikstof", "search")
                desktop.goto(url + "/zoeken?q=stikstof")
                _shoot(desktop, url, desktop.locator("main .card h3 a").first.get_attribute("href"), "initiative")
                coordinator = browser.new_context(locale="nl-NL", viewport=DESKTOP).new_page()
                _log_in(coordinator, url, COORDINATOR, password)
                coordinator.goto(url + "/matches")
                _shoot(
                    coordinator,
                    url,
                    coordinator.locator(".results .card h3 a").first.get_attribute("href"),
                    "match-review",
                )
                _shoot(coordinator, url, "/dashboard", "dashboard")
                phone = browser.new_context(
                    locale="nl-NL", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
                ).new_page()
                _log_in(phone, url, MEDEWERKER, password)
                _shoot(phone, url, "/zoeken?q=stikstof", "search-phone")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
