"""RELATED_RESOURCES: files the credential links with digests are unchanged (VC 2.0 §5.3).

Bundled contexts are compared without any fetch; other resources are fetched within the
verification's budget. A wrong digest or a malformed entry fails; a resource that could not be
obtained, or a digest algorithm not supported, is noted and does not fail.
"""
from __future__ import annotations

from typing import Any

from ..registry import CheckId
from ..related_resource import check_related_resources as findings_for
from ..report import CheckResult
from .base import Verification, passed, reported, skipped

ACCEPT = "*/*"
MAX_RESOURCE_BYTES = 2 * 1024 * 1024


def check_related_resources(credential: dict[str, Any], v: Verification) -> CheckResult:
    def fetch_bytes(url: str) -> bytes:
        return v.fetcher.fetch(url, accept=ACCEPT, max_bytes=MAX_RESOURCE_BYTES).body

    findings = findings_for(credential, fetch_bytes)
    if not findings:
        return skipped(CheckId.RELATED_RESOURCES, "no_related_resources")
    listed = [{"id": f.id, "status": f.status, "reason": f.reason, "message": f.message} for f in findings]
    failed = [f for f in findings if f.failed]
    if failed:
        return reported(CheckId.RELATED_RESOURCES, failed[0].reason or "related_resource_digest_mismatch",
                        failed[0].message, resources=listed)
    checked = [f for f in findings if f.reason is None]
    if not checked:
        return skipped(CheckId.RELATED_RESOURCES, findings[0].reason or "related_resource_unavailable",
                       resources=listed)
    return passed(CheckId.RELATED_RESOURCES, f"{len(checked)} linked file{'s' if len(checked) > 1 else ''} "
                  "unchanged since the badge was signed.", resources=listed)

