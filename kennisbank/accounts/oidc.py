"""Logging in through a province's own OpenID Connect identity provider.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``. The provider is found through its
discovery document; the ID token is verified against the provider's published keys (JWKS) and its
``iss``, ``aud``, ``exp`` and ``nonce`` claims. What comes out is a verified e-mail address: the caller
decides which account that is, accounts are never created here.

HTTP goes through the standard library in a worker thread, so the app needs no HTTP client at runtime;
PKCE and random values come from authlib, token verification from joserfc (authlib's JOSE library).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import KennisbankError
from ..settings import Settings

SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class OIDCError(KennisbankError):
    """The login through the identity provider failed; ``reason`` is safe to audit (never a token)."""

    title = "Inloggen mislukt"
    default_detail = "Inloggen via de identiteitsprovider is mislukt. Probeer het opnieuw."

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Attempt:
    """What the browser must bring back: kept in a signed cookie between leaving and returning."""

    state: str
    nonce: str
    code_verifier: str


_discovery_cache: dict[str, tuple[float, Provider]] = {}


def callback_url(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + "/inloggen/oidc/terug"


def _fetch_json(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode("ascii") if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise OIDCError(f"HTTP {exc.code} van {urllib.parse.urlsplit(url).path}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OIDCError(f"identity provider onbereikbaar of onleesbaar: {type(exc).__name__}") from exc


async def _get_json(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise OIDCError("endpoint is geen http(s)-adres")
    return await anyio.to_thread.run_sync(lambda: _fetch_json(url, data, headers))


async def discover(settings: Settings) -> Provider:
    """The provider's endpoints from ``{issuer}/.well-known/openid-configuration``, cached for an hour."""
    issuer = settings.oidc_issuer.rstrip("/")
    cached = _discovery_cache.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    document = await _get_json(issuer + "/.well-known/openid-configuration")
    if not isinstance(document, dict):
        raise OIDCError("discovery-document is geen object")
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise OIDCError("issuer in het discovery-document klopt niet")
    try:
        provider = Provider(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
        )
    except KeyError as exc:
        raise OIDCError(f"discovery-document mist {exc.args[0]}") from exc
    _discovery_cache[issuer] = (time.monotonic() + DISCOVERY_TTL_SECONDS, provider)
    return provider


def new_attempt() -> Attempt:
    return Attempt(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64))


def authorization_url(settings: Settings, provider: Provider, attempt: Attempt) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": callback_url(settings),
        "scope": SCOPE,
        "state": attempt.state,
        "nonce": attempt.nonce,
        "code_challenge": create_s256_code_challenge(attempt.code_verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if urllib.parse.urlsplit(provider.authorization_endpoint).query else "?"
    return provider.authorization_endpoint + separator + urllib.parse.urlencode(params)


def _basic_auth(client_id: str, client_secret: str) -> str:
    """client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded before base64."""
    pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


async def verified_email(settings: Settings, attempt: Attempt, code: str) -> str:
    """Exchange the code, verify the ID token, and return its (verified, lower-cased) e-mail address."""
    provider = await discover(settings)
    tokens = await _get_json(
        provider.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url(settings),
            "code_verifier": attempt.code_verifier,
        },
        headers={"Authorization": _basic_auth(settings.oidc_client_id, settings.oidc_client_secret)},
    )
    id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
    if not isinstance(id_token, str):
        raise OIDCError("geen ID-token in het antwoord")
    claims = await _verify_id_token(settings, provider, attempt, id_token)
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise OIDCError("ID-token bevat geen e-mailadres")
    if "email_verified" in claims and claims["email_verified"] is not True:
        raise OIDCError("e-mailadres niet geverifieerd door de identity provider")
    return email.strip().lower()


async def _verify_id_token(settings: Settings, provider: Provider, attempt: Attempt, id_token: str) -> dict[str, Any]:
    jwks = await _get_json(provider.jwks_uri)
    try:
        keys = KeySet.import_key_set(jwks)
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OIDCError(f"handtekening van het ID-token ongeldig: {type(exc).__name__}") from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": settings.oidc_client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": attempt.nonce},
        sub={"essential": True},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise OIDCError(f"ID-token geweigerd: {exc.description or exc.error}") from exc
    audience = token.claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != settings.oidc_client_id:
        raise OIDCError("ID-token geweigerd: azp klopt niet")
    return dict(token.claims)
