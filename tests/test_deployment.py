"""The production deployment files and the open-source conventions, checked without Docker or network:
docker-compose.yml, Dockerfile, .dockerignore, .env.example, publiccode.yml, LICENSE and CHANGELOG.md."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import fields

import httpx
import pytest
import yaml

from kennisbank.resources import RESOURCES
from kennisbank.settings import PREFIX, Settings
from tests.conftest import REPO

SERVICES = {"app", "worker", "postgres", "meilisearch"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN")
PLACEHOLDER = "set-me"
# SHA-256 of the EUPL-1.2 plain text as distributed in SPDX/REUSE LICENSES/EUPL-1.2.txt files.
LICENSE_SHA256 = "b48dbc8bb553a6e4f36ef700463c1b2b2531e57bd4bae14dc2e34b3772af01c8"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text(encoding="utf-8")


def env_example() -> dict[str, str]:
    """The uncommented NAME=value lines of .env.example."""
    pairs = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


# -- docker-compose.yml -------------------------------------------------------------------------


def test_compose_has_the_four_services(compose):
    assert set(compose["services"]) == SERVICES


def test_every_service_has_a_pinned_image_or_a_build(compose):
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image or service.get("build"), name
        if image and not service.get("build"):
            repository, _, tag = image.rpartition(":")
            assert repository and re.fullmatch(r"v?\d+\.\d+(\.\d+)?", tag), f"{name}: {image} is not pinned"


def test_database_and_search_versions(compose):
    postgres = compose["services"]["postgres"]["image"]
    meili = compose["services"]["meilisearch"]["image"]
    assert postgres.startswith("postgres:17.")
    major, minor = map(int, re.match(r"getmeili/meilisearch:v(\d+)\.(\d+)\.\d+$", meili).groups())
    assert (major, minor) >= (1, 7)


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_app_healthcheck_probes_healthz_and_the_app_waits_for_healthy_dependencies(compose):
    app = compose["services"]["app"]
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    for name in ("app", "worker"):
        assert compose["services"][name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "meilisearch": {"condition": "service_healthy"},
        }


def test_app_serves_with_uvicorn_on_all_interfaces_and_worker_runs_the_scheduler(compose):
    assert compose["services"]["app"]["command"][:4] == ["kennisbank", "serve", "--host", "0.0.0.0"]
    assert compose["services"]["worker"]["command"] == ["kennisbank", "worker"]


def test_no_literal_secrets_in_compose(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", str(value)), f"{name}: {key} holds a literal"
            password = re.search(r"://[^:/@]+:([^@]+)@", str(value))
            assert not password or password.group(1).startswith("${"), f"{name}: {key} holds a password"
    for name in ("app", "worker"):
        assert compose["services"][name]["env_file"] == ".env"


def test_every_volume_is_named(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            assert source in declared, f"{name}: {source} is not a named volume"
    assert {"postgres-data", "meili-data"} <= declared


# -- Dockerfile and .dockerignore ----------------------------------------------------------------


def test_dockerfile_base_image_user_and_entrypoint(dockerfile):
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.M)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"useradd[^\n]*\bkennisbank\b", dockerfile)
    assert 'CMD ["kennisbank", "serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile


def test_dockerfile_takes_torch_pinned_from_the_cpu_index(dockerfile):
    assert re.search(r"--index-url https://download\.pytorch\.org/whl/cpu torch==2\.13\.0", dockerfile)
    pinned = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert "torch==2.13.0" in pinned and "sentence-transformers==6.2.0" in pinned
    assert "sentence-transformers==6.2.0" in dockerfile


def test_dockerfile_healthcheck_probes_healthz(dockerfile):
    healthcheck = re.search(r"^HEALTHCHECK .*?(?=^\S)", dockerfile, re.M | re.S)
    assert healthcheck and "/healthz" in healthcheck.group(0)


def test_everything_the_dockerfile_copies_exists_and_is_not_ignored(dockerfile):
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [part for line in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M) for part in line.split()]
    assert {"pyproject.toml", "kennisbank", "search", "templates", "static"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    assert ".env" in ignored and ".git" in ignored


def test_the_image_is_a_plain_install_of_the_package():
    """The image installs the package (the wheel carries templates, static files and seed data) and runs
    the installed `kennisbank`; no source tree on a PYTHONPATH (the wheel test below shows that works)."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install \.$", dockerfile, re.M)
    assert "PYTHONPATH" not in dockerfile and "pip uninstall" not in dockerfile
    assert {"setup.py", "MANIFEST.in"} <= {
        part for line in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M) for part in line.split()
    }


# -- .env.example ---------------------------------------------------------------------------------


def test_env_example_documents_every_setting():
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    for field in fields(Settings):
        assert f"{PREFIX}{field.name.upper()}" in text, field.name


def test_env_example_is_valid_once_filled_in(tmp_path):
    filled = {name: ("x" * 48 if value == PLACEHOLDER else value) for name, value in env_example().items()}
    filled.update(
        {
            f"{PREFIX}DATA_DIR": str(tmp_path),
            f"{PREFIX}DATABASE_URL": "postgres://kb:pw@postgres:5432/kb",
            f"{PREFIX}MEILI_URL": "http://meilisearch:7700",
            f"{PREFIX}MEILI_KEY": "x" * 48,
        }
    )
    settings = Settings.from_env(filled)
    assert settings.secure_cookies and settings.smtp_starttls


def test_env_example_holds_no_secrets():
    for name, value in env_example().items():
        if SECRET_NAME.search(name) and not name.endswith("CLIENT_ID"):
            assert value in {PLACEHOLDER, ""}, name


# -- publiccode.yml, LICENSE, CHANGELOG ----------------------------------------------------------

CATEGORIES = set(
    """accounting agile-project-management applicant-tracking application-development
appointment-scheduling backup billing-and-invoicing blog budgeting business-intelligence
business-process-management cad call-center-management cloud-management collaboration communications
compliance-management contact-management content-management crm customer-service-and-support
data-analytics data-collection data-visualization design design-system digital-asset-management
digital-citizenship document-management donor-management e-commerce e-signature educational-content
email-management email-marketing employee-management enterprise-project-management
enterprise-social-networking erp event-management facility-management feedback-and-reviews-management
financial-reporting fleet-management fundraising gamification geographic-information-systems
grant-management graphic-design help-desk hr ide identity-management instant-messaging
inventory-management it-asset-management it-development it-management it-security it-service-management
knowledge-management learning-management-system marketing mind-mapping mobile-marketing mobile-payment
network-management office online-booking online-community payment-gateway payroll predictive-analysis
procurement productivity-suite project-collaboration project-management property-management
real-estate-management remote-support resource-management sales-management seo service-desk
social-media-management survey talent-management task-management taxes-management test-management
time-management time-tracking translation video-conferencing video-editing visitor-management voip
warehouse-management web-collaboration web-conferencing website-builder whistleblowing
workflow-management""".split()
)


def test_publiccode_has_the_mandatory_keys_of_the_standard():
    code = yaml.safe_load((REPO / "publiccode.yml").read_text(encoding="utf-8"))
    assert code["publiccodeYmlVersion"] == "0"
    assert code["name"] and re.match(r"https://", code["url"])
    assert code["platforms"] == ["web"]
    assert code["categories"] and set(code["categories"]) <= CATEGORIES
    assert code["developmentStatus"] in {"concept", "development", "beta", "stable", "obsolete"}
    assert code["softwareType"] == "standalone/web"
    assert code["description"], "at least one language"
    for language, text in code["description"].items():
        assert 0 < len(text["shortDescription"]) <= 150, language
        assert 150 <= len(text["longDescription"]) <= 10_000, language
        assert text["features"], language
    assert code["legal"]["license"] == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert code["maintenance"]["type"] in {"internal", "contract", "community", "none"}
    assert code["maintenance"]["contacts"][0]["name"]
    assert isinstance(code["localisation"]["localisationReady"], bool)
    assert "nl" in code["localisation"]["availableLanguages"]
    assert code["intendedAudience"]["countries"] == ["NL"]  # ISO 3166-1 alpha-2, as the parser wants it
    assert code["softwareVersion"] == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_license_is_the_unaltered_eupl_1_2_text():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == LICENSE_SHA256


def test_changelog_follows_keep_a_changelog():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "keepachangelog.com" in text
    assert re.search(r"^## \[Unreleased\]$", text, re.M)
    kinds = set(re.findall(r"^### (.+)$", text, re.M))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_readme_shows_the_screenshots_of_issue_15_and_each_image_exists():
    """Home, search, match review and dashboard, written by docs/screenshots.py; a renamed file breaks the README."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]+\]\(([^)]+\.png)\)", readme)  # each with its alternative text
    assert {
        "docs/screenshots/home.png",
        "docs/screenshots/search.png",
        "docs/screenshots/match-review.png",
        "docs/screenshots/dashboard.png",
    } <= set(images)
    for image in images:
        path = REPO / image
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


# -- the built wheel ------------------------------------------------------------------------------


def test_a_built_wheel_serves_the_site_and_seeds_without_the_source_tree(tmp_path):
    """`pip install` of the wheel alone (no checkout next to it) finds its templates, CSS and seed data."""
    source = tmp_path / "source"
    for name in ("kennisbank", "search", *RESOURCES):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "_resources"))
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next((tmp_path / "dist").glob("kennisbank-*.whl"))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    shutil.rmtree(source)
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = {
        "PYTHONPATH": str(site),
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "KENNISBANK_DATA_DIR": str(tmp_path / "data"),
        "KENNISBANK_EMBEDDING_MODEL": "none",
    }

    def kennisbank(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kennisbank", *args],
            cwd=run_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import kennisbank; print(kennisbank.__file__)"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), where  # the wheel's copy, not the checkout's editable install
    shipped = subprocess.run(
        [
            sys.executable,
            "-c",
            "from search.ct2_encoder import CHECKSUM_FILE; from search.matching.model import load_match_model;"
            "print(CHECKSUM_FILE.is_file(), load_match_model() is not None)",
        ],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert shipped.stdout.split() == ["True", "True"], shipped.stderr  # the encoder's checksum, the match model
    seeded = kennisbank("seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "initiatives_families.jsonl: 90 nieuw" in seeded.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
        cwd=run_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        login = httpx.get(base + "/inloggen", timeout=10)
        assert login.status_code == 200 and 'lang="nl"' in login.text and "/static/kennisbank.css" in login.text
        css = httpx.get(base + "/static/kennisbank.css", timeout=10)
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and len(css.text) > 1000
    finally:
        server.terminate()
        server.wait(timeout=30)
