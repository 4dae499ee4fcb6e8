"""ENDORSEMENTS: each embedded endorsement (OB 3.0 ``endorsement`` / ``endorsementJwt``) gets its
own verdict, shown with the credential.

An endorsement is a credential of its own, verified by the same verifier one level deeper (its
own endorsements are not followed). Whether a third party vouches for the achievement does not
change whether the credential is genuine: an expired or unverifiable endorsement is a warning
on that endorsement, and fails the credential only in strict mode. Endorsements are collected
wherever they are attached (the credential, its issuer, the achievement, any node): where they
sit in the JSON does not change what is signed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..limits import Survey
from ..registry import CheckId, Status
from ..report import CheckResult, VerificationReport
from .base import MAX_ENDORSEMENTS, Verification, passed, reported, skipped

VerifySource = Callable[[Any, Verification], VerificationReport]


def embedded_endorsements(credential: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    stack: list[Any] = [credential]
    push = stack.append
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            for item in reversed(value):
                if isinstance(item, (dict, list)):
                    push(item)
        elif isinstance(value, dict):
            for key, child in value.items():
                if key == "endorsement" or key == "endorsementJwt":
                    found.extend(child if isinstance(child, list) else [child])
                elif isinstance(child, (dict, list)) and key != "proof" and key != "@context":
                    push(child)
    return found


def check_endorsements(credential: dict[str, Any], v: Verification, verify_source: VerifySource,
                       survey: Survey) -> CheckResult:
    """``survey``: what the PARSE walk noticed (the endorsements are collected only when some key
    names one)."""
    endorsements = embedded_endorsements(credential) if survey.endorsement_keys else []
    if not endorsements:
        return skipped(CheckId.ENDORSEMENTS, "no_endorsements")
    if v.depth > 0:
        return skipped(CheckId.ENDORSEMENTS, "depth_limit")
    problem = Status.FAILED if v.options.strict else Status.WARNING
    if len(endorsements) > MAX_ENDORSEMENTS:
        return reported(CheckId.ENDORSEMENTS, "too_many_endorsements", f"{len(endorsements)} attached",
                        status=problem)
    verdicts: list[dict[str, Any]] = []
    for endorsement in endorsements:
        source = endorsement if isinstance(endorsement, (dict, str)) else ""
        report = verify_source(source, v.child())
        verdicts.append({"issuer": (report.summary.get("issuer") or {}).get("id"),
                         "proven": (report.summary.get("issuer") or {}).get("proven"),
                         "name": report.summary.get("name"), "outcome": report.outcome,
                         "headline": report.headline, "checks": [c.to_dict() for c in report.checks]})
    bad = [e for e in verdicts if e["outcome"] != "verified"]
    if bad:
        return reported(CheckId.ENDORSEMENTS, "endorsement_invalid", bad[0]["headline"], status=problem,
                        endorsements=verdicts)
    return passed(CheckId.ENDORSEMENTS, f"{len(verdicts)} endorsement{'s' if len(verdicts) > 1 else ''} verified.",
                  endorsements=verdicts)
