"""CONFORMANCE: does the credential follow the Open Badges 3.0 data model in every detail?

A recruiter's question is whether a badge is genuine, unchanged, current and whose. Real
credentials from other issuing systems deviate from the 1EdTech JSON Schema in harmless ways
(the learner's ``name`` in ``credentialSubject``, an issuer ``image`` given as a URL string, no
subject identifier in a VC 1.1 credential), so deviations are a ``warning`` listing each one in
plain words; the outcome stays verified. With ``Options.strict`` (``--strict``, the API's
``strict`` flag, the issuer's own self-check) a warning fails the credential. The W3C examples
vocabulary is a warning too: it is for specifications and tests, not for real credentials.
"""
from __future__ import annotations

from typing import Any

from ..limits import Survey
from ..registry import CheckId, Status
from ..report import CheckResult
from ..schema import validate_credential
from ..vocabulary_notes import contexts_use_examples
from .base import OB_TYPES, Verification, as_list, reported, skipped, types_of

MAX_LISTED = 20


def check_conformance(credential: dict[str, Any], v: Verification, survey: Survey) -> CheckResult:
    """``survey``: what the PARSE walk noticed (the contexts used, wherever they are)."""
    deviations: list[dict[str, str]] = []
    reason = None
    if any(t in OB_TYPES for t in types_of(credential)):
        violations = validate_credential(credential)
        deviations += [{"path": x.path, "message": x.message} for x in violations[:MAX_LISTED]]
        subjects = as_list(credential.get("credentialSubject"))
        if not all(isinstance(s, dict) and (s.get("id") or s.get("identifier")) for s in subjects):
            deviations.append({"path": "credentialSubject", "message": "no subject id or identifier"})
            reason = reason or "no_subject_identifier"
        reason = "schema_violation" if violations else reason
    if contexts_use_examples(survey.context_values):
        deviations.append({"path": "@context", "message": "uses the W3C examples vocabulary"})
        reason = reason or "examples_vocabulary"
    if not deviations:
        if not any(t in OB_TYPES for t in types_of(credential)):
            return skipped(CheckId.CONFORMANCE, "not_open_badge")
        return CheckResult(CheckId.CONFORMANCE, Status.PASSED, "Follows the Open Badges 3.0 standard.")
    status = Status.FAILED if v.options.strict else Status.WARNING
    first = deviations[0]
    return reported(CheckId.CONFORMANCE, reason or "schema_violation", f"{first['path']}: {first['message']}",
                    status=status, deviations=deviations)
