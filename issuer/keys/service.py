"""The issuer's signing keys as a use case: list, rotate, withdraw a compromised key.

    ring = services.keys.list()                         # ring.keys oldest first, ring.did_document
    rotated = services.keys.rotate(actor="cli:ada", export_old=path, export_passphrase=secret)
    plan = services.keys.withdrawal_plan("key-1")       # what withdrawing it would re-issue
    done = services.keys.withdraw("key-1", reason="laptop stolen", actor="staff:ada")

The key states and files are :mod:`issuer.keys.keyring`'s; withdrawing a key and re-issuing
what it signed are :mod:`issuer.awards.lifecycle`'s (:func:`withdraw_compromised_key` signs
the status lists again, :func:`reissue_signed_with` re-issues in batches of one transaction
each, so an interrupted run is finished by running it again). This service owns the
transactions and the audit entries (``rotate_key``; ``keys-revoke`` is written with the
withdrawal, ``reissue`` per award). The re-issued awards' emails are queued with them: send
them with :meth:`issuer.awards.service.AwardService.deliver_mail` once the caller has answered.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from issuer.awards.allocation import StatusIndexes
from issuer.awards.lifecycle import reissue_signed_with, signed_with, withdraw_compromised_key
from issuer.db.models import AuditEntry, Issuer, IssuerKey
from issuer.keys.keyring import add_key, all_keys, find_key, verification_method
from issuer.runtime import Runtime
from issuer.tasks.names import TaskName

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]       # (done, total) after each batch of re-issued awards


@dataclass(frozen=True)
class KeyInfo:
    """One key as the console and ``microcred keys list`` show it."""

    id: str                   # key-N
    method: str               # <did>#key-N
    type: str                 # Ed25519, P-256, RSA
    state: str                # current, retired, withdrawn
    created: datetime
    retired: datetime | None
    multibase: str            # the public key


@dataclass(frozen=True)
class KeyRing:
    did: str
    did_document: str         # where the DID document is served
    keys: tuple[KeyInfo, ...]  # oldest first, withdrawn keys included


@dataclass(frozen=True)
class Rotated:
    method: str               # the new current key
    exported_to: Path | None  # where the old private key was written, encrypted


@dataclass(frozen=True)
class WithdrawalPlan:
    key: KeyInfo
    affected: int             # active awards it signed, to be re-issued


@dataclass(frozen=True)
class KeyWithdrawn:
    method: str
    changed: bool                          # False: it was withdrawn before (the re-issue is finished now)
    reissued: tuple[tuple[str, str], ...]  # (old award id, new award id)


def _info(issuer: Issuer, key: IssuerKey) -> KeyInfo:
    return KeyInfo(key.key_id, verification_method(issuer, key), key.key_type, key.state, key.created_at,
                   key.retired_at, key.public_multibase)


class KeyService:
    """The issuer's signing keys: list, rotate, withdraw a compromised key (and re-issue what it signed)."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes

    def list(self) -> KeyRing:
        """Every key the issuer ever had (NotReady before ``microcred init``)."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            keys = tuple(_info(issuer, key) for key in all_keys(session, issuer))
            return KeyRing(issuer.did, self.runtime.settings.did_document_location, keys)

    def rotate(self, *, actor: str, export_old: Path | None = None,
               export_passphrase: str | None = None) -> Rotated:
        """Make a new Ed25519 key current; the old private key file is destroyed once this commits, and
        the status lists are signed again with the new key (the PUBLISH_STATUS_LISTS task).

        With ``export_old`` the old private key is first written there once, encrypted with
        ``export_passphrase`` (never over an existing file). Audited as ``rotate_key``.
        """
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            key = add_key(session, self.runtime.settings, issuer, export_old=export_old,
                          export_passphrase=export_passphrase)
            method = verification_method(issuer, key)
            session.add(AuditEntry(actor=actor, action="rotate_key", award_id=None,
                                   details={"key": method, "exported_old": export_old is not None}))
        try:        # the status lists, signed with the new key (at once inline; by a worker on the queue)
            self.runtime.queue.defer(TaskName.PUBLISH_STATUS_LISTS, lock=str(TaskName.PUBLISH_STATUS_LISTS))
        except Exception:   # noqa: BLE001 - the old key still verifies them; the daily task signs them again
            log.warning("status lists not signed again after the key rotation yet", exc_info=True)
        return Rotated(method, export_old)

    def withdrawal_plan(self, ref: str) -> WithdrawalPlan:
        """The key ``ref`` (``key-N``, ``#key-N`` or ``<did>#key-N``; NotFound otherwise) and how many
        active awards withdrawing it would re-issue."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            info = _info(issuer, find_key(session, issuer, ref))
            return WithdrawalPlan(info, len(signed_with(session, issuer, info.method, self.runtime.now())))

    def withdraw(self, ref: str, *, reason: str, actor: str, progress: Progress | None = None) -> KeyWithdrawn:
        """Withdraw a compromised key and re-issue, with the current key, every active award it signed.

        The key leaves the DID document and the JWKS and its private key file is destroyed
        (one transaction, audited as ``keys-revoke``); the status lists are signed again. The
        awards are then re-issued in batches (``progress(done, total)`` after each). Running it
        again for a withdrawn key changes nothing and finishes an interrupted re-issue. The
        current key cannot be withdrawn while it is the only one (NotAllowed: rotate first).
        """
        reason = " ".join(reason.split())
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            withdrawal = withdraw_compromised_key(session, self.runtime.settings, issuer, ref, reason=reason,
                                                  actor=actor)
        result = reissue_signed_with(self.runtime.sessions, self.runtime.settings, withdrawal.key, actor=actor,
                                     reason=f"key withdrawn: {reason}", progress=progress, now=self.runtime.now())
        return KeyWithdrawn(withdrawal.method, withdrawal.changed, tuple(result.reissued))
