"""Sign a planned award and verify it with the verifier before anything is stored.

:class:`AwardSigner` holds what signing needs for one issuer and one key (its profile, the
key pair, the verification method, the achievements) and what the self-check needs (the
issuer's published DID document and status lists, :class:`SelfCheck`). It is built in the
process that signs: the web app and the CLI build it per request or command, a bulk run
once per signing process (from the key file; nothing secret crosses a process boundary).

Every credential is verified offline, strictly, against the issuer's own documents
(:meth:`SelfCheck.verify`); one that does not verify raises
:class:`~issuer.errors.SigningFailed` and nothing is stored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.awards.plan import PlannedAward, unsigned_credential
from issuer.config import Settings
from issuer.db.models import Achievement, Issuer
from issuer.errors import SigningFailed
from issuer.identity import profile, published_documents
from issuer.keys.files import KeyPair
from issuer.signing import sign_credential
from verifier import verify_credential
from verifier.checks.status import RunMemo
from verifier.jsonld import JsonLdEngine


@dataclass
class SelfCheck:
    """The issuer's published documents (DID document, status lists) for verifying what it signs, offline."""

    documents: dict[str, Any] = field(default_factory=dict)    # URL -> the document's JSON bytes
    # status lists already verified, and parsing / decoding / key resolution done for the same
    # exact document bytes (each keyed by that content: a changed document is read afresh)
    memo: RunMemo = field(default_factory=RunMemo)
    engine: JsonLdEngine = field(default_factory=lambda: JsonLdEngine(remember_canonical=True))

    @classmethod
    def load(cls, session: Session, settings: Settings, issuer: Issuer) -> SelfCheck:
        """The documents as published now: the DID document and every status list of the issuer, as JSON
        bytes (what a verifier fetching them reads; kept encoded, so no verification encodes them again)."""
        return cls(published_documents(session, settings, issuer))

    def use(self, documents: dict[str, Any]) -> None:
        """Verify against ``documents`` from now on (a bulk run's signing process gets them by message)."""
        self.documents = dict(documents)
        self.memo = RunMemo()

    def verify(self, signed: dict[str, Any], now: datetime) -> None:
        report = verify_credential(signed, now=max(now, datetime.now(UTC)), offline=True, strict=True,
                                   documents=self.documents, memo=self.memo, engine=self.engine, flag_supplied=False)
        if not report.verified:
            problems = [f"{c.check}: {c.reason}" for c in report.checks if c.status in ("failed", "indeterminate")]
            raise SigningFailed(f"the signed credential did not verify ({', '.join(problems)}); nothing was stored",
                                code="issuance_failed", details={"report": report.to_dict()})


@dataclass(frozen=True)
class SignedAward:
    planned: PlannedAward
    credential: str                        # the signed credential, JSON text, exactly as stored
    credential_jwt: str | None = None      # the VC-JWT form, when asked for


class AwardSigner:
    """Builds, signs and self-verifies the credentials of planned awards for one issuer and key."""

    def __init__(self, settings: Settings, issuer: Issuer, pair: KeyPair, verification_method: str,
                 achievements: dict[str, Achievement], check: SelfCheck) -> None:
        self.settings = settings
        self.profile = profile(issuer, settings)
        self.pair = pair
        self.verification_method = verification_method
        self.achievements = achievements
        self.check = check

    def sign(self, planned: PlannedAward, now: datetime, *, jwt: bool = False) -> SignedAward:
        credential = unsigned_credential(self.settings, self.profile, self.achievements[planned.achievement_id],
                                         planned)
        signed = sign_credential(credential, self.pair, verification_method=self.verification_method,
                                 engine=self.check.engine)
        assert isinstance(signed, dict)  # noqa: S101 - a Data Integrity proof gives the document
        self.check.verify(signed, now)
        token = sign_credential(credential, self.pair, verification_method=self.verification_method,
                                cryptosuite="jwt") if jwt else None
        assert token is None or isinstance(token, str)  # noqa: S101 - a VC-JWT is text
        return SignedAward(planned, json.dumps(signed, ensure_ascii=False), token)
