"""Strict JSON for credentials: one parser, one rule set, for every input path.

The bytes are parsed by :func:`verifier.net.strict_json.strict_json_loads` (no NaN/Infinity,
no duplicate members, no byte-order mark, bounded depth); a credential must then be a JSON
object. :func:`find_lone_surrogate` refuses strings that cannot be encoded as UTF-8 (a lone
``\\ud800`` is valid JSON text but no valid Unicode string), which would otherwise crash the
first code that encodes them (JCS, canonicalization, a web page).
"""
from __future__ import annotations

from typing import Any

from .errors import CredentialError
from .net.strict_json import strict_json_loads

MAX_JSON_BYTES = 2 * 1024 * 1024


def parse_json_object(raw: bytes, *, what: str = "credential") -> dict[str, Any]:
    """Parse ``raw`` as one JSON object; raises :class:`CredentialError` (``not_json``,
    ``too_large``, ``too_complex``, ``not_a_credential``)."""
    if len(raw) > MAX_JSON_BYTES:
        raise CredentialError("the JSON is larger than 2 MiB", code="too_large")
    try:
        value = strict_json_loads(raw)
    except UnicodeDecodeError as exc:
        raise CredentialError("the input is not UTF-8 text", code="not_json") from exc
    except ValueError as exc:
        code = "too_complex" if "deep" in str(exc) else "not_json"
        raise CredentialError(f"not JSON, a JWT or a badge image: {exc}", code=code) from exc
    if not isinstance(value, dict):
        raise CredentialError(f"the JSON is not an object, so it is not a {what}", code="not_a_credential")
    surrogate = find_lone_surrogate(value)
    if surrogate is not None:
        raise CredentialError(f"the text at {surrogate} holds a lone surrogate (not valid Unicode)",
                              code="not_json")
    return value


def find_lone_surrogate(value: Any, path: str = "$") -> str | None:
    """The JSONPath of the first string or key that is not valid Unicode, or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return here
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and not _encodable(key):
                    return f"{here}.<key>"
                stack.append((f"{here}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{here}[{i}]", child) for i, child in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_copy(value: Any) -> Any:
    """A deep copy of parsed JSON (dicts, lists and immutable scalars), several times faster than
    :func:`copy.deepcopy`, which must track shared and cyclic objects JSON cannot hold."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value
