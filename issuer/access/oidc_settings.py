"""The settings of sign-in with the company's OpenID Connect identity provider, from the environment.

    oidc = load_oidc_settings()          # None when MICROCRED_OIDC_ISSUER is not set: the feature is off
    oidc.issuer, oidc.client_id, oidc.display_name

Variables (read like :func:`issuer.config.load_settings` reads the others):

``MICROCRED_OIDC_ISSUER``
    The provider's issuer URL, exactly as its discovery document names it
    (``https://login.example.com/realms/staff``); ``/.well-known/openid-configuration`` is read
    under it. Setting it turns the feature on.
``MICROCRED_OIDC_CLIENT_ID``
    The client id this installation was registered with at the provider (required).
``MICROCRED_OIDC_CLIENT_SECRET`` or ``MICROCRED_OIDC_CLIENT_SECRET_FILE``
    Its secret, or a file holding it (the file wins when both are set). Without either the
    client is a public one (``token_endpoint_auth_method=none``; PKCE still binds the code).
``MICROCRED_OIDC_NAME``
    The provider's name on the sign-in button ("Sign in with Example SSO"); default
    ``your company account``.
``MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP``
    ``1`` lets a provider on this machine (``127.0.0.1``, ``::1``, ``localhost``) use plain http:
    for development and the tests only. Any other issuer, and every endpoint of a remote one,
    must be https.

Decision: the settings are their own module (not fields of :class:`issuer.config.Settings`)
because only the web sign-in uses them; :func:`issuer.web.oidc.register_oidc` reads them when the
app starts, so a mistake stops ``microcred serve`` with a :class:`~issuer.errors.ConfigError`
naming the variable, while the other ``microcred`` commands never read them.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from issuer.errors import ConfigError

__all__ = ["DEFAULT_NAME", "OidcSettings", "is_loopback_host", "load_oidc_settings", "secure_url"]

DEFAULT_NAME = "your company account"
DEFAULT_SCOPES = ("openid", "email", "profile")
MAX_NAME = 60
MAX_CLIENT_ID = 255


@dataclass(frozen=True)
class OidcSettings:
    """One identity provider and this installation's registration with it."""

    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    display_name: str = DEFAULT_NAME
    allow_loopback_http: bool = False
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    timeout: float = 10.0                         # seconds for each request to the provider

    def __post_init__(self) -> None:
        if not secure_url(self.issuer, allow_loopback_http=self.allow_loopback_http) or "?" in self.issuer:
            hint = (" (plain http is allowed only for a provider on this machine, with "
                    "MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP=1)" if self.issuer.startswith("http:") else "")
            raise ConfigError(f"MICROCRED_OIDC_ISSUER must be an https URL without query or fragment, "
                              f"not {self.issuer!r}{hint}", code="invalid_config", field="MICROCRED_OIDC_ISSUER")
        if not self.client_id or len(self.client_id) > MAX_CLIENT_ID or not self.client_id.isprintable():
            raise ConfigError("MICROCRED_OIDC_CLIENT_ID must be set to the client id registered at the provider "
                              f"(at most {MAX_CLIENT_ID} printable characters)", code="invalid_config",
                              field="MICROCRED_OIDC_CLIENT_ID")
        if not self.display_name or len(self.display_name) > MAX_NAME or not self.display_name.isprintable():
            raise ConfigError(f"MICROCRED_OIDC_NAME must be 1 to {MAX_NAME} printable characters",
                              code="invalid_config", field="MICROCRED_OIDC_NAME")

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(url: str, *, allow_loopback_http: bool) -> bool:
    """Whether ``url`` may be used to talk to the provider: https (or http on loopback when allowed),
    a host, no user name, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    if not host or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_loopback_http and is_loopback_host(host)


def load_oidc_settings(env: Mapping[str, str] | None = None) -> OidcSettings | None:
    """The provider from ``env`` (default: the environment), or None when ``MICROCRED_OIDC_ISSUER`` is unset.

    :class:`~issuer.errors.ConfigError` for a setting that is wrong or missing once the issuer is set."""
    env = os.environ if env is None else env
    issuer = env.get("MICROCRED_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    secret_file = env.get("MICROCRED_OIDC_CLIENT_SECRET_FILE", "").strip()
    secret = env.get("MICROCRED_OIDC_CLIENT_SECRET") or None
    if secret_file:
        try:
            secret = Path(secret_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"MICROCRED_OIDC_CLIENT_SECRET_FILE {secret_file!r} cannot be read: {exc.strerror}",
                              code="invalid_config", field="MICROCRED_OIDC_CLIENT_SECRET_FILE") from exc
    return OidcSettings(
        issuer=issuer,
        client_id=env.get("MICROCRED_OIDC_CLIENT_ID", "").strip(),
        client_secret=secret,
        display_name=env.get("MICROCRED_OIDC_NAME", "").strip() or DEFAULT_NAME,
        allow_loopback_http=env.get("MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP", "").strip().lower() in ("1", "true", "yes"),
    )
