"""Numbers that every verifier reads the same way.

A credential is read by verifiers in many languages, most of them JavaScript.
Two kinds of JSON number do not survive that trip, so microcred never signs them:

* integers beyond +/-(2**53 - 1): JavaScript's ``JSON.parse`` rounds them, so a JS
  verifier checks a different number than the one signed (RFC 8785 / I-JSON also
  forbid them);
* fractions that JavaScript prints without a decimal point (``1e-7``, ``5e-324``):
  jsonld.js then treats them as integers and canonicalizes them to ``"0"``, unlike
  the JSON-LD specification, so RDF proofs over them fail in JS verifiers.

Write such values as strings (e.g. ``"1e-7"``) or with more digits (``1.5e-7``).
"""
from __future__ import annotations

from typing import Any

from verifier.errors import CredentialError

MAX_SAFE_INTEGER = 2**53 - 1


class UnportableNumberError(CredentialError):
    code = "unportable_number"


def number_problem(value: int | float) -> str | None:
    """Why JavaScript verifiers would misread ``value``, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            return "is too large for JavaScript verifiers, which would read a different number"
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return "is not a finite number"
    if not value.is_integer() and "." not in repr(value):
        return "is read as an integer by jsonld.js, so JavaScript verifiers would reject the proof"
    if value.is_integer() and abs(value) > MAX_SAFE_INTEGER and abs(value) < 1e21:
        return "is too large for JavaScript verifiers, which would read a different number"
    return None


def check_portable_numbers(document: object, path: str = "") -> None:
    """Raise UnportableNumberError naming the first number JS verifiers would misread.

    Walks the document iteratively (values only: strings and containers are passed over) and
    writes the JSON Pointer of a number only when it is refused."""
    stack: list[tuple[object, object]] = [(document, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            _check_number(value, where)
            continue
        found = [(child, (where, key)) for key, child in items
                 if isinstance(child, (dict, list)) or (isinstance(child, (int, float)) and number_problem(child))]
        stack.extend(reversed(found))  # popped in document order: the first problem is the one named


def _check_number(value: object, where: object) -> None:
    if isinstance(value, (int, float)):
        problem = number_problem(value)
        if problem:
            pointer = _pointer(where) or "/"
            raise UnportableNumberError(
                f"the number {value!r} at {pointer} {problem}; write it as a string "
                "or with a decimal point", details={"path": pointer, "value": repr(value)})


def _pointer(where: object) -> str:
    parts: list[str] = []
    while isinstance(where, tuple):
        where, key = where
        parts.append(f"/{key}")
    return str(where) + "".join(reversed(parts))
