"""The issuer's signing keys: create, rotate, withdraw, load.

Key states (``IssuerKey.state``):

* ``current`` — the one key that signs; its private JWK file is in the keys folder
  (mode 0600, never overwritten).
* ``retired`` — replaced by a rotation. Its private key file is destroyed once the
  rotation commits (:func:`issuer.keys.files.destroy_key_file`: deleted; nothing keeps reading
  it), optionally after one encrypted export. Its public key stays in the DID document,
  ``assertionMethod`` included, so everything it signed still verifies; with no private
  key it can sign nothing new.
* ``withdrawn`` — compromised (:func:`withdraw_key`): its private key file is destroyed
  and it is no longer published at all, so nothing signed with it verifies any more,
  forgeries included. The awards it signed are re-issued with the current key
  (:func:`issuer.awards.lifecycle.reissue_signed_with`).

Only the current key is ever loaded for signing. Verification method ids are ``<did>#key-N``.

Errors: :class:`NoCurrentKeyError` (and a key file that does not hold the recorded key) is
:class:`~issuer.errors.NotReady`; :class:`KeyringError` is bad input (no reason, no passphrase);
an unknown key is :class:`~issuer.errors.NotFound` (``unknown_key``) and withdrawing the only
current key :class:`~issuer.errors.NotAllowed` (``key_is_current``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.db.models import AuditEntry, Issuer, IssuerKey, utcnow
from issuer.errors import InvalidInput, NotAllowed, NotFound, NotReady
from issuer.keys.files import KeyPair, destroy_key_file, generate_key, load_key, save_key

_loaded: dict[tuple[str, str], KeyPair] = {}
_PENDING = "microcred_key_files_to_destroy"


class NoCurrentKeyError(NotReady):
    """The issuer has no current key (or not the one its file should hold): nothing can be signed."""

    default_code = "no_current_key"


class KeyringError(InvalidInput):
    """A key action asked for the wrong way (no reason, no passphrase, no key to export)."""

    default_code = "invalid_key_action"


def verification_method(issuer: Issuer, key: IssuerKey) -> str:
    return f"{issuer.did}#{key.key_id}"


def _key_file_name(issuer: Issuer, key_id: str) -> str:
    slug = issuer.did.replace(":", "_").replace("%", "_")
    return f"{slug}-{key_id}.jwk"


# ---- private key files are destroyed only once the state change is committed

def _destroy_after_commit(session: Session, settings: Settings, key: IssuerKey) -> None:
    """Destroy ``key``'s private file when ``session`` commits (never if it rolls back)."""
    session.info.setdefault(_PENDING, []).append((Path(settings.keys_dir), key.key_file))


@event.listens_for(Session, "after_commit")
def _destroy_pending(session: Session) -> None:
    for keys_dir, file_name in session.info.pop(_PENDING, ()):
        _loaded.pop((keys_dir.as_posix(), file_name), None)
        destroy_key_file(keys_dir / file_name)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _private_pair(settings: Settings, row: IssuerKey) -> KeyPair:
    cache_key = (Path(settings.keys_dir).as_posix(), row.key_file)
    pair = _loaded.get(cache_key)
    if pair is None:
        path = Path(settings.keys_dir) / row.key_file
        if not path.is_file():      # another server's keys folder, or a lost one: not ready, no server path said
            raise NoCurrentKeyError(f"the current key's file {row.key_file} is not in this server's keys folder "
                                    "(every server must share the keys folder: MICROCRED_KEYS)",
                                    code="key_file_missing")
        pair = load_key(path)
        if pair.public.to_multibase() != row.public_multibase:
            raise NoCurrentKeyError(f"the key file {row.key_file} does not hold the key the database records",
                                    code="key_mismatch")
        _loaded[cache_key] = pair
    return pair


def add_key(session: Session, settings: Settings, issuer: Issuer, key_type: str = "ed25519",
            *, passphrase: str | None = None, export_old: Path | None = None,
            export_passphrase: str | None = None) -> IssuerKey:
    """Generate a key, store its private part in the keys folder, make it the current key (a rotation).

    The previously current key (if any) is retired: its public key stays published (old
    credentials keep verifying) and its private key file is destroyed when the session
    commits. With ``export_old``, that private key is first written there once, encrypted
    with ``export_passphrase`` (never over an existing file).
    """
    existing = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id)).all()
    old_current = [k for k in existing if k.state == "current"]
    if export_old is not None:
        if not old_current:
            raise KeyringError("there is no current key to export", code="no_current_key")
        if not export_passphrase:
            raise KeyringError("exporting the old key needs a passphrase to encrypt it with",
                               code="key_passphrase_missing")
        save_key(_private_pair(settings, old_current[0]), export_old, passphrase=export_passphrase)
    pair = generate_key(key_type)
    key_id = f"key-{len(existing) + 1}"
    file_name = _key_file_name(issuer, key_id)
    save_key(pair, Path(settings.keys_dir) / file_name, passphrase=passphrase)
    now = utcnow()
    for old in old_current:
        old.state, old.retired_at = "retired", now
        _destroy_after_commit(session, settings, old)
    row = IssuerKey(issuer_id=issuer.id, key_id=key_id, key_type=pair.key_type, key_file=file_name,
                    public_multibase=pair.public.to_multibase(), public_jwk=pair.public.to_jwk(), state="current",
                    created_at=now)
    session.add(row)
    session.flush()
    _loaded[(Path(settings.keys_dir).as_posix(), file_name)] = pair
    return row


def current_key(session: Session, settings: Settings, issuer: Issuer) -> tuple[IssuerKey, KeyPair]:
    """The current key row and its private key (loaded once per process).

    Only a key the database calls ``current`` is ever returned: retired and withdrawn
    keys never sign, and their cached private keys are dropped here.
    """
    row = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id, IssuerKey.state == "current")
                          ).one_or_none()
    if row is None:
        raise NoCurrentKeyError(f"the issuer {issuer.did} has no current key; run 'microcred keys rotate'")
    keys_dir = Path(settings.keys_dir).as_posix()
    prefix = _key_file_name(issuer, "")
    for stale in [k for k in _loaded if k[0] == keys_dir and k[1].startswith(prefix) and k[1] != row.key_file]:
        _loaded.pop(stale, None)   # another process rotated: forget the old private key here too
    return row, _private_pair(settings, row)


def all_keys(session: Session, issuer: Issuer) -> list[IssuerKey]:
    """Every key the issuer ever had, withdrawn ones included (the identity documents leave those out)."""
    return list(session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id)
                                .order_by(IssuerKey.created_at, IssuerKey.id)))


def find_key(session: Session, issuer: Issuer, ref: str) -> IssuerKey:
    """A key by ``key-N``, ``#key-N`` or its full verification method ``<did>#key-N``."""
    ref = (ref or "").strip()
    key_id = ref[len(issuer.did):] if ref.startswith(issuer.did + "#") else ref
    key_id = key_id.lstrip("#")
    row = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id, IssuerKey.key_id == key_id)
                          ).one_or_none()
    if row is None:
        known = ", ".join(k.key_id for k in all_keys(session, issuer)) or "none"
        raise NotFound(f"the issuer has no key {ref!r} (its keys: {known})", code="unknown_key", field="key")
    return row


@dataclass(frozen=True)
class Withdrawal:
    key: IssuerKey
    method: str
    changed: bool       # False when the key was already withdrawn


def withdraw_key(session: Session, settings: Settings, issuer: Issuer, ref: str, *, reason: str,
                 actor: str) -> Withdrawal:
    """Withdraw a compromised key: it leaves the DID document, the profile's keys and the JWKS.

    Its private key file is destroyed on commit and ``keys-revoke`` is audited; the status
    lists are signed again with the current key by the caller
    (:func:`issuer.awards.lifecycle.withdraw_compromised_key`, which commands and views call). The
    current key cannot be withdrawn: rotate first. Withdrawing a withdrawn key changes nothing.
    The awards it signed are re-issued separately (:func:`issuer.awards.lifecycle.reissue_signed_with`).
    """
    if not reason or not reason.strip():
        raise KeyringError("a reason is required (it is kept in the audit log)", code="reason_required",
                           field="reason")
    key = find_key(session, issuer, ref)
    method = verification_method(issuer, key)
    if key.state == "withdrawn":
        return Withdrawal(key, method, False)
    if key.state == "current":
        others = session.scalars(select(IssuerKey.id).where(IssuerKey.issuer_id == issuer.id,
                                                            IssuerKey.state == "current",
                                                            IssuerKey.id != key.id)).first()
        if others is None:
            raise NotAllowed(f"{key.key_id} is the current signing key and the only one: rotate first "
                             f"('microcred keys rotate'), then revoke {key.key_id}", code="key_is_current")
    key.state, key.retired_at = "withdrawn", key.retired_at or utcnow()
    _destroy_after_commit(session, settings, key)
    session.flush()
    session.add(AuditEntry(actor=actor, action="keys-revoke", award_id=None,
                           details={"key": method, "reason": reason.strip(), "compromised": True}))
    return Withdrawal(key, method, True)
