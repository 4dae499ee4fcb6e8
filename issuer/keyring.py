"""The issuer's signing keys: create, load, rotate.

Private keys live as JWK files in the keys folder (mode 0600, never overwritten);
the database records which key is current and keeps every retired key's public part,
so the DID document keeps publishing it and every credential ever issued still
verifies. Verification method ids are ``<did>#key-N``.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from verifier.errors import CredentialError

from .config import Settings
from .db.models import Issuer, IssuerKey, utcnow
from .keys import KeyPair, generate_key, load_key, save_key

_loaded: dict[tuple[str, str], KeyPair] = {}


class NoCurrentKeyError(CredentialError):
    code = "no_current_key"


def verification_method(issuer: Issuer, key: IssuerKey) -> str:
    return f"{issuer.did}#{key.key_id}"


def _key_file_name(issuer: Issuer, key_id: str) -> str:
    slug = issuer.did.replace(":", "_").replace("%", "_")
    return f"{slug}-{key_id}.jwk"


def add_key(session: Session, settings: Settings, issuer: Issuer, key_type: str = "ed25519",
            *, passphrase: str | None = None) -> IssuerKey:
    """Generate a key, store its private part in the keys folder, make it the current key.

    The previously current key (if any) is retired but stays published.
    """
    pair = generate_key(key_type)
    existing = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id)).all()
    key_id = f"key-{len(existing) + 1}"
    file_name = _key_file_name(issuer, key_id)
    save_key(pair, Path(settings.keys_dir) / file_name, passphrase=passphrase)
    now = utcnow()
    for old in existing:
        if old.state == "current":
            old.state, old.retired_at = "retired", now
    row = IssuerKey(issuer_id=issuer.id, key_id=key_id, key_type=pair.key_type, key_file=file_name,
                    public_multibase=pair.public.to_multibase(), public_jwk=pair.public.to_jwk(), state="current",
                    created_at=now)
    session.add(row)
    session.flush()
    _loaded[(settings.keys_dir.as_posix(), file_name)] = pair
    return row


def current_key(session: Session, settings: Settings, issuer: Issuer) -> tuple[IssuerKey, KeyPair]:
    """The current key row and its private key (loaded once per process)."""
    row = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id, IssuerKey.state == "current")
                          ).one_or_none()
    if row is None:
        raise NoCurrentKeyError(f"the issuer {issuer.did} has no current key; run 'microcred keys rotate'")
    cache_key = (Path(settings.keys_dir).as_posix(), row.key_file)
    pair = _loaded.get(cache_key)
    if pair is None:
        pair = load_key(Path(settings.keys_dir) / row.key_file)
        if pair.public.to_multibase() != row.public_multibase:
            raise CredentialError(f"the key file {row.key_file} does not hold the key the database records",
                                  code="key_mismatch")
        _loaded[cache_key] = pair
    return row, pair


def all_keys(session: Session, issuer: Issuer) -> list[IssuerKey]:
    return list(session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id)
                                .order_by(IssuerKey.created_at, IssuerKey.id)))
