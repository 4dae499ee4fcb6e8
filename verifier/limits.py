"""Structural limits on untrusted JSON, checked before any JSON-LD work.

A credential is a few hundred values nested a few levels deep. Documents far
beyond that are refused up front with a :class:`DocumentTooComplexError` (reason
code ``too_complex``) naming the limit, instead of exhausting the stack, the CPU
or the memory later (pyld's node map, for one, is quadratic in the values of a
property).

* :func:`check_structure`: any JSON (API bodies, OB 2.0 documents): depth and
  number of values only.
* :func:`check_jsonld_limits`: a JSON-LD document about to be expanded
  (credentials, proof configurations, status list credentials); every cap of
  :class:`JsonLdLimits`. :mod:`verifier.jsonld` and :mod:`verifier.canonicalize`
  call it on every document they are given.
* :func:`survey_document`: the same caps, and what the one walk noticed on the way
  (a :class:`Survey`: whether all text is ASCII, every ``@context`` value, whether any key
  names an endorsement), so later checks need not walk the document again to learn it.

The caps leave room for real credentials: the largest OB 3.0 example (24 KB,
complete with endorsements) holds under 600 values and no array over 10 items;
status list credentials carry an ``encodedList`` of some KB (microcred's own
lists are 131,072 entries, 16 KB before compression); badge images embedded as
``data:`` URIs are up to 512 KiB before base64 (what microcred's issuer accepts,
about 700,000 characters after).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CredentialError

MAX_DEPTH = 64
MAX_VALUES = 100_000

# Properties whose string values may be long: proofs, status lists, JWT endorsements.
LONG_STRING_PROPERTIES = frozenset({"proofValue", "encodedList", "endorsementJwt", "jws"})


class DocumentTooComplexError(CredentialError):
    code = "too_complex"


@dataclass(frozen=True)
class JsonLdLimits:
    """Caps on a JSON-LD document, all checked in one pass before expansion."""

    max_depth: int = MAX_DEPTH
    max_values: int = 20_000                 # every JSON value: objects, arrays, scalars
    max_array: int = 1_000                   # values of one property (one JSON array)
    max_string: int = 64 * 1024              # characters of one key or string value ...
    max_long_string: int = 1024 * 1024       # ... of a data: URI or a LONG_STRING_PROPERTIES value
    max_total_chars: int = 4 * 1024 * 1024   # characters of all keys and strings together
    max_contexts: int = 64                   # @context entries (URLs and objects) in the whole document
    max_inline_contexts: int = 8             # @context objects, scoped ones inside them included
    max_inline_context_bytes: int = 16 * 1024  # one @context object serialized (UTF-8 JSON)
    max_context_terms: int = 256             # terms one @context object defines


JSONLD_LIMITS = JsonLdLimits()


def _refuse(message: str, limit: str, value: int) -> DocumentTooComplexError:
    return DocumentTooComplexError(message, details={"limit": limit, "max": value})


def _too_deep(max_depth: int) -> DocumentTooComplexError:
    return _refuse(f"the document is nested more than {max_depth} levels deep", "depth", max_depth)


def _too_many(max_values: int) -> DocumentTooComplexError:
    return _refuse(f"the document holds more than {max_values} values", "values", max_values)


def _too_long(max_total_chars: int) -> DocumentTooComplexError:
    return _refuse(f"the document's keys and strings total more than {max_total_chars} characters",
                   "total_chars", max_total_chars)


def _odd_number(child: object, number_problem: Callable[[int | float], object] | None) -> bool:
    """Whether ``child`` is a number (not a boolean) ``number_problem`` finds a problem with."""
    return (number_problem is not None and isinstance(child, (int, float)) and not isinstance(child, bool)
            and bool(number_problem(child)))


def check_structure(document: object, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES,
                    number_problem: Callable[[int | float], object] | None = None) -> bool:
    """Raise DocumentTooComplexError if ``document`` nests deeper or holds more values than allowed.

    ``number_problem``, if given, is asked about every number (not booleans) in the same pass;
    the result says whether it found a problem with any (the caller then looks closer, e.g. to
    name where: this walk keeps no paths)."""
    stack = [(document, 1)]  # containers only: scalars are counted in their container's loop
    push = stack.append
    seen = 0
    flagged = False
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > max_depth:
            raise _too_deep(max_depth)
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        scalars = 0
        for child in children:
            if isinstance(child, (dict, list)):
                push((child, depth + 1))
            else:
                scalars += 1
                if number_problem is not None and type(child) is not str and _odd_number(child, number_problem):
                    flagged = True
        seen = _scalars_counted(seen, scalars, depth, max_depth, max_values)
    return flagged


def _scalars_counted(seen: int, scalars: int, depth: int, max_depth: int, max_values: int) -> int:
    """``seen`` plus a container's ``scalars`` (one level below it): refused past the caps, the
    depth first (as a walk meeting them one by one would find them)."""
    if scalars:
        if depth + 1 > max_depth:
            raise _too_deep(max_depth)
        seen += scalars
    if seen > max_values:
        raise _too_many(max_values)
    return seen


def copy_within_structure(document: object, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES,
                          number_problem: Callable[[int | float], object] | None = None) -> tuple[Any, bool]:
    """A deep copy of the JSON ``document`` made in the walk of :func:`check_structure`.

    Same refusals, in the same order, and the same answer about numbers (the second item);
    signing needs both the check and a copy it may change, and one pass costs less than two."""
    if not isinstance(document, (dict, list)):
        return document, check_structure(document, max_depth=max_depth, max_values=max_values,
                                          number_problem=number_problem)
    root: Any = {} if isinstance(document, dict) else []
    stack: list[tuple[Any, Any, int]] = [(document, root, 1)]  # (original, its copy, depth)
    push = stack.append
    seen = 0
    flagged = False
    while stack:
        value, copy, depth = stack.pop()
        seen += 1
        if depth > max_depth:
            raise _too_deep(max_depth)
        containers = 0
        # scalars are copied with the container at once; nested containers are put in after
        if isinstance(value, dict):
            copy.update(value)
            children: Any = value.items()
        else:
            copy.extend(value)
            children = enumerate(value)
        for key, child in children:
            if type(child) is str:  # the usual value
                continue
            if isinstance(child, (dict, list)):
                containers += 1
                inner: Any = {} if isinstance(child, dict) else []
                push((child, inner, depth + 1))
                copy[key] = inner
            elif number_problem is not None and _odd_number(child, number_problem):
                flagged = True
        seen = _scalars_counted(seen, len(value) - containers, depth, max_depth, max_values)
    return root, flagged


# Keys a verification looks for all over a document (OB 3.0 endorsements, wherever attached).
ENDORSEMENT_KEYS = frozenset({"endorsement", "endorsementJwt"})


@dataclass(frozen=True)
class Survey:
    """What the walk of :func:`survey_document` noticed about a document within the caps.

    ``context_values``: the value of every ``@context`` key, wherever it is (embedded
    credentials' and scoped ones inside inline contexts included), in no particular order;
    ``endorsement_keys``: whether any object has a key in :data:`ENDORSEMENT_KEYS` (where does
    not matter: the check that collects endorsements walks again only when one does);
    ``objects``: every JSON object in the document (the document itself, those inside inline
    contexts too), in no particular order, for the one-reading check to look at without a walk."""

    ascii_only: bool
    context_values: tuple[object, ...]
    endorsement_keys: bool
    objects: tuple[dict[str, Any], ...] = ()


class _Walk:
    """One pass over a document, counting what the caps bound."""

    def __init__(self, limits: JsonLdLimits):
        self.limits = limits
        self.values = 0
        self.chars = 0
        self.ascii_only = True
        self.contexts = 0
        self.inline: list[dict[str, Any]] = []
        self.context_values: list[object] = []
        self.endorsement_keys = False
        self.objects: list[dict[str, Any]] = []

    def long_text(self, text: str, key: str | None) -> None:
        """Refuse a key or string over its length cap (``key`` None: ``text`` is a key)."""
        lim = self.limits
        long_ok = key is not None and (key in LONG_STRING_PROPERTIES or text.startswith("data:"))
        cap = lim.max_long_string if long_ok else lim.max_string
        if len(text) > cap:
            where = f"a value of {key!r}" if key is not None else "a key"
            raise _refuse(f"{where} is longer than {cap} characters (string length)",
                          "long_string" if long_ok else "string", cap)

    def context(self, value: object) -> None:
        lim = self.limits
        self.context_values.append(value)
        entries = value if isinstance(value, list) else [value]
        self.contexts += len(entries)
        if self.contexts > lim.max_contexts:
            raise _refuse(f"the document has more than {lim.max_contexts} @context entries", "contexts",
                          lim.max_contexts)
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            self.inline.append(entry)
            if len(self.inline) > lim.max_inline_contexts:
                raise _refuse(f"the document has more than {lim.max_inline_contexts} inline @context objects",
                              "inline_contexts", lim.max_inline_contexts)
            if len(entry) > lim.max_context_terms:
                raise _refuse(f"an inline @context defines more than {lim.max_context_terms} terms",
                              "context_terms", lim.max_context_terms)

    def run(self, document: object) -> None:
        lim = self.limits
        max_string, max_values, max_depth = lim.max_string, lim.max_values, lim.max_depth
        max_array, max_total_chars = lim.max_array, lim.max_total_chars
        # Containers go on the stack; strings and other scalars are counted where they are met.
        stack: list[tuple[object, int, str | None]] = [(document, 1, None)]
        values = chars = 0
        ascii_only = True  # every key and string ASCII (then none holds a lone surrogate)
        noted = ENDORSEMENT_KEYS
        objects = self.objects
        while stack:
            value, depth, key = stack.pop()
            values += 1
            if values > max_values:
                raise _too_many(max_values)
            if depth > max_depth:
                raise _too_deep(max_depth)
            if isinstance(value, dict):
                objects.append(value)
                for k, v in value.items():
                    size = len(k)
                    chars += size
                    if size > max_string:
                        self.long_text(k, None)
                    if ascii_only and not k.isascii():
                        ascii_only = False
                    if k == "@context":
                        self.context(v)
                    elif k in noted:
                        self.endorsement_keys = True
                    if isinstance(v, str):  # the usual value: a string, one level down
                        values += 1
                        size = len(v)
                        chars += size
                        if size > max_string:
                            self.long_text(v, k)
                        if ascii_only and not v.isascii():
                            ascii_only = False
                    elif isinstance(v, (dict, list)):
                        stack.append((v, depth + 1, k))
                    else:  # another scalar, one level down
                        values += 1
            elif isinstance(value, list):
                if len(value) > max_array:
                    where = f"the property {key!r}" if key is not None else "an array"
                    raise _refuse(f"{where} holds more than {max_array} values "
                                  "(values per property)", "values_per_property", max_array)
                for v in value:
                    if isinstance(v, str):
                        values += 1
                        size = len(v)
                        chars += size
                        if size > max_string:
                            self.long_text(v, key if key is not None else "")
                        if ascii_only and not v.isascii():
                            ascii_only = False
                    elif isinstance(v, (dict, list)):
                        stack.append((v, depth + 1, key))
                    else:
                        values += 1
            else:  # a scalar document
                if isinstance(value, str):
                    ascii_only = ascii_only and value.isascii()
                    chars += len(value)
                    if len(value) > max_string:
                        self.long_text(value, key if key is not None else "")
                continue
            # the scalars just counted sit one level below this container
            if values > max_values:
                raise _too_many(max_values)
            if depth + 1 > max_depth and value:
                raise _too_deep(max_depth)
            if chars > max_total_chars:
                raise _too_long(max_total_chars)
        self.values, self.chars, self.ascii_only = values, chars, ascii_only
        if chars > max_total_chars:
            raise _too_long(max_total_chars)
        # Sizes last: only now is every inline context known to be shallow and small enough to serialize.
        for entry in self.inline:
            size = len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            if size > lim.max_inline_context_bytes:
                raise _refuse(f"an inline @context is larger than {lim.max_inline_context_bytes} bytes",
                              "inline_context_bytes", lim.max_inline_context_bytes)


def check_jsonld_limits(document: object, limits: JsonLdLimits = JSONLD_LIMITS) -> int:
    """Refuse a JSON-LD document that any cap of ``limits`` does not allow, before JSON-LD work.

    Args:
        document: the parsed JSON (not modified).
        limits: the caps (default :data:`JSONLD_LIMITS`).

    Returns:
        The number of JSON values in ``document`` (what the cost of JSON-LD work grows with).

    Raises:
        DocumentTooComplexError: the message names the cap, ``details["limit"]`` too.
    """
    return _walked(document, limits).values


def survey_document(document: object, limits: JsonLdLimits = JSONLD_LIMITS) -> Survey:
    """:func:`check_jsonld_limits`, with what its walk noticed (a :class:`Survey`)."""
    walk = _walked(document, limits)
    return Survey(walk.ascii_only, tuple(walk.context_values), walk.endorsement_keys, tuple(walk.objects))


def _walked(document: object, limits: JsonLdLimits) -> _Walk:
    walk = _Walk(limits)
    walk.run(document)
    return walk
