"""Strict JSON for documents fetched from the network.

Role: the one parser for JSON the verifier did not write (DID documents, keys, status lists,
credentials fetched by URL). Threat model: an attacker-controlled document may rely on
parser differences (duplicate members, NaN, a byte-order mark) to mean one thing to us and
another to other verifiers, or nest deeply to exhaust the stack; all of these are refused.
"""
from __future__ import annotations

import json
import re

__all__ = ["MAX_JSON_DEPTH", "strict_json_loads"]

MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _no_duplicates(pairs: list) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


def _json_depth_ok(text: str, limit: int) -> bool:
    """True if brackets outside strings nest at most ``limit`` deep (one linear scan)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return False
        elif token in "]}":
            depth -= 1
    return True


def strict_json_loads(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse UTF-8 JSON strictly; raise ``ValueError`` on anything ambiguous.

    Refused: invalid UTF-8, a byte-order mark, NaN / Infinity, duplicate object members,
    nesting deeper than ``max_depth``.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte-order mark before the JSON text")
    text = data.decode("utf-8")
    if not _json_depth_ok(text, max_depth):
        raise ValueError(f"JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError as exc:  # pragma: no cover - the depth scan prevents it
        raise ValueError("JSON nests too deeply") from exc
