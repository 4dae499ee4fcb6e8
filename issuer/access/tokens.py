"""API tokens: create, verify, list and revoke bearer tokens for the REST API and the VC-API.

    token_row, secret = create_token(session, scope="issue", name="LMS integration")
    print(secret)                                  # "mct_..." shown once, never stored
    row = verify_token(session, secret)            # the ApiToken, or None (unknown / revoked)
    scope_allows(row.scope, "read")                # read < issue < admin; vcapi-issue on its own
    revoke_token(session, token_row.id)

A token is ``mct_`` followed by 256 random bits (base64url). Only its SHA-256 (hex) is
stored; it is looked up by that hash and compared with :func:`hmac.compare_digest`.
Revoked tokens stay in the table (for the audit trail) and never verify again.

Scopes: ``read`` < ``issue`` < ``admin`` (each includes the ones before it), and
``vcapi-issue``, which stands alone: it allows only VC-API issuing (``POST
/credentials/issue``, which must also be enabled with ``MICROCRED_VCAPI_ISSUING=1``) and
no other scope includes it.

Errors: :class:`TokenError` (:class:`~issuer.errors.InvalidInput`) for a bad scope or name;
an unknown token id is :class:`~issuer.errors.NotFound` (``unknown_token``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.db.models import utcnow
from issuer.db.models_api import TOKEN_SCOPES, ApiToken
from issuer.errors import InvalidInput, NotFound

PREFIX = "mct_"
SECRET_BYTES = 32                                    # 256 bits
TOKEN_FORMAT = re.compile(r"^mct_[A-Za-z0-9_-]{43}$")
MAX_NAME = 255
TOUCH_INTERVAL = timedelta(minutes=1)                # last_used_at is written at most this often


VCAPI_ISSUE = "vcapi-issue"
SCOPES = (*TOKEN_SCOPES, VCAPI_ISSUE)               # every scope a token may have


class TokenError(InvalidInput):
    """A token asked for with a bad scope or name."""

    default_code = "invalid_token"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def scope_allows(granted: str, required: str) -> bool:
    """Whether a token with scope ``granted`` may do what needs ``required`` (read < issue < admin;
    ``vcapi-issue`` allows only itself and is allowed by nothing else)."""
    if VCAPI_ISSUE in (granted, required):
        return granted == required
    if granted not in TOKEN_SCOPES or required not in TOKEN_SCOPES:
        return False
    return TOKEN_SCOPES.index(granted) >= TOKEN_SCOPES.index(required)


def create_token(session: Session, *, scope: str, name: str | None = None) -> tuple[ApiToken, str]:
    """A new token: (its row, the secret token string). The secret is not kept anywhere."""
    if scope not in SCOPES:
        raise TokenError(f"the scope must be one of {', '.join(SCOPES)}, not {scope!r}", code="invalid_scope",
                         field="scope")
    if name is not None:
        name = name.strip() or None
        if name and (len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name)):
            raise TokenError(f"a token name is at most {MAX_NAME} printable characters", code="invalid_input",
                             field="name")
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    row = ApiToken(name=name, scope=scope, token_hash=hash_token(secret), created_at=utcnow())
    session.add(row)
    session.flush()
    return row, secret


def verify_token(session: Session, token: str | None, *, now: datetime | None = None,
                 touch: bool = True) -> ApiToken | None:
    """The active token row for ``token``, or None. Updates ``last_used_at`` (at most once a minute)."""
    if not isinstance(token, str) or not TOKEN_FORMAT.match(token):
        return None
    digest = hash_token(token)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
        return None
    if touch:
        now = now or utcnow()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
            row.last_used_at = now
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(session: Session, token_id: str, *, now: datetime | None = None) -> tuple[ApiToken, bool]:
    """(row, changed): revoke the token with id ``token_id``; revoking twice changes nothing."""
    row = session.get(ApiToken, token_id) if isinstance(token_id, str) and len(token_id) <= 36 else None
    if row is None:
        raise NotFound(f"there is no API token {token_id!r}", code="unknown_token")
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = now or utcnow()
    return row, True
