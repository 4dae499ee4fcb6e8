"""Structural limits on untrusted JSON, checked before any JSON-LD work.

A credential is a few hundred values nested a few levels deep. Documents far
beyond that (100,000-element arrays, 10,000-deep nesting) are refused up front
with a clear error instead of exhausting the stack or the CPU later.
"""
from __future__ import annotations

from .errors import CredentialError

MAX_DEPTH = 64
MAX_VALUES = 100_000


class DocumentTooComplexError(CredentialError):
    code = "too_complex"


def check_structure(document: object, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
    """Raise DocumentTooComplexError if ``document`` nests deeper or holds more values than allowed."""
    stack = [(document, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > max_values:
            raise DocumentTooComplexError(f"the document holds more than {max_values} values")
        if depth > max_depth:
            raise DocumentTooComplexError(f"the document is nested more than {max_depth} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
