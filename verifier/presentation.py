"""``verify_presentation``: a Verifiable Presentation and every credential it carries, as one report.

VC Data Model 2.0 §4.13 and VC Data Integrity 1.0 §4.4-4.5. The presentation's own checks:

* PARSE: within the structural limits and valid Unicode (as for credentials), the VC 2.0 base
  context first, type ``VerifiablePresentation``, at most :data:`MAX_CREDENTIALS` embedded
  credentials (enveloped ones are not supported here).
* CONTEXTS: bundled vocabularies and one reading (:mod:`verifier.reading`), as for credentials.
* PROOF (when signed, or when a ``challenge``/``domain`` is asked for): every proof verifies
  for the ``authentication`` purpose and carries the challenge and each domain asked for.
* HOLDER_BINDING: each signing key is controlled by the presentation's ``holder`` (when it
  names one) and, for a DID, listed under the holder's ``authentication``.

Then each credential is verified by :func:`verifier.verify_credential` with the same fetcher
budget and clock. The presentation is verified when its own checks pass and every credential is.
A bad presentation never raises; only misuse does.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .checks.base import VC_V2, as_list, from_error, passed, reported, skipped, types_of
from .checks.parse import check_readable
from .did import resolve_did, split_did_url
from .errors import CredentialError
from .fetcher import Fetcher, FetchPolicy, NetworkFetcher
from .key_resolution import ResolvedMethod, resolve_verification_method
from .keys import PublicKey
from .proofs import verify_proofs
from .reading import ReadingError, check_single_reading
from .registry import CheckId, Status
from .report import CheckResult, VerificationReport
from .verify import verify_credential

MAX_CREDENTIALS = 10


@dataclass
class PresentationReport:
    """The presentation's own checks and one report per credential it carries."""

    checks: list[CheckResult]
    credentials: list[VerificationReport] = field(default_factory=list)

    @property
    def presentation_verified(self) -> bool:
        return all(c.status in (Status.PASSED, Status.SKIPPED, Status.WARNING) for c in self.checks)

    @property
    def verified(self) -> bool:
        return self.presentation_verified and all(r.verified for r in self.credentials)

    @property
    def signed(self) -> bool:
        """Whether the presentation carried a proof that verified."""
        return any(c.check == CheckId.PROOF and c.status == Status.PASSED for c in self.checks)

    @property
    def errors(self) -> list[CheckResult]:
        """The presentation's failed or indeterminate checks."""
        return [c for c in self.checks if c.status in (Status.FAILED, Status.INDETERMINATE)]

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "checks": [c.to_dict() for c in self.checks],
                "credentialResults": [r.to_dict() for r in self.credentials]}

    def __bool__(self) -> bool:
        raise TypeError("a PresentationReport is not a boolean; use report.verified")


def verify_presentation(presentation: Any, *, challenge: str | None = None, domain: str | list[str] | None = None,
                        fetcher: Fetcher | None = None, now: datetime | None = None,
                        policy: FetchPolicy | None = None, offline: bool = False,
                        documents: Mapping[str, Any] | None = None, flag_supplied: bool = True,
                        strict: bool = False) -> PresentationReport:
    """Verify a presentation (a dict) and the credentials in it.

    Args:
        challenge, domain: what the verifier asked the holder to sign (a signed presentation must
            carry them; asking for them of an unsigned presentation fails).
        fetcher, now, policy, offline, documents, flag_supplied, strict: as for
            :func:`verifier.verify_credential`.

    Raises:
        TypeError: ``presentation`` is not a dict.
    """
    if not isinstance(presentation, dict):
        raise TypeError("a presentation must be a dict")
    now = now or datetime.now(UTC)
    network = fetcher or NetworkFetcher(policy or FetchPolicy())
    view = network.for_verification(documents=dict(documents or {}), offline=offline)
    checks = [_check_shape(presentation)]
    if checks[0].status == Status.PASSED:
        checks.append(_check_contexts(presentation))
    if all(c.status == Status.PASSED for c in checks):
        checks += _check_signature(presentation, challenge, domain, view, now)
    report = PresentationReport(checks)
    if not report.presentation_verified:
        return report
    for credential in as_list(presentation.get("verifiableCredential")):
        report.credentials.append(verify_credential(credential, fetcher=view, now=now, strict=strict,
                                                    flag_supplied=flag_supplied)
                                  if isinstance(credential, dict) else _not_embedded())
    return report


def _not_embedded() -> VerificationReport:
    return VerificationReport([reported(CheckId.PARSE, "enveloped_credential_unsupported")])


def _check_shape(presentation: dict[str, Any]) -> CheckResult:
    unusable = check_readable(presentation)
    if unusable is not None:
        return unusable
    contexts = as_list(presentation.get("@context"))
    if not contexts or contexts[0] != VC_V2:
        return reported(CheckId.PARSE, "missing_base_context", f"the first @context of a presentation must be {VC_V2}")
    if "VerifiablePresentation" not in types_of(presentation):
        return reported(CheckId.PARSE, "not_a_presentation", "type does not include VerifiablePresentation")
    credentials = as_list(presentation.get("verifiableCredential"))
    if len(credentials) > MAX_CREDENTIALS:
        return reported(CheckId.PARSE, "too_many_credentials", f"more than {MAX_CREDENTIALS} credentials")
    for index, credential in enumerate(credentials):
        if not isinstance(credential, dict) or "EnvelopedVerifiableCredential" in types_of(credential):
            return reported(CheckId.PARSE, "enveloped_credential_unsupported",
                            f"verifiableCredential[{index}] is not an embedded JSON-LD credential")
    plural = "s" if len(credentials) != 1 else ""
    return passed(CheckId.PARSE, f"{len(credentials)} badge{plural} presented by their holder.")


def _check_contexts(presentation: dict[str, Any]) -> CheckResult:
    try:
        check_single_reading({k: v for k, v in presentation.items() if k != "verifiableCredential"})
    except ReadingError as exc:
        return from_error(CheckId.CONTEXTS, exc)
    return passed(CheckId.CONTEXTS, "Everything the holder added is written in terms this checker knows.")


def _check_signature(presentation: dict[str, Any], challenge: str | None, domain: str | list[str] | None,
                     fetcher: Fetcher, now: datetime) -> list[CheckResult]:
    if "proof" not in presentation:
        if challenge is not None or domain is not None:
            return [reported(CheckId.PROOF, "presentation_not_signed")]
        return [skipped(CheckId.PROOF, "presentation_not_signed", "The holder did not sign."),
                skipped(CheckId.HOLDER_BINDING, "presentation_not_signed", "The holder did not sign.")]
    proofs = [p for p in as_list(presentation.get("proof")) if isinstance(p, dict)]
    for proof in proofs:
        if challenge is not None and proof.get("challenge") != challenge:
            return [reported(CheckId.PROOF, "challenge_mismatch")]
        if domain is not None and not all(d in as_list(proof.get("domain")) for d in as_list(domain)):
            return [reported(CheckId.PROOF, "domain_mismatch")]
    methods: dict[str, ResolvedMethod] = {}

    def resolve(vm: str) -> PublicKey:
        if vm not in methods:
            methods[vm] = resolve_verification_method(vm, fetcher)
        return methods[vm].public_key

    result = verify_proofs(presentation, resolve, expected_purpose="authentication", now=now)
    if result.first_error is not None or not result.verified:
        error = result.first_error or CredentialError("no proof verified", code="signature_mismatch")
        return [from_error(CheckId.PROOF, error)]
    return [passed(CheckId.PROOF, "The holder's signature matches the presentation."),
            _check_holder(presentation, methods, fetcher)]


def _check_holder(presentation: dict[str, Any], methods: dict[str, ResolvedMethod], fetcher: Fetcher) -> CheckResult:
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    for vm, method in methods.items():
        if holder is not None and method.controller != holder:
            return reported(CheckId.HOLDER_BINDING, "holder_mismatch",
                            f"signed by {method.controller}, not by the holder {str(holder)[:200]}")
        if not vm.startswith("did:"):
            continue
        did, _ = split_did_url(vm)
        try:
            allowed = _authentication_methods(did, fetcher)
        except CredentialError as exc:
            return from_error(CheckId.HOLDER_BINDING, exc)
        if vm not in allowed:
            return reported(CheckId.HOLDER_BINDING, "method_not_in_authentication",
                            f"{did} does not list {vm} under authentication")
    return passed(CheckId.HOLDER_BINDING, "Signed by the holder, with a key it uses for authentication.")


def _authentication_methods(did: str, fetcher: Fetcher) -> set[str]:
    document = resolve_did(did, fetcher)
    found = set()
    for entry in as_list(document.get("authentication")):
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(ref, str):
            found.add(did + ref if ref.startswith("#") else ref)
    return found
