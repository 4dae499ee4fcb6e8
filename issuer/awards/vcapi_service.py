"""Credentials signed through the VC-API: issuing (recorded, with status entries from the issuer's lists), listing.

    signed = services.vcapi.issue(credential, suite_mode=False, token_id=token.id, actor="api:t1 (ci)")
    listed = services.vcapi.listing("revoked", cursor=None, limit=50)     # the API's cursor pages
    shown = services.vcapi.page(None, page=2)                             # the console's numbered pages

:meth:`VcapiService.issue` takes a credential the VC data model allows (the web layer checked
that, :func:`issuer.web.vcapi.check_data_model`) and, in one transaction: signs as the
installation's identity (did:web, its current key) or, in did:key suite mode, as the current
key's did:key; refuses what :func:`issuer.awards.vcapi_records.refusals` refuses
(:class:`~issuer.awards.vcapi_records.VcapiRefused`, every reason listed); as did:web gives the
credential its id and a revocation and a suspension entry, whose indexes come from the
process's :class:`~issuer.awards.allocation.StatusIndexes` (when a concurrent issuer stored one
of them first, the slots are forgotten and the credential is planned and signed again); checks
the JSON-LD; signs, verifies the proof (never hands out what does not verify) and stores the
record, its status allocations and an audit entry. Status changes are
:meth:`issuer.awards.status_service.StatusService.change_vcapi_status`.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from issuer.awards.allocation import ListsFull, Slots, StatusIndexes, allocation_rows
from issuer.awards.credentials import credential_url
from issuer.awards.search import Cursor, after_cursor, newest_first
from issuer.awards.vcapi_records import (
    DI_V2,
    VC_V1,
    VcapiRefused,
    accountable,
    allocations,
    as_list,
    check_json_ld,
    refusals,
    types_of,
)
from issuer.db.models import AuditEntry, Issuer, StatusAllocation, VcapiCredential, new_id
from issuer.errors import Conflict, NotReady, SigningFailed
from issuer.identity import published_documents
from issuer.keys.files import KeyPair
from issuer.keys.keyring import current_key, verification_method
from issuer.runtime import Runtime
from issuer.signing import sign_credential
from verifier.errors import CredentialError
from verifier.proofs import verify_proofs

ATTEMPTS = 5
PAGE_SIZE = 50


@dataclass(frozen=True)
class Identity:
    """Who signs: the DID, its verification method and the key."""

    did: str
    verification_method: str
    key: KeyPair


@dataclass(frozen=True)
class VcapiListed:
    record: VcapiCredential
    status: list[dict[str, Any]]              # its status entries: {"purpose", "list", "index"}

    @property
    def id(self) -> str:                      # the record's id and time, for cursor pages
        return self.record.id

    @property
    def created_at(self) -> datetime:
        return self.record.created_at


@dataclass(frozen=True)
class VcapiPage:
    rows: list[VcapiListed]
    page: int
    has_next: bool
    total: int


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _listed(session: Session, records: list[VcapiCredential]) -> list[VcapiListed]:
    found = allocations(session, [r.id for r in records])
    return [VcapiListed(r, found[r.id]) for r in records]


class VcapiService:
    """Credentials signed through the VC-API: issuing (recorded, with status entries from the issuer's lists),
    listing.
    """

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes

    # ------------------------------------------------------------ issuing

    def identity(self, session: Session, issuer: Issuer, *, suite_mode: bool) -> Identity:
        """The identity credentials are signed as (NotReady without a current Ed25519 key)."""
        try:
            row, pair = current_key(session, self.runtime.settings, issuer)
        except CredentialError as exc:
            raise NotReady(str(exc), code=exc.code) from None
        if pair.key_type != "Ed25519":
            raise NotReady("The issuer's current key is not an Ed25519 key, which eddsa-rdfc-2022 needs.",
                           code="not_ed25519")
        if suite_mode:
            did = pair.public.to_did_key()
            return Identity(did, f"{did}#{did[len('did:key:'):]}", pair)
        return Identity(issuer.did, verification_method(issuer, row), pair)

    def issue(self, credential: dict[str, Any], *, suite_mode: bool, token_id: str | None,
              actor: str) -> dict[str, Any]:
        """Sign, record and return ``credential`` (see the module docstring); VcapiRefused says why not."""
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            identity = self.identity(session, issuer, suite_mode=suite_mode)
            if _issuer_id(credential) != identity.did:
                raise VcapiRefused([f"this endpoint issues as {identity.did}; the credential's issuer must be "
                                    "exactly that"])
            errors = refusals(session, self.runtime.settings, credential, suite_mode=suite_mode,
                              now=self.runtime.now())
            if errors:
                raise VcapiRefused(errors)
            document = copy.deepcopy(credential)
            contexts = as_list(document["@context"])
            if contexts[0] == VC_V1 and DI_V2 not in contexts:
                document["@context"] = [*contexts, DI_V2]
            return self._sign_and_store(session, issuer, identity, document, suite_mode=suite_mode,
                                        token_id=token_id, actor=actor)

    def _slots(self, session: Session, issuer: Issuer) -> Slots | None:
        """A revocation and a suspension index (None: the open lists are full, open them again)."""
        try:
            return self.indexes.reserve(session, self.indexes.open_lists(session, self.runtime.settings, issuer),
                                        1)[0]
        except ListsFull:
            return None

    def _sign_and_store(self, session: Session, issuer: Issuer, identity: Identity, document: dict[str, Any], *,
                        suite_mode: bool, token_id: str | None, actor: str) -> dict[str, Any]:
        record_id = new_id()
        for _attempt in range(ATTEMPTS):
            slots: Slots | None = None
            body = document
            if not suite_mode:
                slots = self._slots(session, issuer)
                if slots is None:
                    continue
                entries = [status_list.entry(index) for status_list, index in slots.values()]
                body = accountable(document, credential_url(self.runtime.settings, record_id), entries)
            try:
                signed = self._signed(body, identity)
                with session.begin_nested():
                    self._store(session, issuer, identity, record_id, signed, slots, token_id=token_id, actor=actor)
            except IntegrityError:
                if slots is not None:
                    self.indexes.forget([slots])     # an index was taken meanwhile: draw again, sign again
                continue
            except BaseException:
                if slots is not None:
                    self.indexes.forget([slots])
                raise
            if slots is not None:
                self.indexes.stored([slots])
            return signed
        raise Conflict("the credential could not be stored: concurrent issuing kept taking its status indexes; "
                       "retry", code="concurrent_issuing")

    @staticmethod
    def _signed(document: dict[str, Any], identity: Identity) -> dict[str, Any]:
        errors = check_json_ld({k: v for k, v in document.items() if k != "proof"})
        if errors:
            raise VcapiRefused(errors)
        try:
            signed = cast(dict[str, Any], sign_credential(document, identity.key,
                                                          verification_method=identity.verification_method))
        except CredentialError as exc:
            raise VcapiRefused([str(exc)], code=exc.code) from None
        if not verify_proofs(signed, lambda vm: identity.key.public).verified:
            raise SigningFailed("The signed credential did not verify; nothing was issued.")
        return signed

    def _store(self, session: Session, issuer: Issuer, identity: Identity, record_id: str, signed: dict[str, Any],
               slots: Slots | None, *, token_id: str | None, actor: str) -> None:
        signed_id = signed.get("id") if isinstance(signed.get("id"), str) else None
        types = [t for t in types_of(signed.get("type")) if isinstance(t, str)][:10]
        session.add(VcapiCredential(id=record_id, issuer_id=issuer.id, signed_as=identity.did,
                                    credential=json.dumps(signed), token_id=token_id, actor=actor[:255],
                                    state="active", credential_id=signed_id[:2048] if signed_id else None,
                                    types=types, created_at=self.runtime.now()))
        session.flush()                       # the record, before the allocations that point at it
        if slots is not None:
            session.execute(insert(StatusAllocation), allocation_rows(slots, vcapi_credential_id=record_id))
        session.add(AuditEntry(actor=actor, action="vcapi-issue", award_id=None, details={
            "credential": signed_id, "vcapiCredential": record_id, "types": types,
            "verificationMethod": identity.verification_method}))
        session.flush()

    # ------------------------------------------------------------ listing

    def _query(self, session: Session, state: str | None) -> Select[VcapiCredential]:
        issuer = self.runtime.load_issuer(session)
        query = select(VcapiCredential).where(VcapiCredential.issuer_id == issuer.id)
        return query.where(VcapiCredential.state == state) if state else query

    def listing(self, state: str | None, *, cursor: Cursor | None, limit: int) -> list[VcapiListed]:
        """Up to ``limit`` + 1 credentials (in ``state``, when given), newest first, after ``cursor``."""
        with self.runtime.reading() as session:
            records = after_cursor(session, self._query(session, state), VcapiCredential, cursor, limit)
            return _listed(session, records)

    def page(self, state: str | None, page: int, page_size: int = PAGE_SIZE) -> VcapiPage:
        """Numbered page ``page`` of the credentials (in ``state``, when given), newest first."""
        with self.runtime.reading() as session:
            query = self._query(session, state)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            records = list(session.scalars(newest_first(query, VcapiCredential)
                                           .offset((page - 1) * page_size).limit(page_size)))
            return VcapiPage(_listed(session, records), page, page * page_size < total, total)

    # ------------------------------------------------------------ verification

    def local_documents(self) -> dict[str, Any]:
        """This installation's DID document and signed status lists, by URL ({} before it is set up)."""
        with self.runtime.reading() as session:
            try:
                issuer = self.runtime.load_issuer(session)
                documents = published_documents(session, self.runtime.settings, issuer)
            except (NotReady, CredentialError, SQLAlchemyError):
                return {}
            return documents
