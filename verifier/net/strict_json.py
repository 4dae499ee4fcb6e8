"""Strict JSON for documents fetched from the network.

Role: the one parser for JSON the verifier did not write (DID documents, keys, status lists,
credentials fetched by URL). Threat model: an attacker-controlled document may rely on
parser differences (duplicate members, NaN, a byte-order mark) to mean one thing to us and
another to other verifiers, or nest deeply to exhaust the stack; all of these are refused. So
is a lone surrogate (``"\\ud800"`` without its pair): valid JSON text, but not Unicode text,
which would crash the first code that encodes it (canonicalization, a report, a web page).
"""
from __future__ import annotations

import json
import re
from typing import Any, NoReturn

__all__ = ["MAX_JSON_DEPTH", "strict_json_loads"]

MAX_JSON_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # a member named twice: say which
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member {key!r}")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {name}")


def _depth_ok(text: str, value: object, limit: int) -> bool:
    """True if the parsed ``value`` (of ``text``) nests arrays and objects at most ``limit`` deep."""
    if text.count("[") + text.count("{") <= limit:  # not even that many brackets (strings' included)
        return True
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return True


def strict_json_loads(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse UTF-8 JSON strictly; raise ``ValueError`` on anything ambiguous.

    Refused: invalid UTF-8, a byte-order mark, NaN / Infinity, duplicate object members,
    nesting deeper than ``max_depth``, a lone surrogate in a string or member name.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte-order mark before the JSON text")
    text = data.decode("utf-8")
    # Nesting is measured on the parsed value: the C parser guards its own recursion (a
    # RecursionError, some hundreds of levels down, long before the stack is at risk), and a
    # scan of the text before parsing cost five times the parse.
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"JSON nests deeper than {max_depth} levels") from None
    if not _depth_ok(text, value, max_depth):
        raise ValueError(f"JSON nests deeper than {max_depth} levels")
    # UTF-8 input cannot hold a surrogate, so only a \uD800-\uDFFF escape can make one
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff without its pair): not Unicode text")
    return value


def _holds_lone_surrogate(value: object) -> bool:
    """Whether a parsed value has a surrogate code point left (escaped pairs were joined)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
