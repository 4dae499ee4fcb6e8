"""RECIPIENT: was the credential issued to the person the recruiter names (OB 3.0 IdentityObject)?"""
from __future__ import annotations

from typing import Any

from ..recipient import recipient_matches
from ..registry import CheckId
from ..report import CheckResult
from .base import Verification, passed, reported, skipped


def check_recipient(credential: dict[str, Any], v: Verification) -> CheckResult:
    if not v.recipient:
        return skipped(CheckId.RECIPIENT, "no_recipient_given")
    match = recipient_matches(credential, v.recipient)
    if match is None:
        return reported(CheckId.RECIPIENT, "no_recipient_to_compare")
    if match:
        return passed(CheckId.RECIPIENT, "Issued to the person you named.")
    return reported(CheckId.RECIPIENT, "recipient_mismatch")
