"""Signed tokens for links that work without a login, such as "unsubscribe" in a digest mail.

The key is ``KENNISBANK_SECRET_KEY`` or, when that is unset, a random key generated once and kept in
``<data dir>/secret_key`` (readable by the owner only). Nothing secret is in the repository.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from .settings import Settings


def secret_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(settings: Settings, purpose: str, value: str) -> str:
    """``value.signature``: the value stays readable, the signature binds it to the purpose and our key."""
    return f"{value}.{_mac(secret_key(settings), purpose, value)}"


def unsign(settings: Settings, purpose: str, token: str) -> str | None:
    """The value of a token made by `sign` for this purpose, or None when it was forged or altered."""
    value, _, signature = token.rpartition(".")
    if not value or not signature:
        return None
    expected = _mac(secret_key(settings), purpose, value)
    return value if hmac.compare_digest(expected.encode(), signature.encode()) else None
