"""STATUS: is the credential revoked or suspended (Bitstring Status List, StatusList2021, 1EdTech)?

:func:`verifier.status.check_status` does the work without I/O; this check gives it the
verification's fetcher and a way to verify a status list credential: with the same checks, one
level deeper, so that a list is trusted only when its signature, issuer binding, dates and its
own status check out. The status of a status list's status list is not followed
(``depth_limit``). With a ``memo`` (bulk issuance), a list credential that verified once is not
verified again.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from ..errors import CredentialError
from ..registry import CheckId, Status
from ..report import CheckResult
from ..status import check_status as status_of_credential
from .base import Verification, skipped

STATUS_ACCEPT = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8"

VerifyNested = Callable[[dict[str, Any], Verification], list[CheckResult]]


def check_status(credential: dict[str, Any], v: Verification, verify_nested: VerifyNested) -> CheckResult:
    """``verify_nested(document, child)`` runs the JSON-LD checks on a status list credential."""
    if v.depth > 1 and "credentialStatus" in credential:
        return skipped(CheckId.STATUS, "depth_limit")

    def fetch_json(url: str) -> object:
        return v.fetcher.fetch_json(url, accept=STATUS_ACCEPT)

    def verify_list_credential(document: dict[str, Any]) -> None:
        key = None
        if v.memo is not None:
            key = hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()
            if key in v.memo:
                remembered = v.memo[key]
                if remembered is not None:
                    raise remembered
                return
        results = verify_nested(document, v.child())
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
                                   now=v.now)
    return CheckResult(CheckId.STATUS, outcome.status, outcome.message, outcome.reason, dict(outcome.details))
