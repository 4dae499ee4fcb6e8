"""RDFC-1.0 over quads already written as N-Quads terms, for the walk of :mod:`verifier.rdf_walk`.

Role: the canonicalization step of the fast path. The walk writes every term once, in its
canonical N-Quads form (:mod:`verifier.nquads` escaping), so a quad here is a tuple of four
strings ``(subject, predicate, object, graph)`` (``graph`` is ``""`` for the default graph)
and a blank node is a term that starts with ``_:``. Most statements of a credential (a literal
or an IRI about a node, in the default graph) come already written as the line after their
subject (:class:`WalkedQuads`), the text both the hashing and the output use; those of a node
without an ``@id`` come together, and are sorted, hashed and written as one block.

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
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    """A dataset as the walk writes it, in three forms (no quad in two, none twice).

    ``lines``: quads of the default graph whose object is not a blank node, each as
    ``(subject, rest)`` where ``rest`` is the line after the subject, ``" <predicate> object .\\n"``
    (what hashing and the output both write after the subject, built once); ``blocks``: more
    such quads, by blank subject, as the list of their rests (the walk's nodes without an
    ``@id``, whose lines it wrote together); ``mixed``: every other quad, as
    ``(subject, predicate, object, graph)``.
    """

    lines: list[tuple[str, str]]
    mixed: list[SerializedQuad]
    blocks: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines) + len(self.mixed) + sum(map(len, self.blocks.values()))

    def quads(self) -> list[SerializedQuad]:
        """Every quad as ``(subject, predicate, object, graph)`` (a predicate IRI holds no space)."""
        found = list(self.mixed)
        blocks = ((subject, rest) for subject, rests in self.blocks.items() for rest in rests)
        for subject, rest in chain(self.lines, blocks):
            predicate, _, obj = rest[1:-3].partition(" ")
            found.append((subject, predicate, obj, ""))
        return found


_LITERAL = re.compile(r'^"((?:[^"\\]|\\.)*)"(?:\^\^<(.*)>|@(.+))?$', re.DOTALL)
_ESCAPE = re.compile(r"\\(u[0-9A-F]{4}|.)")
_ECHAR_VALUES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def canonicalize_serialized(dataset: WalkedQuads, limits: CanonicalizationLimits = DEFAULT_LIMITS, *,
                            deadline: Deadline | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset given as serialized quads (no duplicates).

    Reorders the lists of ``dataset.blocks`` in place (sorts them); changes nothing else.

    Raises:
        CanonicalizationLimitError: too many statements, or (general algorithm) work or time.
    """
    size = len(dataset)
    if size > limits.max_quads:
        raise CanonicalizationLimitError(f"the document has {size} statements; the limit is {limits.max_quads}")
    # §4.4.3 steps 2-3: the quads that mention each blank node. A blank node's lines as subject
    # share their start, so they are kept as their text after the subject ("rest"): sorted once,
    # they give both its hash input ("_:a" + rest, §4.6 step 3) and its output (label + rest).
    blocks = dataset.blocks
    rests_of: dict[str, list[str]] = {}   # blank subject -> rests of its other lines without another blank node
    own_of: dict[str, list[str]] = {}     # blank subject -> hash rests of its lines naming other blank nodes
    others_of: dict[str, list[str]] = {}  # blank node -> hash lines of the quads naming it elsewhere
    plain: list[str] = []                 # lines without a blank node
    mixed: list[SerializedQuad] = []      # quads with a blank object or graph
    for subject, rest in chain(dataset.lines, _written(dataset.mixed, mixed)):
        if subject[0] == "_":
            rests = rests_of.get(subject)
            if rests is None:
                rests_of[subject] = [rest]
            else:
                rests.append(rest)
        else:
            plain.append(subject + rest)
    for quad in mixed:
        subject = quad[0]
        for node in {term for term in quad if term and term[0] == "_"}:
            line = _hash_line(quad, node)
            if node == subject:
                own_of.setdefault(node, []).append(line[3:])
            else:
                others_of.setdefault(node, []).append(line)
    # §4.6 Hash First Degree Quads, for every blank node
    by_hash: dict[str, str] = {}
    sorted_of: dict[str, list[str]] = {}  # blank subject -> rests without another blank node, sorted
    for node in {**blocks, **rests_of, **own_of, **others_of}:
        block, rests = blocks.get(node), rests_of.get(node)
        if rests is None:
            rests = block
        elif block is not None:
            rests = block + rests
        own = own_of.get(node)
        if rests is not None:
            rests.sort()
            sorted_of[node] = rests
            own = sorted(own + rests) if own is not None else rests
        elif own is not None:
            own.sort()
        text = "_:a" + "_:a".join(own) if own is not None else ""
        others = others_of.get(node)
        if others is not None:  # lines about it as object or graph: an IRI subject sorts before "_:a", "_:z" after
            others.sort()
            split = bisect_left(others, "_")
            text = "".join(others[:split]) + text + "".join(others[split:])
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest in by_hash:  # two blank nodes alike at first degree: the general algorithm
            return canonicalize_quads(quad_dicts(dataset.quads()), limits,
                                      deadline=effective_deadline(deadline, limits.max_seconds))
        by_hash[digest] = node
    effective_deadline(deadline, limits.max_seconds).check()
    # §4.4.3 step 5.4: canonical identifiers in the order of the hashes
    canonical = {by_hash[digest]: f"_:c14n{index}" for index, digest in enumerate(sorted(by_hash))}
    # §4.4.3 step 7: relabel, serialize, sort
    extra_of: dict[str, list[str]] = {}  # blank subject -> rests of its lines naming other blank nodes
    for subject, predicate, obj, graph in mixed:
        if obj[0] == "_":
            obj = canonical[obj]
        if graph:
            if graph[0] == "_":
                graph = canonical[graph]
            rest = f" {predicate} {obj} {graph} .\n"
        else:
            rest = f" {predicate} {obj} .\n"
        if subject[0] == "_":
            extra_of.setdefault(subject, []).append(rest)
        else:
            plain.append(subject + rest)
    for node, extra in extra_of.items():
        rests = sorted_of.get(node)
        sorted_of[node] = sorted(rests + extra) if rests is not None else sorted(extra)
    for node, rests in sorted_of.items():
        # a blank node's lines, sorted, as one block: they share a start ("_:c14nN ") that no
        # other line has, so the block sorts among the other lines where its lines would
        label = canonical[node]
        plain.append(label + label.join(rests))
    plain.sort()
    return "".join(plain)


def _written(quads: list[SerializedQuad], mixed: list[SerializedQuad]) -> Iterator[tuple[str, str]]:
    """The quads without a blank object or graph, as ``(subject, rest)``; the others go into ``mixed``."""
    for quad in quads:
        subject, predicate, obj, graph = quad
        if obj[0] == "_" or graph[:1] == "_":
            mixed.append(quad)
        else:
            yield subject, (f" {predicate} {obj} {graph} .\n" if graph else f" {predicate} {obj} .\n")


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
