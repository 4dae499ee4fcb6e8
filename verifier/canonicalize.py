"""JSON-LD document -> RDFC-1.0 canonical N-Quads, the input every rdfc proof signs.

Two paths give the same N-Quads: the table-driven walk of :mod:`verifier.rdf_walk` for
documents in compacted form under the contexts the engine serves (every credential microcred
issues, nearly every one it verifies), and pyld's general expansion and RDF conversion
(:mod:`verifier.jsonld`) for everything else. The walk gives up (``NotCovered``) rather than
guess, and the general path then gives the result or the error it always gave. Differential
tests hold the two (and jsonld.js) byte-identical.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .budget import Deadline, effective_deadline
from .jsonld import JsonLdEngine, default_engine
from .limits import check_jsonld_limits
from .rdf_walk import NotCovered, fast_quads
from .rdfc import (
    DEFAULT_LIMITS,
    CanonicalizationLimits,
    canonicalize_quads,
    dataset_quads,
)
from .rdfc_serialized import canonicalize_serialized


def canonicalize(document: dict[str, Any], *, engine: JsonLdEngine | None = None,
                 limits: CanonicalizationLimits = DEFAULT_LIMITS, deadline: Deadline | None = None,
                 fast: bool = True) -> str:
    """Canonical N-Quads of ``document`` (safe-mode expansion, bundled contexts only).

    Args:
        document: the JSON-LD document (not modified).
        engine: the JSON-LD engine (default: the shared one over the bundled contexts).
        limits: RDFC-1.0 statement and work limits.
        deadline: one budget for expansion, RDF conversion and canonicalization; default
            the :func:`~verifier.budget.deadline_scope`'s, else a fresh ``limits.max_seconds``.
        fast: take the table-driven walk where it covers the document (False: always the
            general pyld path, for baselines and differential tests).

    Raises:
        CredentialError: ``too_complex`` (a cap of :mod:`verifier.limits`),
            ``canonicalization_limit`` (work or time), or a JSON-LD error.
    """
    engine = engine or default_engine()
    deadline = effective_deadline(deadline, limits.max_seconds)
    if fast:
        try:
            quads = fast_quads(document, engine, deadline=deadline)
        except NotCovered:
            pass  # the general path below checks the caps in full and gives the result or the error
        else:
            return canonicalize_serialized(quads, limits, deadline=deadline)
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
