"""Checking an OpenID Connect ID token, and the errors of OIDC sign-in.

    claims = validate_id_token(raw, keys=KeySet.import_key_set(jwks), issuer=issuer, client_id=client_id,
                               nonce=pending.nonce, now=clock())          # OidcRefused when anything is off
    identity = identity_from(claims)                                       # the verified email, or OidcRefused

A pure function of the token, the provider's public keys and a time (the runtime's clock, never
the wall clock), following OpenID Connect Core 1.0 §3.1.3.7:

1. the signature verifies with one of the provider's keys (JWKS), by an asymmetric algorithm
   from :data:`ID_TOKEN_ALGORITHMS` (never ``none``, never HMAC: an HS256 token would be
   "signed" with the client secret, which this installation holds too);
2. ``iss`` is exactly the configured issuer;
3. ``aud`` names this client; with more than one audience, ``azp`` must be this client, and
   ``azp`` when present is always this client;
4. ``exp`` is after now, ``iat`` not after now (with :data:`LEEWAY` for clock skew), and the
   token is not older than :data:`MAX_AGE`;
5. ``nonce`` is the one this browser's sign-in was started with (replay of an old token);
6. ``sub`` is present.

The email is taken only when the provider says it is verified (``email_verified`` is JSON
``true``, not the string "true"): an address a user merely typed into their profile at the
provider must not open an account that address names here.

Library: joserfc (the JOSE library of Authlib's author, which Authlib's own ``authlib.jose``
now defers to) decodes the JWS and checks the registered claims with an explicit ``now``;
this module only picks the rules above and turns failures into plain sentences.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from issuer.errors import NotAllowed, NotReady

__all__ = ["ID_TOKEN_ALGORITHMS", "LEEWAY", "MAX_AGE", "OidcRefused", "OidcUnavailable", "VerifiedIdentity",
           "identity_from", "validate_id_token"]

ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
                       "Ed25519")
LEEWAY = 60             # seconds of clock difference tolerated between the provider and this server
MAX_AGE = 10 * 60       # seconds: an ID token issued longer ago than this is not accepted
MAX_TOKEN = 16 * 1024   # characters: a real ID token is a few hundred to a few thousand

START_AGAIN = "Go back to the sign-in page and start again."


class OidcRefused(NotAllowed):
    """A sign-in through the identity provider that cannot be accepted (403): bad or replayed
    state, a refused code, an ID token that fails a check, no verified email, no account."""

    default_code = "oidc_refused"


class OidcUnavailable(NotReady):
    """The identity provider could not be reached or answered something unusable (503)."""

    default_code = "oidc_unavailable"


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the provider vouches for: its subject id and the verified email (lower-cased)."""

    subject: str
    email: str
    name: str | None = None


def _refused(reason: str, code: str) -> OidcRefused:
    return OidcRefused(f"The sign-in could not be accepted: {reason}. {START_AGAIN}", code=code)


_CLAIM_REASONS = {
    "iss": ("it was issued by another identity provider than the configured one", "id_token_issuer"),
    "aud": ("it was meant for another application", "id_token_audience"),
    "azp": ("it was meant for another application", "id_token_audience"),
    "nonce": ("it does not belong to the sign-in started in this browser", "id_token_nonce"),
    "iat": ("the identity provider's clock is ahead of this server's", "id_token_time"),
    "sub": ("it names nobody", "id_token_subject"),
    "exp": ("it has expired", "id_token_expired"),
}


def validate_id_token(id_token: str, *, keys: KeySet, issuer: str, client_id: str, nonce: str, now: datetime,
                      algorithms: tuple[str, ...] = ID_TOKEN_ALGORITHMS, leeway: int = LEEWAY) -> dict[str, Any]:
    """The claims of ``id_token`` once every check of the module docstring passed; :class:`OidcRefused` otherwise."""
    if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_TOKEN:
        raise _refused("the identity provider sent no usable ID token", "id_token_missing")
    allowed = [alg for alg in algorithms if alg in ID_TOKEN_ALGORITHMS]
    try:
        token = jwt.decode(id_token, keys, algorithms=allowed)
    except InvalidKeyIdError as exc:        # the client fetches the provider's keys again once (key rotation)
        raise _refused("the identity provider's answer is signed with a key it does not publish",
                       "id_token_unknown_key") from exc
    except JoseError as exc:
        raise _refused("the identity provider's answer is not signed with one of its published keys",
                       "id_token_signature") from exc
    except (ValueError, TypeError) as exc:
        raise _refused("the identity provider's answer is not a readable ID token", "id_token_malformed") from exc
    claims = token.claims
    timestamp = int(now.timestamp())
    registry = JWTClaimsRegistry(
        now=timestamp, leeway=leeway,
        iss={"essential": True, "value": issuer}, sub={"essential": True}, aud={"essential": True, "value": client_id},
        exp={"essential": True}, iat={"essential": True}, nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise _refused(*_CLAIM_REASONS["exp"]) from exc
    except MissingClaimError as exc:
        raise _refused(f"the ID token lacks {exc.claim.replace(',', ', ')}", "id_token_incomplete") from exc
    except ClaimError as exc:
        reason, code = _CLAIM_REASONS.get(exc.claim, (f"its {exc.claim!r} is wrong", "id_token_claim"))
        raise _refused(reason, code) from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None and azp != client_id) or (len(audiences) > 1 and azp is None):
        raise _refused(*_CLAIM_REASONS["azp"])
    if claims["iat"] < timestamp - MAX_AGE - leeway:
        raise _refused("it was issued too long ago", "id_token_time")
    return claims


def identity_from(claims: dict[str, Any]) -> VerifiedIdentity:
    """The subject and verified email of validated ``claims``; :class:`OidcRefused` without a verified email."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise OidcRefused("The identity provider did not share your email address, so this site cannot tell who "
                          "you are. Ask your administrator to allow the 'email' scope for this application.",
                          code="oidc_no_email")
    if claims.get("email_verified") is not True:
        raise OidcRefused(f"The identity provider has not verified the address {email}, so it cannot be used to "
                          "sign in here. Verify it with your identity provider, or use another way to sign in.",
                          code="oidc_email_unverified")
    name = claims.get("name")
    return VerifiedIdentity(subject=str(claims["sub"]), email=email.strip().lower(),
                            name=name if isinstance(name, str) and name.strip() else None)
