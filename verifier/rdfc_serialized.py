"""RDFC-1.0 over quads already written as N-Quads terms, for the walk of :mod:`verifier.rdf_walk`.

Role: the canonicalization step of the fast path. The walk writes every term once, in its
canonical N-Quads form (:mod:`verifier.nquads` escaping), so a quad here is a tuple of four
strings ``(subject, predicate, object, graph)`` (``graph`` is ``""`` for the default graph)
and a blank node is a term that starts with ``_:``. Most statements of a credential (a literal
or an IRI about a node, in the default graph) come already written as the line after their
subject (:class:`WalkedQuads`), the text both the hashing and the output use.

Credentials almost always take the short road of RDFC-1.0 (W3C RDF Dataset Canonicalization
§4.4): the first-degree hashes (§4.6) of their blank nodes are all different, so canonical
identifiers are issued in hash order (§4.4.3 step 5.4) and nothing else is needed. This module
does exactly that, on strings, without building a term object per statement. When two blank
nodes share a first-degree hash (symmetric shapes: two identical anonymous objects), the
quads are turned back into term objects and given to the general algorithm of
:mod:`verifier.rdfc`, with its work limit and deadline; the result is the same either way.

Why by hand: the general implementation (ours, and pyld's) builds a dictionary per term and
serializes every statement several times; for credentials that is as costly as reading them.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from itertools import chain
from typing import Any

from .budget import Deadline, effective_deadline
from .errors import CanonicalizationLimitError
from .nquads import RDF_LANGSTRING, XSD_STRING
from .rdfc import DEFAULT_LIMITS, CanonicalizationLimits, canonicalize_quads

__all__ = ["SerializedQuad", "WalkedQuads", "canonicalize_serialized", "quad_dicts"]

SerializedQuad = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class WalkedQuads:
    """A dataset as the walk writes it, in two forms (no quad in both, none twice).

    ``lines``: the quads of the default graph whose object is not a blank node, each as
    ``(subject, rest)`` where ``rest`` is the line after the subject, ``" <predicate> object .\\n"``
    (what hashing and the output both write after the subject, built once); ``mixed``: every
    other quad, as ``(subject, predicate, object, graph)``.
    """

    lines: list[tuple[str, str]]
    mixed: list[SerializedQuad]

    def __len__(self) -> int:
        return len(self.lines) + len(self.mixed)

    def quads(self) -> list[SerializedQuad]:
        """Every quad as ``(subject, predicate, object, graph)`` (a predicate IRI holds no space)."""
        found = list(self.mixed)
        for subject, rest in self.lines:
            predicate, _, obj = rest[1:-3].partition(" ")
            found.append((subject, predicate, obj, ""))
        return found

_LITERAL = re.compile(r'^"((?:[^"\\]|\\.)*)"(?:\^\^<(.*)>|@(.+))?$', re.DOTALL)
_ESCAPE = re.compile(r"\\(u[0-9A-F]{4}|.)")
_ECHAR_VALUES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def canonicalize_serialized(dataset: WalkedQuads, limits: CanonicalizationLimits = DEFAULT_LIMITS, *,
                            deadline: Deadline | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset given as serialized quads (no duplicates).

    Raises:
        CanonicalizationLimitError: too many statements, or (general algorithm) work or time.
    """
    if len(dataset) > limits.max_quads:
        raise CanonicalizationLimitError(
            f"the document has {len(dataset)} statements; the limit is {limits.max_quads}")
    # §4.4.3 steps 2-3: the quads that mention each blank node, kept as the lines §4.6 hashes.
    # Most quads name one blank node, as their subject: their text after the subject ("rest")
    # is written once, for the hash ("_:a" + rest) and for the output (label + rest).
    lines_of: dict[str, list[str]] = {}
    plain: list[str] = []                      # lines without a blank node
    subject_only: list[tuple[str, str]] = []   # (blank subject, rest)
    mixed: list[SerializedQuad] = []           # two or more blank node positions
    written: list[tuple[str, str]] = []        # other quads without a blank object or graph, as (subject, rest)
    for quad in dataset.mixed:
        subject, predicate, obj, graph = quad
        if obj[0] != "_" and graph[:1] != "_":
            written.append((subject, f" {predicate} {obj} {graph} .\n" if graph else f" {predicate} {obj} .\n"))
            continue
        mixed.append(quad)
        for node in {term for term in (subject, obj, graph) if term and term[0] == "_"}:
            lines_of.setdefault(node, []).append(_hash_line(quad, node))
    for subject, rest in chain(dataset.lines, written):  # the walk wrote most of these lines already
        if subject[0] == "_":
            subject_only.append((subject, rest))
            lines = lines_of.get(subject)
            if lines is None:
                lines_of[subject] = ["_:a" + rest]
            else:
                lines.append("_:a" + rest)
        else:
            plain.append(subject + rest)
    # §4.6 Hash First Degree Quads, for every blank node
    by_hash: dict[str, str] = {}
    for node, lines in lines_of.items():
        lines.sort()
        digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
        if digest in by_hash:  # two blank nodes alike at first degree: the general algorithm
            return canonicalize_quads(quad_dicts(dataset.quads()), limits,
                                      deadline=effective_deadline(deadline, limits.max_seconds))
        by_hash[digest] = node
    effective_deadline(deadline, limits.max_seconds).check()
    # §4.4.3 step 5.4: canonical identifiers in the order of the hashes
    canonical = {by_hash[digest]: f"_:c14n{index}" for index, digest in enumerate(sorted(by_hash))}
    # §4.4.3 step 7: relabel, serialize, sort
    plain.extend([canonical[subject] + rest for subject, rest in subject_only])
    for subject, predicate, obj, graph in mixed:
        if subject[0] == "_":
            subject = canonical[subject]
        if obj[0] == "_":
            obj = canonical[obj]
        if graph:
            if graph[0] == "_":
                graph = canonical[graph]
            plain.append(f"{subject} {predicate} {obj} {graph} .\n")
        else:
            plain.append(f"{subject} {predicate} {obj} .\n")
    plain.sort()
    return "".join(plain)


def _hash_line(quad: SerializedQuad, node: str) -> str:
    """The line of ``quad`` in the first-degree hash of ``node`` (§4.6 step 3: ``node`` is
    ``_:a``, every other blank node ``_:z``)."""
    subject, predicate, obj, graph = quad
    if subject[0] == "_":
        subject = "_:a" if subject == node else "_:z"
    if obj[0] == "_":
        obj = "_:a" if obj == node else "_:z"
    if not graph:
        return f"{subject} {predicate} {obj} .\n"
    if graph[0] == "_":
        graph = "_:a" if graph == node else "_:z"
    return f"{subject} {predicate} {obj} {graph} .\n"


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" and len(m.group(1)) == 5
                       else _ECHAR_VALUES[m.group(1)], text)


def _term(text: str) -> dict[str, Any]:
    """One serialized term back as the term object of :mod:`verifier.nquads`."""
    if text[0] == "_":
        return {"type": "blank node", "value": text}
    if text[0] == "<":
        return {"type": "IRI", "value": _unescape(text[1:-1])}
    match = _LITERAL.match(text)
    if match is None:  # pragma: no cover - the walk writes only the forms above
        raise ValueError(f"not an N-Quads term: {text!r}")
    value, datatype, language = match.groups()
    term: dict[str, Any] = {"type": "literal", "value": _unescape(value)}
    if language is not None:
        term["datatype"], term["language"] = RDF_LANGSTRING, language
    else:
        term["datatype"] = _unescape(datatype) if datatype is not None else XSD_STRING
    return term


def quad_dicts(quads: list[SerializedQuad]) -> list[dict[str, Any]]:
    """The quads as the term objects :func:`verifier.rdfc.canonicalize_quads` reads."""
    result = []
    for subject, predicate, obj, graph in quads:
        quad = {"subject": _term(subject), "predicate": _term(predicate), "object": _term(obj)}
        if graph:
            quad["name"] = _term(graph)
        result.append(quad)
    return result
