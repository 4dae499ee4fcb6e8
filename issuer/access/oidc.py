"""The OpenID Connect client: discovery, the authorization request, the code exchange, the ID token.

    client = OidcClient(settings, clock)
    url, pending = client.authorization_request(redirect_uri, purpose="staff", next_path="/admin/")
    # keep pending.to_dict() in the browser's (signed) session, send the browser to url; on its return:
    identity = client.complete(PendingSignIn.from_dict(raw), request.args, redirect_uri)   # VerifiedIdentity

The flow is the authorization code flow with PKCE (S256), as OpenID Connect Core 1.0 §3.1 and
RFC 9700 (OAuth 2.0 security best current practice) ask of a web application:

- ``state`` (random, kept in the browser's session) ties the answer to the browser that asked:
  compared in constant time, used once (the caller drops the pending sign-in before completing);
- ``nonce`` (random) ties the ID token to this sign-in; the code verifier (PKCE) ties the code to it,
  so a code stolen from the redirect is worthless elsewhere; the provider refuses a code used twice;
- the ``iss`` parameter of the answer (RFC 9207), when the provider sends it or says it does, must
  be this provider (mix-up attacks);
- a pending sign-in older than :data:`PENDING_TTL` is refused;
- the ID token is checked by :func:`issuer.access.oidc_tokens.validate_id_token` against the
  provider's keys (JWKS, fetched again once when a token names a key not seen yet: key rotation);
- when the ID token does not carry the email claims (a provider may keep them for the UserInfo
  endpoint once it issues an access token), they are read from UserInfo with that access token,
  whose ``sub`` must be the ID token's.

Discovery (``/.well-known/openid-configuration``) is read once and kept for :data:`DISCOVERY_TTL`;
its ``issuer`` must be the configured one and every endpoint https (http only for a provider on
loopback with ``MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP``). Every request to the provider has a timeout
and a size limit, follows no redirect, and an unreachable or broken provider is
:class:`~issuer.access.oidc_tokens.OidcUnavailable` (503), never a half sign-in.

Library: Authlib's requests client (:class:`authlib.integrations.requests_client.OAuth2Session`,
a ``requests.Session``) builds the authorization URL with the PKCE challenge and exchanges the code
with client authentication (``client_secret_basic``, or ``none`` for a public client); joserfc
checks the ID token. Written here: the discovery checks (Authlib's metadata model allows plain http
only through a process-wide ``AUTHLIB_INSECURE_TRANSPORT`` switch, which would weaken every URL;
this module allows it only for a loopback provider that the settings name), the ``state`` and
``iss`` comparisons, and the caches.
"""
from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from issuer.access.oidc_settings import OidcSettings, secure_url
from issuer.access.oidc_tokens import (
    START_AGAIN,
    OidcRefused,
    OidcUnavailable,
    VerifiedIdentity,
    identity_from,
    validate_id_token,
)

__all__ = ["DISCOVERY_TTL", "PENDING_TTL", "OidcClient", "OidcRefused", "OidcUnavailable", "PendingSignIn",
           "ProviderMetadata", "VerifiedIdentity"]

DISCOVERY_TTL = 3600.0      # seconds the discovery document is kept
JWKS_REFRESH = 60.0         # seconds between two fetches of the keys forced by an unknown key id
PENDING_TTL = 600           # seconds a started sign-in may take at the provider
MAX_DOCUMENT = 256 * 1024   # bytes of a discovery document or key set
MAX_PARAM = 2048            # characters of code, state, iss, error in the answer
PURPOSES = ("staff", "employee")


@dataclass(frozen=True)
class ProviderMetadata:
    """What this client uses of the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    iss_parameter: bool = False             # authorization_response_iss_parameter_supported


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in sent to the provider and not back yet: kept in the browser's signed session cookie
    (HttpOnly, SameSite=Lax), so it is bound to that browser. Holds no secret of this server."""

    purpose: str            # "staff" | "employee"
    state: str
    nonce: str
    code_verifier: str
    started_at: int         # unix seconds, by the runtime's clock
    next_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: object) -> PendingSignIn | None:
        """The pending sign-in a session held, or None (nothing, or not what :meth:`to_dict` wrote)."""
        if not isinstance(raw, dict):
            return None
        try:
            pending = cls(**raw)
        except TypeError:
            return None
        texts = (pending.purpose, pending.state, pending.nonce, pending.code_verifier, pending.next_path)
        if not all(isinstance(t, str) for t in texts) or not isinstance(pending.started_at, int):
            return None
        return pending


class OidcClient:
    """One provider's client (thread-safe; one per app). ``clock``: the runtime's clock (UTC), for
    tokens and pending sign-ins; ``ticker``: seconds for the caches (default: ``time.monotonic``)."""

    def __init__(self, settings: OidcSettings, clock: Callable[[], datetime], *,
                 http: requests.Session | None = None, ticker: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.ticker = ticker
        self.http = http or requests.Session()
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    # ---- the provider's documents

    def metadata(self) -> ProviderMetadata:
        """The provider's endpoints (from discovery, cached); :class:`OidcUnavailable` when unusable."""
        with self._lock:
            if self._metadata is not None and self.ticker() - self._metadata[0] < DISCOVERY_TTL:
                return self._metadata[1]
        metadata = self._discover()
        with self._lock:
            self._metadata = (self.ticker(), metadata)
        return metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's public keys (cached; ``refresh`` fetches them again unless that was just done)."""
        with self._lock:
            cached = self._keys
        if cached is not None and (not refresh or self.ticker() - cached[0] < JWKS_REFRESH):
            return cached[1]
        document = self._get_json(self.metadata().jwks_uri, "key set")
        try:
            keys = KeySet.import_key_set(document)    # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcUnavailable("The identity provider publishes keys this site cannot read.",
                                  code="oidc_bad_jwks") from exc
        with self._lock:
            self._keys = (self.ticker(), keys)
        return keys

    def _discover(self) -> ProviderMetadata:
        document = self._get_json(self.settings.discovery_url, "discovery document")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.settings.issuer.rstrip("/"):
            raise OidcUnavailable(f"The identity provider at {self.settings.issuer} names itself {issuer!r}: "
                                  "check MICROCRED_OIDC_ISSUER.", code="oidc_issuer_mismatch")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            url = document.get(name)
            if not isinstance(url, str) or not secure_url(url, allow_loopback_http=self.settings.allow_loopback_http):
                raise OidcUnavailable(f"The identity provider's {name} is missing or not https.",
                                      code="oidc_bad_discovery")
            endpoints[name] = url
        if "code" not in (document.get("response_types_supported") or ["code"]):
            raise OidcUnavailable("The identity provider does not offer the authorization code flow.",
                                  code="oidc_bad_discovery")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise OidcUnavailable("The identity provider does not offer PKCE with S256.", code="oidc_bad_discovery")
        userinfo = document.get("userinfo_endpoint")
        if not isinstance(userinfo, str) or not secure_url(userinfo,
                                                            allow_loopback_http=self.settings.allow_loopback_http):
            userinfo = None
        return ProviderMetadata(issuer=issuer, **endpoints, userinfo_endpoint=userinfo,
                                iss_parameter=document.get("authorization_response_iss_parameter_supported") is True)

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            with self.http.get(url, timeout=self.settings.timeout, allow_redirects=False, stream=True,
                               headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise OidcUnavailable(f"The identity provider's {what} answered HTTP {response.status_code}.",
                                          code="oidc_unreachable")
                body = response.raw.read(MAX_DOCUMENT + 1, decode_content=True)
        except requests.RequestException as exc:
            raise OidcUnavailable(f"The identity provider cannot be reached ({type(exc).__name__}); "
                                  "try again in a moment.", code="oidc_unreachable") from exc
        if len(body) > MAX_DOCUMENT:
            raise OidcUnavailable(f"The identity provider's {what} is too large.", code="oidc_bad_discovery")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise OidcUnavailable(f"The identity provider's {what} is not JSON.", code="oidc_bad_discovery") from exc
        if not isinstance(document, dict):
            raise OidcUnavailable(f"The identity provider's {what} is not a JSON object.", code="oidc_bad_discovery")
        return document

    # ---- the flow

    def _session(self, redirect_uri: str) -> OAuth2Session:
        secret = self.settings.client_secret
        return OAuth2Session(self.settings.client_id, secret, scope=" ".join(self.settings.scopes),
                             redirect_uri=redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic" if secret else "none")

    def authorization_request(self, redirect_uri: str, *, purpose: str,
                              next_path: str = "") -> tuple[str, PendingSignIn]:
        """Where to send the browser, and the pending sign-in to keep in its session."""
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}")
        metadata = self.metadata()
        pending = PendingSignIn(purpose=purpose, state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                                code_verifier=secrets.token_urlsafe(64), started_at=int(self.clock().timestamp()),
                                next_path=next_path)
        with self._session(redirect_uri) as session:
            url, _ = session.create_authorization_url(metadata.authorization_endpoint, state=pending.state,
                                                      code_verifier=pending.code_verifier, nonce=pending.nonce)
        return str(url), pending

    def complete(self, pending: PendingSignIn | None, params: Mapping[str, str], redirect_uri: str) -> VerifiedIdentity:
        """The verified identity for the provider's answer ``params`` (the callback's query) to ``pending``.

        :class:`OidcRefused` for anything that must not sign anybody in; :class:`OidcUnavailable`
        when the provider cannot be reached. The caller must have removed ``pending`` from the
        session already, so the same answer can never be used twice."""
        if pending is None:
            raise OidcRefused(f"This sign-in was already used, or was started in another browser. {START_AGAIN}",
                              code="oidc_no_pending")
        now = int(self.clock().timestamp())
        if not 0 <= now - pending.started_at <= PENDING_TTL:
            raise OidcRefused(f"This sign-in took longer than {PENDING_TTL // 60} minutes. {START_AGAIN}",
                              code="oidc_pending_expired")
        state = _param(params, "state")
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise OidcRefused(f"The answer does not belong to the sign-in started in this browser. {START_AGAIN}",
                              code="oidc_state")
        metadata = self.metadata()
        iss = params.get("iss")
        if (iss is not None or metadata.iss_parameter) and iss != metadata.issuer:
            raise OidcRefused(f"The answer came from another identity provider. {START_AGAIN}", code="oidc_iss")
        error = params.get("error")
        if error is not None:
            if error == "access_denied":
                raise OidcRefused(f"The sign-in was cancelled at the identity provider. {START_AGAIN}",
                                  code="oidc_cancelled")
            shown = "".join(c for c in error[:64] if c.isalnum() or c in "_-.")
            raise OidcRefused(f"The identity provider refused the sign-in ({shown}). {START_AGAIN}",
                              code="oidc_provider_error")
        code = _param(params, "code")
        token = self._exchange(metadata, code, pending, redirect_uri)
        id_token = token.get("id_token")
        claims = self.check_id_token(id_token if isinstance(id_token, str) else "", metadata, pending.nonce)
        if not ("email" in claims and "email_verified" in claims):
            claims = self._with_userinfo(claims, metadata, token, redirect_uri)
        return identity_from(claims)

    def _exchange(self, metadata: ProviderMetadata, code: str, pending: PendingSignIn,
                  redirect_uri: str) -> dict[str, Any]:
        try:
            with self._session(redirect_uri) as session:
                token = session.fetch_token(metadata.token_endpoint, grant_type="authorization_code", code=code,
                                            code_verifier=pending.code_verifier, timeout=self.settings.timeout,
                                            allow_redirects=False)
        except OAuthError as exc:
            raise OidcRefused("The identity provider refused this sign-in's code (it may have been used already "
                              f"or have expired). {START_AGAIN}", code="oidc_code_refused") from exc
        except requests.RequestException as exc:
            raise OidcUnavailable(f"The identity provider cannot be reached ({type(exc).__name__}); "
                                  "try again in a moment.", code="oidc_unreachable") from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise OidcUnavailable("The identity provider's token answer cannot be read.",
                                  code="oidc_bad_token_response") from exc
        return dict(token) if isinstance(token, dict) else {}

    def _with_userinfo(self, claims: dict[str, Any], metadata: ProviderMetadata, token: dict[str, Any],
                       redirect_uri: str) -> dict[str, Any]:
        """The ID token's claims plus the email claims of the UserInfo endpoint (OpenID Connect Core
        §5.3), for providers that keep them out of the ID token when an access token is issued.
        UserInfo's ``sub`` must be the ID token's (§5.3.2); the ID token's own claims win."""
        if metadata.userinfo_endpoint is None or not isinstance(token.get("access_token"), str):
            return claims
        try:
            with self._session(redirect_uri) as session:
                session.token = token
                response = session.get(metadata.userinfo_endpoint, timeout=self.settings.timeout,
                                       allow_redirects=False, headers={"Accept": "application/json"})
                info = response.json() if response.status_code == 200 and len(response.content) <= MAX_DOCUMENT \
                    else None
        except requests.RequestException as exc:
            raise OidcUnavailable(f"The identity provider cannot be reached ({type(exc).__name__}); "
                                  "try again in a moment.", code="oidc_unreachable") from exc
        except ValueError:          # not JSON (a signed UserInfo answer is not asked for)
            info = None
        if not isinstance(info, dict):
            raise OidcUnavailable("The identity provider's user information cannot be read.",
                                  code="oidc_bad_userinfo")
        if info.get("sub") != claims["sub"]:
            raise OidcRefused(f"The identity provider's user information names someone else. {START_AGAIN}",
                              code="oidc_userinfo_subject")
        extra = {k: info[k] for k in ("email", "email_verified", "name") if k in info and k not in claims}
        return {**claims, **extra}

    def check_id_token(self, id_token: str, metadata: ProviderMetadata, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` (:func:`~issuer.access.oidc_tokens.validate_id_token`), checked
        against the provider's keys, fetched again once if it names a key not seen yet."""
        def check(keys: KeySet) -> dict[str, Any]:
            return validate_id_token(id_token, keys=keys, issuer=metadata.issuer, client_id=self.settings.client_id,
                                     nonce=nonce, now=self.clock())
        try:
            return check(self.keys())
        except OidcRefused as exc:
            if exc.code != "id_token_unknown_key":
                raise
        return check(self.keys(refresh=True))


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_PARAM:
        raise OidcRefused(f"The identity provider's answer lacks its {name}. {START_AGAIN}", code=f"oidc_no_{name}")
    return value
