"""STATUS: is the credential revoked or suspended (Bitstring Status List, StatusList2021, 1EdTech)?

:func:`verifier.status.check_status` does the work without I/O; this check gives it the
verification's fetcher and a way to verify a status list credential: with the same checks, one
level deeper, so that a list is trusted only when its signature, issuer binding, dates and its
own status check out. The status of a status list's status list is not followed
(``depth_limit``). With a ``memo`` (bulk issuance), a list credential that verified once is not
verified again.

A memo that carries a :class:`~verifier.checks.memo.ContentMemo` (the issuer's self-check's
:class:`RunMemo` for a bulk run, the verifier web app's status list memo) also spares work that
is the same for every credential, each piece keyed by the exact content it was derived from, so a
changed document is never answered from it: the parsed JSON of a fetched document by its exact
bytes, a status list's decoded bitstring by its exact ``encodedList``, and resolved keys by the
exact responses they were read from (:mod:`verifier.checks.signature`). Every check still runs
on every credential; only parsing and decoding are skipped. A plain dict gets none of this.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

from ..bitstring import decode_bitstring
from ..errors import CredentialError
from ..fetcher import parse_json_response
from ..registry import CheckId, Status
from ..report import CheckResult
from ..status import check_status as status_of_credential
from .base import StatusMemo, Verification, skipped
from .memo import ContentMemo, content_memo

__all__ = ["STATUS_ACCEPT", "RunMemo", "check_status", "run_memo"]

STATUS_ACCEPT = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8"

VerifyNested = Callable[[dict[str, Any], Verification], list[CheckResult]]


class RunMemo(dict[str, Any], ContentMemo):
    """A status memo for one run of verifications against the same documents (bulk issuance).

    As a dict it is the :class:`~verifier.checks.base.StatusMemo` (status list credential digest
    -> ``None`` or its error); as a :class:`~verifier.checks.memo.ContentMemo` it keeps parsed
    documents, decoded bitstrings and resolved keys by exact content (a run uses a handful).
    """

    def __init__(self) -> None:
        dict.__init__(self)
        ContentMemo.__init__(self)


def run_memo(memo: StatusMemo | None) -> ContentMemo | None:
    """The content memo ``memo`` carries, if any."""
    return content_memo(memo)


def _digest(document: object) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()


def check_status(credential: dict[str, Any], v: Verification, verify_nested: VerifyNested) -> CheckResult:
    """``verify_nested(document, child)`` runs the JSON-LD checks on a status list credential."""
    if v.depth > 1 and "credentialStatus" in credential:
        return skipped(CheckId.STATUS, "depth_limit")
    run = run_memo(v.memo)
    digests: dict[int, tuple[object, str]] = {}   # id(shared parsed document) -> (it, its digest)

    def fetch_json(url: str) -> object:
        if run is None:
            return v.fetcher.fetch_json(url, accept=STATUS_ACCEPT)
        response = v.fetcher.fetch(url, accept=STATUS_ACCEPT)
        found = run.parsed.get(response.body)
        if found is None:
            document: object = parse_json_response(response, url)
            found = (document, _digest(document) if isinstance(document, dict) else None)
            run.parsed.put(response.body, found)
        else:
            run.hit("parsed")
        document, digest = found
        if digest is not None:
            digests[id(document)] = (document, digest)
        return document

    def decode(encoded: object, multibase: bool) -> bytes:
        if run is None or not isinstance(encoded, str):
            return decode_bitstring(encoded, multibase=multibase)
        bits = run.bitstrings.get((encoded, multibase))
        if bits is None:
            bits = decode_bitstring(encoded, multibase=multibase)
            run.bitstrings.put((encoded, multibase), bits)
        else:
            run.hit("bitstrings")
        return bits

    def verify_list_credential(document: dict[str, Any]) -> None:
        key = None
        if v.memo is not None:
            shared = digests.get(id(document))
            key = shared[1] if shared is not None and shared[0] is document else _digest(document)
            if key in v.memo:
                remembered = v.memo[key]
                if remembered is not None:
                    raise remembered
                return
        # a document shared through the run memo is not handed to code that could change it
        results = verify_nested(copy.deepcopy(document) if run is not None else document, v.child())
        bad = [r for r in results if r.status in (Status.FAILED, Status.INDETERMINATE)]
        error = None
        if bad:
            error = CredentialError(f"the status list credential did not verify: {bad[0].message}",
                                    code=bad[0].reason or "status_list_untrusted")
        if key is not None and v.memo is not None:
            v.memo[key] = error
        if error is not None:
            raise error

    outcome = status_of_credential(credential, fetch_json=fetch_json, verify_list_credential=verify_list_credential,
                                   now=v.now, decode=decode)
    return CheckResult(CheckId.STATUS, outcome.status, outcome.message, outcome.reason, dict(outcome.details))
