"""JSON-LD document -> RDFC-1.0 canonical N-Quads, the input every rdfc proof signs."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .budget import Deadline, effective_deadline
from .jsonld import JsonLdEngine, default_engine
from .limits import check_jsonld_limits
from .rdfc import (
    DEFAULT_LIMITS,
    CanonicalizationLimits,
    canonicalize_quads,
    dataset_quads,
)


def canonicalize(document: dict[str, Any], *, engine: JsonLdEngine | None = None,
                 limits: CanonicalizationLimits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> str:
    """Canonical N-Quads of ``document`` (safe-mode expansion, bundled contexts only).

    Args:
        document: the JSON-LD document (not modified).
        engine: the JSON-LD engine (default: the shared one over the bundled contexts).
        limits: RDFC-1.0 statement and work limits.
        deadline: one budget for expansion, RDF conversion and canonicalization; default
            the :func:`~verifier.budget.deadline_scope`'s, else a fresh ``limits.max_seconds``.

    Raises:
        CredentialError: ``too_complex`` (a cap of :mod:`verifier.limits`),
            ``canonicalization_limit`` (work or time), or a JSON-LD error.
    """
    engine = engine or default_engine()
    deadline = effective_deadline(deadline, limits.max_seconds)
    memo = engine.canonical_memo
    if memo is not None:
        check_jsonld_limits(document, engine.limits)  # before hashing; the engine checks again otherwise
        key = (hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")).digest(),
               limits)
        hit = memo.get(key)
        if hit is not None:
            return hit
    nquads = canonicalize_quads(dataset_quads(engine.to_dataset(document, deadline=deadline)), limits,
                                deadline=deadline)
    if memo is not None:
        memo.put(key, nquads)
    return nquads
