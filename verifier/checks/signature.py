"""KEY, ISSUER_BINDING and PROOF for Data Integrity proofs (VC Data Integrity 1.0 §4.4-4.5).

The keys of the proofs this verifier understands are resolved (KEY); each key is checked
against the issuer (ISSUER_BINDING: the controller is the issuer and lists the key for issuing,
:func:`verifier.key_resolution.check_issuer_binding`); then every proof is verified (PROOF,
:func:`verifier.proofs.verify_proofs`, with the proofs' own ``created``/``expires``). Proofs of
unknown types are noted and ignored when at least one understood proof verifies and none fails;
the credential counts as the issuer's only when a verified proof was made with an
issuer-controlled key (security.md A.8: a valid attacker proof next to anything of the issuer's
proves nothing). A key taken from a document the user supplied is said so.

With a memo that carries a :class:`~verifier.checks.memo.ContentMemo` (bulk issuance's
self-check, the verifier web app), a resolved key is remembered with every fetch its resolution
made (URL, accept, size cap, and the exact response or failure code); it is reused only when the
same fetches give the same responses now (a local document's lookup or a cached response costs
little), so a changed DID document is resolved afresh. Failed resolutions are not remembered.
The issuer binding is checked on every credential.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from ..did import did_web_url
from ..errors import CredentialError
from ..fetcher import Documents, Fetcher, FetchError, FetchPolicy, FetchResponse, parse_json_response
from ..key_resolution import ResolvedMethod, check_issuer_binding, resolve_verification_method
from ..proofs import is_supported, verify_proofs
from ..proofs.data_integrity import VERIFIED
from ..registry import CheckId, Status
from ..report import CheckResult
from .base import MAX_PROOFS, Verification, as_list, from_error, issuer_id, passed, reported, skipped
from .memo import ContentMemo
from .status import run_memo


def supplied_by_user(method_id: str, supplied: frozenset[str]) -> bool:
    """Whether the document behind ``method_id`` is one the user supplied (``--resolve``)."""
    if not supplied:
        return False
    base = method_id.split("#", 1)[0]
    candidates = {base}
    if base.startswith("did:web:"):
        with contextlib.suppress(CredentialError):
            candidates.add(did_web_url(base))
    return bool(candidates & supplied)


@dataclass
class _Keys:
    resolved: dict[str, ResolvedMethod]
    bound: dict[str, CredentialError | None]   # method id -> None if bound, else why not


def check_data_integrity(credential: dict[str, Any], v: Verification) -> None:
    """Add the KEY, ISSUER_BINDING and PROOF results of ``credential``'s proofs to ``v``."""
    keys = _check_keys(credential, v)
    if keys is None:
        return
    _check_proofs(credential, keys, v)


def _check_keys(credential: dict[str, Any], v: Verification) -> _Keys | None:
    if "proof" not in credential:
        _blocked(v, reported(CheckId.KEY, "no_proof"))
        return None
    proofs = as_list(credential.get("proof"))
    if not proofs or len(proofs) > MAX_PROOFS or not all(isinstance(p, dict) for p in proofs):
        _blocked(v, reported(CheckId.KEY, "malformed_proof", f"expected 1 to {MAX_PROOFS} proof objects"))
        return None
    understood = [p for p in proofs if is_supported(p)]
    if not understood:
        v.add(skipped(CheckId.KEY, "unsupported_cryptosuite"))
        v.add(skipped(CheckId.ISSUER_BINDING, "unsupported_cryptosuite"))
        v.add(reported(CheckId.PROOF, "unsupported_cryptosuite",
                       "no proof is of a type this verifier understands",
                       types=[str(p.get("cryptosuite") or p.get("type"))[:100] for p in proofs]))
        return None
    resolved: dict[str, ResolvedMethod] = {}
    for proof in understood:
        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or not vm:
            _blocked(v, reported(CheckId.KEY, "malformed_proof", "a proof has no verificationMethod"))
            return None
        if vm not in resolved:
            try:
                resolved[vm] = _resolve(vm, v)
            except CredentialError as exc:
                _blocked(v, from_error(CheckId.KEY, exc))
                return None
    supplied = [vm for vm in resolved if supplied_by_user(vm, v.supplied)]
    message = f"Found the issuer's signing key{'s' if len(resolved) > 1 else ''}"
    message += " (taken from a file you supplied)." if supplied else "."
    v.add(passed(CheckId.KEY, message, methods={vm: m.source for vm, m in resolved.items()},
                 supplied_by_user=supplied))
    issuer = issuer_id(credential)
    bound: dict[str, CredentialError | None] = {}
    for vm, method in resolved.items():
        try:
            if not issuer:
                raise CredentialError("The credential names no issuer.", code="no_issuer")
            check_issuer_binding(method, issuer, v.fetcher)
            bound[vm] = None
        except CredentialError as exc:
            bound[vm] = exc
    return _Keys(resolved, bound)


#: one fetch a key resolution made: (url, accept, max_bytes, the response or the FetchError code)
_Read = tuple[str, str, int | None, FetchResponse | str]


class _RecordingFetcher:
    """Passes fetches on to ``fetcher`` and records each one and its outcome, in order."""

    def __init__(self, fetcher: Fetcher, reads: list[_Read] | None = None) -> None:
        self._fetcher = fetcher
        self.reads: list[_Read] = [] if reads is None else reads

    @property
    def policy(self) -> FetchPolicy:
        return self._fetcher.policy

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        try:
            response = self._fetcher.fetch(url, accept=accept, max_bytes=max_bytes)
        except FetchError as exc:
            self.reads.append((url, accept, max_bytes, exc.code))
            raise
        self.reads.append((url, accept, max_bytes, response))
        return response

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> object:
        return parse_json_response(self.fetch(url, accept=accept, max_bytes=max_bytes), url)

    def for_verification(self, *, documents: Documents | None = None, offline: bool = False) -> Fetcher:
        # recorded too (into the same list): a replay through the verification's own fetcher
        # then only matches if it gives the very same responses
        return _RecordingFetcher(self._fetcher.for_verification(documents=documents, offline=offline), self.reads)


def _same_reads(reads: tuple[_Read, ...], fetcher: Fetcher) -> bool:
    """Whether every fetch in ``reads`` gives the same response (or failure) again."""
    for url, accept, max_bytes, outcome in reads:
        try:
            now: FetchResponse | str = fetcher.fetch(url, accept=accept, max_bytes=max_bytes)
        except FetchError as exc:
            now = exc.code
        if now != outcome:
            return False
    return True


def _resolve(vm: str, v: Verification) -> ResolvedMethod:
    """:func:`resolve_verification_method`, remembered in a :class:`ContentMemo` by exact inputs."""
    run = run_memo(v.memo)
    if run is None:
        return resolve_verification_method(vm, v.fetcher)
    known = run.methods.get((vm, v.fetcher.policy)) or ()
    for reads, method in known:
        if _same_reads(reads, v.fetcher):
            run.hit("methods")
            assert isinstance(method, ResolvedMethod)  # noqa: S101 - only resolved methods are stored
            return method
    recorder = _RecordingFetcher(v.fetcher)
    method = resolve_verification_method(vm, recorder)
    _remember(run, (vm, v.fetcher.policy), tuple(recorder.reads), method)
    return method


def _remember(run: ContentMemo, key: tuple[str, FetchPolicy], reads: tuple[_Read, ...],
              method: ResolvedMethod) -> None:
    known = run.methods.get(key) or ()
    run.methods.put(key, (*known[-3:], (reads, method)))  # a few versions of the documents per method


def _blocked(v: Verification, key_result: CheckResult) -> None:
    v.add(key_result)
    for check in (CheckId.ISSUER_BINDING, CheckId.PROOF):
        v.add(skipped(check, "blocked_by_key"))


def _check_proofs(credential: dict[str, Any], keys: _Keys, v: Verification) -> None:
    result = verify_proofs(credential, lambda vm: keys.resolved[vm].public_key, engine=v.engine, now=v.now)
    verified = [r for r in result.results if r.status == VERIFIED]
    ignored = [str(r.proof.get("cryptosuite") or r.proof.get("type"))[:100] for r in result.results if r.unsupported]
    error = result.first_error
    # The issuer must control a key that made a verified proof; before any proof verifies, the
    # question is whether the issuer controls the keys at all.
    candidates = [r.verification_method for r in verified if r.verification_method] or list(keys.bound)
    bound = [m for m in candidates if keys.bound.get(m, False) is None]
    issuer = issuer_id(credential) or ""
    if bound:
        v.add(passed(CheckId.ISSUER_BINDING, "Signed with a key the issuer controls and uses for issuing badges.",
                     methods=bound, issuer=issuer[:200]))
    else:
        why = next((keys.bound[m] for m in candidates if keys.bound.get(m) is not None), None)
        v.add(from_error(CheckId.ISSUER_BINDING, why) if why is not None
              else reported(CheckId.ISSUER_BINDING, "key_not_controlled_by_issuer", "no key of the issuer"))
    if error is not None:
        v.add(from_error(CheckId.PROOF, error))
        return
    suites = [str(r.proof.get("cryptosuite") or r.proof.get("type")) for r in verified]
    plural = len(suites) > 1
    v.add(CheckResult(CheckId.PROOF, Status.PASSED,
                      f"The signature{'s' if plural else ''} match{'' if plural else 'es'} the badge: nothing "
                      "was changed after signing.", None, {"cryptosuites": suites, "ignored_proofs": ignored}))
