"""VALIDITY: is the credential current (VC Data Model 2.0 §4.9, 1.1 §7.x issuance/expiration)?"""
from __future__ import annotations

from typing import Any

from ..registry import CheckId
from ..report import CheckResult
from ..validity import ValidityError
from ..validity import check_validity as validity_state
from .base import Verification, from_error, passed, reported


def check_validity(credential: dict[str, Any], v: Verification) -> CheckResult:
    try:
        reason, message = validity_state(credential, v.now)
    except ValidityError as exc:
        return from_error(CheckId.VALIDITY, exc)
    if reason:
        return reported(CheckId.VALIDITY, reason, message)
    return passed(CheckId.VALIDITY, message)
