"""RDFC-1.0 (RDF Dataset Canonicalization, SHA-256) with a work limit.

Follows the W3C algorithm step by step, with the same shortcuts rdf-canonize
takes (first-degree hashes computed once; path comparison by string order), so
the output is byte-identical to jsonld.js. Quads are serialized by
:mod:`verifier.nquads`, which escapes literals as RDFC-1.0 requires.

Untrusted input can be a "poison" graph (many pairwise-linked blank nodes) whose
canonicalization takes exponential time. As in rdf-canonize, the number of Hash
N-Degree Quads calls is capped at ``n ** max_work_factor`` (n = blank nodes that
the first-degree hashes do not tell apart), and a time budget
(:class:`~verifier.budget.Deadline`, shared with JSON-LD expansion when the caller
passes one) is checked throughout. Either limit raises
:class:`CanonicalizationLimitError`. Credentials (blank nodes told apart by their
first-degree hashes) never reach the deep step.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .budget import Deadline, effective_deadline
from .errors import CanonicalizationLimitError
from .nquads import quad_to_nquads
from .pyld_loaded import permutations  # Steinhaus-Johnson-Trotter, the order rdf-canonize uses

_POSITIONS = (("subject", "s"), ("object", "o"), ("name", "g"))


@dataclass(frozen=True)
class CanonicalizationLimits:
    max_quads: int = 20_000
    max_work_factor: int = 1
    max_seconds: float = 2.0  # the budget when the caller passes no deadline (and none is in scope)


DEFAULT_LIMITS = CanonicalizationLimits()


class _Issuer:
    """Identifier Issuer (RDFC-1.0 section 4.5)."""

    __slots__ = ("issued", "order", "prefix")

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.issued: dict[str, str] = {}
        self.order: list[str] = []

    def get(self, existing: str) -> str:
        issued = self.issued.get(existing)
        if issued is None:
            issued = self.prefix + str(len(self.order))
            self.issued[existing] = issued
            self.order.append(existing)
        return issued

    def clone(self) -> _Issuer:
        copy = _Issuer(self.prefix)
        copy.issued = dict(self.issued)
        copy.order = list(self.order)
        return copy


def _sha256_hex(parts: Iterable[str]) -> str:
    md = hashlib.sha256()
    for part in parts:
        md.update(part.encode("utf-8"))
    return md.hexdigest()


class _Canonicalizer:
    def __init__(self, quads: list[dict[str, Any]], limits: CanonicalizationLimits, deadline: Deadline):
        self.quads = quads
        self.limits = limits
        self.deadline = deadline
        self.canonical = _Issuer("_:c14n")
        self.quads_of: dict[str, list[dict[str, Any]]] = {}
        self.first_hash: dict[str, str] = {}
        self.remaining_deep = 0

    def _check_deadline(self) -> None:
        self.deadline.check()

    # 4.4 steps 2-3
    def _index_blank_nodes(self) -> None:
        for quad in self.quads:
            for key, _ in _POSITIONS:
                term = quad.get(key)
                if term is not None and term["type"] == "blank node":
                    self.quads_of.setdefault(term["value"], []).append(quad)

    # 4.6 Hash First Degree Quads
    def _hash_first_degree(self, node: str) -> str:
        lines = []
        for quad in self.quads_of[node]:
            copy = dict(quad)
            for key, _ in _POSITIONS:
                term = quad.get(key)
                if term is not None and term["type"] == "blank node":
                    copy[key] = {"type": "blank node", "value": "_:a" if term["value"] == node else "_:z"}
            lines.append(quad_to_nquads(copy))
        lines.sort()
        return _sha256_hex(lines)

    # 4.7 Hash Related Blank Node
    def _hash_related(self, related: str, quad: dict[str, Any], issuer: _Issuer, position: str) -> str:
        if related in self.canonical.issued:
            ident = self.canonical.issued[related]
        elif related in issuer.issued:
            ident = issuer.issued[related]
        else:
            ident = self.first_hash[related]
        parts = [position]
        if position != "g":
            parts.append("<" + quad["predicate"]["value"] + ">")
        parts.append(ident)
        return _sha256_hex(parts)

    # 4.8 Hash N-Degree Quads
    def _hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        if self.remaining_deep <= 0:
            raise CanonicalizationLimitError(
                "canonicalization exceeded its work limit (a graph of many "
                "indistinguishable blank nodes, possibly a poison graph)")
        self.remaining_deep -= 1
        self._check_deadline()

        # steps 1-3: hash to related blank nodes map
        hash_to_related: dict[str, list[str]] = {}
        for quad in self.quads_of[node]:
            for key, position in _POSITIONS:
                term = quad.get(key)
                if term is not None and term["type"] == "blank node" and term["value"] != node:
                    related = term["value"]
                    h = self._hash_related(related, quad, issuer, position)
                    hash_to_related.setdefault(h, []).append(related)

        data = []
        for related_hash in sorted(hash_to_related):
            data.append(related_hash)  # 5.1
            chosen_path = ""
            chosen_issuer = None
            for count, permutation in enumerate(permutations(list(hash_to_related[related_hash]))):
                if count % 64 == 0:
                    self._check_deadline()
                issuer_copy = issuer.clone()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:  # 5.4.4
                    if related in self.canonical.issued:
                        path += self.canonical.issued[related]
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.get(related)
                    if chosen_path and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:  # 5.4.5
                    result_hash, result_issuer = self._hash_n_degree(related, issuer_copy)
                    path += issuer_copy.get(related) + "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:  # 5.4.6
                    chosen_path = path
                    chosen_issuer = issuer_copy
            if chosen_issuer is None:  # pragma: no cover - the first permutation is always chosen
                raise AssertionError("RDFC-1.0 4.8.3 (5.4): no permutation was chosen")
            data.append(chosen_path)  # 5.5
            issuer = chosen_issuer  # 5.6
        return _sha256_hex(data), issuer

    def run(self) -> str:
        if len(self.quads) > self.limits.max_quads:
            raise CanonicalizationLimitError(
                f"the document has {len(self.quads)} statements; the limit is {self.limits.max_quads}")
        self._index_blank_nodes()
        # 5.3: first-degree hashes (computed once, as every implementation does)
        hash_to_nodes: dict[str, list[str]] = {}
        for count, node in enumerate(self.quads_of):
            if count % 256 == 0:
                self._check_deadline()
            h = self._hash_first_degree(node)
            self.first_hash[node] = h
            hash_to_nodes.setdefault(h, []).append(node)
        # 5.4: unique hashes get canonical ids in hash order
        non_unique: list[list[str]] = []
        for h in sorted(hash_to_nodes):
            nodes = hash_to_nodes[h]
            if len(nodes) > 1:
                non_unique.append(nodes)
            else:
                self.canonical.get(nodes[0])
        self.remaining_deep = sum(len(n) for n in non_unique) ** self.limits.max_work_factor
        # 6: the rest through Hash N-Degree Quads
        for nodes in non_unique:
            results = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.get(node)
                results.append(self._hash_n_degree(node, temporary))
            for _, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer.order:
                    self.canonical.get(existing)
        # 7: relabel and serialize
        lines = []
        for quad in self.quads:
            copy = dict(quad)
            for key, _ in _POSITIONS:
                term = quad.get(key)
                if term is not None and term["type"] == "blank node":
                    copy[key] = {"type": "blank node", "value": self.canonical.get(term["value"])}
            lines.append(quad_to_nquads(copy))
        lines.sort()
        return "".join(lines)


def canonicalize_quads(quads: list[dict[str, Any]], limits: CanonicalizationLimits = DEFAULT_LIMITS, *,
                       deadline: Deadline | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``quads`` (pyld dataset quads, blank nodes ``_:...``).

    Args:
        quads: the dataset's quads.
        limits: statement count and work limits.
        deadline: the time budget; default the :func:`~verifier.budget.deadline_scope`'s,
            else a fresh one of ``limits.max_seconds``.

    Raises:
        CanonicalizationLimitError: a limit or the budget was exceeded.
    """
    return _Canonicalizer(quads, limits, effective_deadline(deadline, limits.max_seconds)).run()


def dataset_quads(dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten pyld's ``{graph name: [triples]}`` dataset into a list of quads."""
    quads = []
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            quads.extend(triples)
            continue
        name = {"type": "blank node" if graph_name.startswith("_:") else "IRI", "value": graph_name}
        quads.extend(dict(triple, name=name) for triple in triples)
    return quads
