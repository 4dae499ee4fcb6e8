"""Sign-in with the company's identity provider: the use cases behind ``/oidc/start`` and ``/oidc/callback``.

    oidc = OidcService(runtime, load_oidc_settings())
    url, pending = oidc.start("staff", next_path="/admin/awards")    # keep pending in the session, redirect
    purpose, identity = oidc.finish(pending, request.args)           # VerifiedIdentity (verified email)
    signed_in = oidc.staff_sign_in(identity)                          # a console session, as a password gives

Staff: the verified email must be the user name of an existing, active console account
(user names may be email addresses: ``microcred users create hana@example.com --role issuer``).
Accounts are never created here: an address without an account is refused in plain words (the
person has just proven to the provider that the address is theirs, so saying it has no account
tells nobody anything new). The session is the same :class:`~issuer.access.staff.SignedIn` a
password sign-in starts (:func:`issuer.access.staff.start_session`): it ends the same way (sign
out, 12 hours, account disabled, password changed).

Employees: this module only proves the address; what an employee session is belongs to the
employee space (the web layer hands the address to it, see :mod:`issuer.web.oidc`).

The redirect URI is always this installation's base URL plus :data:`CALLBACK_PATH`, never
built from the request's Host header. Errors: :class:`~issuer.access.oidc_tokens.OidcRefused`
(403), :class:`~issuer.access.oidc_tokens.OidcUnavailable` (503), and
:class:`~issuer.errors.NotFound` when no provider is configured.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from issuer.access.oidc import OidcClient, PendingSignIn
from issuer.access.oidc_settings import OidcSettings
from issuer.access.oidc_tokens import OidcRefused, VerifiedIdentity
from issuer.access.staff import SignedIn, find_user, start_session
from issuer.errors import NotFound
from issuer.runtime import Runtime

__all__ = ["CALLBACK_PATH", "OidcService", "ProviderButton"]

CALLBACK_PATH = "/oidc/callback"


@dataclass(frozen=True)
class ProviderButton:
    """What a sign-in page shows: "Sign in with <name>"."""

    name: str


class OidcService:
    """The sign-in flow for one configured provider, or none (every call then is NotFound)."""

    def __init__(self, runtime: Runtime, settings: OidcSettings | None, client: OidcClient | None = None) -> None:
        self.runtime = runtime
        self.settings = settings
        self.client = client or (OidcClient(settings, runtime.clock) if settings is not None else None)

    @property
    def redirect_uri(self) -> str:
        """The URL to register at the provider."""
        return self.runtime.settings.url(CALLBACK_PATH)

    def button(self) -> ProviderButton | None:
        """The sign-in button to show, or None when no provider is configured."""
        return ProviderButton(self.settings.display_name) if self.settings is not None else None

    def _client(self) -> OidcClient:
        if self.client is None:
            raise NotFound("Sign-in with an identity provider is not set up here.", code="oidc_not_configured")
        return self.client

    def start(self, purpose: str, *, next_path: str = "") -> tuple[str, dict[str, Any]]:
        """(the provider's URL to send the browser to, the pending sign-in to keep in its session)."""
        url, pending = self._client().authorization_request(self.redirect_uri, purpose=purpose, next_path=next_path)
        return url, pending.to_dict()

    def finish(self, pending: PendingSignIn | None, params: dict[str, str]) -> VerifiedIdentity:
        """The provider's answer checked: the person's verified identity (OidcRefused / OidcUnavailable)."""
        return self._client().complete(pending, params, self.redirect_uri)

    def staff_sign_in(self, identity: VerifiedIdentity) -> SignedIn:
        """A console session for the active account whose user name is the verified email."""
        with self.runtime.transaction() as session:
            user = find_user(session, identity.email)
            if user is None:
                raise OidcRefused(f"There is no console account for {identity.email}. An administrator can "
                                  "create one with that address as its user name.", code="oidc_unknown_staff")
            if not user.active:
                raise OidcRefused("This account is disabled; ask an administrator.", code="disabled")
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, self.runtime.now()
            return start_session(session, SignedIn(user.id, user.username, user.role, user.session_version))
