"""JSON-LD document -> RDFC-1.0 canonical N-Quads, the input every rdfc proof signs."""
from __future__ import annotations

import hashlib
import json

from .jsonld import JsonLdEngine, default_engine
from .limits import check_structure
from .rdfc import DEFAULT_LIMITS, CanonicalizationLimits, canonicalize_quads, dataset_quads


def canonicalize(document: dict, *, engine: JsonLdEngine | None = None,
                 limits: CanonicalizationLimits = DEFAULT_LIMITS) -> str:
    """Canonical N-Quads of ``document`` (safe-mode expansion, bundled contexts only)."""
    check_structure(document)
    engine = engine or default_engine()
    memo = engine.canonical_memo
    if memo is not None:
        key = (hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")).digest(),
               limits)
        if key in memo:
            return memo[key]
    nquads = canonicalize_quads(dataset_quads(engine.to_dataset(document)), limits)
    if memo is not None:
        memo[key] = nquads
    return nquads
