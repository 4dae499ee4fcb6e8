"""Explaining JSON Schema failures: plain-language :class:`SchemaViolation` s with JSON-pointer paths.

jsonschema reports what failed in the schema's terms (``anyOf``, ``required``, ``pattern``...)
and, for a ``oneOf``/``anyOf``, about every alternative. :func:`explain` keeps the alternative
the value was most likely meant to be (the one whose basic shape it has, that got furthest) and
says each problem once, in words: "required property 'name' is missing", "must be a string, not
42", "properties not allowed here: 'foo'".
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: jsonschema is imported when a credential fails the fast check
    from jsonschema.exceptions import ValidationError


@dataclass(frozen=True)
class SchemaViolation:
    path: str      # JSON pointer-ish path, e.g. "/credentialSubject/achievement/name"
    message: str   # plain language

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


def explain(errors: Iterable[ValidationError]) -> list[SchemaViolation]:
    """One violation per specific problem behind ``errors``, each once, sorted by path."""
    violations: list[SchemaViolation] = []
    for error in errors:
        for leaf in _leaves(error):
            violation = _describe(leaf)
            if violation not in violations:
                violations.append(violation)
    # "must not be empty" already says that an empty type array lacks the class name
    empty = {v.path for v in violations if v.message == _EMPTY}
    violations = [v for v in violations if not (v.path in empty and v.message.startswith("must include"))]
    violations.sort(key=lambda v: v.path)
    return violations


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _is_mismatch(error: ValidationError) -> bool:
    """Does this error say the value is of another kind than the branch expects?"""
    if error.relative_path:
        return False
    if error.validator == "type" or "propertyNames" in error.relative_schema_path:
        # wrong JSON type, or an object read as a language map (its keys are not
        # language tags): the value was not meant to be this alternative
        return True
    if error.validator in ("oneOf", "anyOf") and error.context:
        return all(_branch_mismatch(branch) for branch in _branches(error).values())
    return False


def _branch_mismatch(errors: list[ValidationError]) -> bool:
    return any(_is_mismatch(e) for e in errors)


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)  # the alternative's index
    return branches


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The specific errors behind ``error``.

    For oneOf/anyOf, keep only the alternative the value was most likely meant to
    be (the one whose basic shape it has, that got furthest): an issuer object with
    no "type" is reported as a Profile missing "type", not also as "not a string".
    """
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = _branches(error)

        def score(item: tuple[int, list[ValidationError]]) -> tuple[bool, int, int, int]:
            index, errs = item
            depth = max(len(e.relative_path) for e in errs)
            return (_branch_mismatch(errs), -depth, len(errs), index)

        _, chosen = min(branches.items(), key=score)
        if _branch_mismatch(chosen):
            yield error  # nothing fits even in shape: report the combinator itself
            return
        for sub in chosen:
            yield from _leaves(sub)
        return
    yield error


_JSON_TYPE_NAMES = {
    "string": "a string", "object": "an object", "array": "an array", "number": "a number",
    "integer": "an integer", "boolean": "true or false", "null": "null",
}
_EMPTY = "must not be empty"
_FORMAT_HINTS = {
    "date-time": "a date-time (RFC 3339, e.g. 2024-05-01T12:00:00Z)",
    "date": "a date (YYYY-MM-DD)",
    "uri": "an absolute URI (e.g. https://… or urn:uuid:…)",
}


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected_types(error: ValidationError) -> list[str]:
    """The JSON types the alternatives of a failed oneOf/anyOf asked for."""
    found: list[str] = []
    for sub in error.context:
        if sub.relative_path:
            continue
        if sub.validator == "type":
            value: Any = sub.validator_value
            wanted = value if isinstance(value, list) else [value]
        elif sub.validator in ("oneOf", "anyOf"):
            wanted = _expected_types(sub)
        else:
            wanted = []
        found.extend(t for t in wanted if t not in found)
    return found


def _describe(error: ValidationError) -> SchemaViolation:
    path = list(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    if kind == "required":
        missing = next((p for p in value if f"{p!r} is a required property" == error.message), None)
        if missing is None:
            missing = next((p for p in value if isinstance(error.instance, dict) and p not in error.instance), "?")
        return SchemaViolation(_pointer(path + [missing]), f"required property '{missing}' is missing")
    if kind == "type":
        wanted: list[str] = value if isinstance(value, list) else [value]
        language_map = "object" in wanted and isinstance(error.schema, dict) and "propertyNames" in error.schema
        names = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in wanted if not (language_map and t == "object"))
        if language_map:
            names += " (or a JSON-LD language map)"
        return SchemaViolation(_pointer(path), f"must be {names}, not {_short(error.instance)}")
    if kind == "format":
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} is not {_FORMAT_HINTS.get(value, value)}")
    if kind == "contains":
        included = value.get("const", value.get("enum")) if isinstance(value, dict) else value
        expected = " or ".join(f"'{w}'" for w in included) if isinstance(included, list) else f"'{included}'"
        return SchemaViolation(_pointer(path), f"must include {expected}")
    if kind == "minItems":
        if value == 1:
            return SchemaViolation(_pointer(path), _EMPTY)
        return SchemaViolation(_pointer(path), f"must have at least {value} items")
    if kind == "const":
        return SchemaViolation(_pointer(path), f"must be {_short(value)}, not {_short(error.instance)}")
    if kind == "enum":
        allowed = ", ".join(_short(v, 40) for v in value[:8]) + (", …" if len(value) > 8 else "")
        siblings = error.parent.context if error.parent is not None else []
        if any(e.validator == "pattern" and str(e.validator_value).startswith("ext:") for e in siblings):
            allowed += "; or an extension term 'ext:…'"
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} is not one of the allowed values ({allowed})")
    if kind == "pattern":
        if "propertyNames" in error.relative_schema_path:
            return SchemaViolation(
                _pointer(path), f"unexpected property {_short(error.instance)} (this object is read as a language map)")
        if len(path) >= 2 and path[-2] == "@context":
            return SchemaViolation(
                _pointer(path),
                "the second @context entry must be an Open Badges 3.0 context "
                "(https://purl.imsglobal.org/spec/ob/v3p0/context-3.x.y.json)",
            )
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} does not have the expected form ({value})")
    if kind in ("additionalProperties", "unevaluatedProperties"):
        names = error.message.rsplit("(", 1)[-1].rstrip(")")
        names = names.replace(" were unexpected", "").replace(" was unexpected", "")
        return SchemaViolation(_pointer(path), f"properties not allowed here: {names}")
    if kind in ("oneOf", "anyOf"):
        kinds = _expected_types(error)
        if kinds:
            names = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in kinds)
            return SchemaViolation(_pointer(path), f"must be {names}, not {_short(error.instance)}")
        return SchemaViolation(_pointer(path),
                               f"{_short(error.instance)} does not fit any allowed form for this property")
    return SchemaViolation(_pointer(path), error.message)
