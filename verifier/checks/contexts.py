"""CONTEXTS: every vocabulary is bundled, and the credential has one reading.

VC Data Model 2.0 §4.3 (type-specific processing): the ``@context`` URLs must be ones this
verifier ships (nothing is downloaded, so a context cannot change under a credential), and
:mod:`verifier.reading` must find every key a plain term, so that what the JSON checks read is
what the signature covers.
"""
from __future__ import annotations

from typing import Any

from ..limits import Survey
from ..reading import ReadingError, check_single_reading
from ..registry import CheckId
from ..report import CheckResult
from .base import Verification, as_list, from_error, passed, reported


def check_contexts(credential: dict[str, Any], v: Verification, survey: Survey | None = None) -> CheckResult:
    """``survey``: what the PARSE walk noticed (the objects the one-reading check looks at)."""
    contexts = as_list(credential.get("@context"))
    unknown = [c for c in contexts if isinstance(c, str) and not v.engine.loader.knows(c)]
    if unknown:
        return reported(CheckId.CONTEXTS, "unknown_context", f"not bundled: {', '.join(u[:200] for u in unknown)}",
                        urls=unknown)
    try:
        check_single_reading(credential, objects=survey.objects if survey is not None else None)
    except ReadingError as exc:
        return from_error(CheckId.CONTEXTS, exc)
    return passed(CheckId.CONTEXTS, "Everything the badge says is written in terms this checker knows, so nothing "
                  "is hidden from the checks.", contexts=[c for c in contexts if isinstance(c, str)])
