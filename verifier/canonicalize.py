"""JSON-LD document -> RDFC-1.0 canonical N-Quads, the input every rdfc proof signs."""
from __future__ import annotations

from .jsonld import JsonLdEngine, default_engine
from .limits import check_structure
from .rdfc import DEFAULT_LIMITS, CanonicalizationLimits, canonicalize_quads, dataset_quads


def canonicalize(document: dict, *, engine: JsonLdEngine | None = None,
                 limits: CanonicalizationLimits = DEFAULT_LIMITS) -> str:
    """Canonical N-Quads of ``document`` (safe-mode expansion, bundled contexts only)."""
    check_structure(document)
    dataset = (engine or default_engine()).to_dataset(document)
    return canonicalize_quads(dataset_quads(dataset), limits)
