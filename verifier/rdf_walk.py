"""Compacted credential -> RDF quads in one walk over the JSON, read through the term tables.

Role: the fast path of :func:`verifier.canonicalize.canonicalize`. A credential in compacted
form under the bundled contexts (the one-reading rule of :mod:`verifier.reading`) is turned
into the quads of its RDF dataset directly: each key is looked up in the
:class:`~verifier.rdf_tables.ContextTables` of the context in force, each value becomes an RDF
term, each nested object a node, each ``@graph``-container value (``proof``) a named graph.
No expanded document, no node map: the dataset is a set of quads, so a node described in two
places simply contributes both sets of statements, as the node map would merge them.

Why by hand: no library turns JSON-LD into RDF without the general expansion algorithm, and
that algorithm is most of the cost of signing and verifying (``../shared/research/
performance.md``). The walk follows pyld's Expansion Algorithm (JSON-LD 1.1 §5.1.2) step for
step for what it covers, so every context it moves into is the one pyld would use:

* a node's property-scoped context applies after its parent's type-scoped context is
  reverted (§5.1.2 steps 7-8); a nested ``@context`` (URLs only) next (step 9);
* type-scoped contexts of the node's types, in lexicographic order, over that context, without
  propagation (step 11); ``@type`` values are expanded with the context before them (step 13.4.4);
* a term's own scoped context applies to its value (step 13.7), whose coercion is then read
  from that context (§5.3.2 Value Expansion);
* RDF terms as in Deserialize JSON-LD to RDF (JSON-LD 1.1 API §8.1.2 Object to RDF): booleans,
  integers, doubles in canonical form, coerced datatypes, IRIs; ``@list`` values as RDF
  collections (§8.1.3 List to RDF).

Contract: :class:`~verifier.rdf_tables.NotCovered` for anything the tables do not cover (see
there) and for whatever general processing would refuse or drop (a relative IRI, an undefined
term, a keyword it would not accept): the caller then takes the general path, which gives the
result or error it always gave. The fast path never decides an error. Its output is held equal
to pyld's and jsonld.js's by differential tests.

Bounded: the walk is linear in the document and checks the deadline every few nodes. It holds
the document to the caps of :mod:`verifier.limits` as it goes, more tightly where that is
simpler (nodes nested more than :data:`MAX_NODE_DEPTH` deep, more than
:data:`verifier.jsonld.HEAVY_VALUES` values, a string over the cap): a document outside them is
NotCovered, and the general path checks it in full and refuses it (``too_complex``) or, for a
large document within the caps, processes it taking its turn. So the walk does not need the
separate pass of :func:`~verifier.limits.check_jsonld_limits` and gives the same outcomes.
"""
from __future__ import annotations

import re
from typing import Any

from .budget import Deadline, effective_deadline
from .jsonld import HEAVY_VALUES, JsonLdEngine, default_engine
from .limits import JsonLdLimits
from .nquads import (
    XSD_BOOLEAN,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
    escape_iri,
    escape_literal,
    literal_needs_escape,
)
from .rdf_plans import ENTRY_ID, ENTRY_PROPERTY, ENTRY_TYPE, Entry, plan_for
from .rdf_tables import AS_ID, AS_VOCAB, ContextTables, NotCovered, Rule, iri_term
from .rdfc import DEFAULT_LIMITS, CanonicalizationLimits
from .rdfc_serialized import SerializedQuad, WalkedQuads, canonicalize_serialized

__all__ = ["NotCovered", "fast_nquads", "fast_quads"]

RDF_FIRST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
RDF_REST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
RDF_NIL = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"

_TICK_STRIDE = 16  # nodes between two deadline checks
MAX_NODE_DEPTH = 24  # nodes within nodes (a credential with an endorsement nests about 8)
_DOUBLE_EXPONENT = re.compile(r"(\d)0*E\+?(-)?0*(\d)")

Term = str  # an RDF term written as in N-Quads: "<iri>", "_:label" or a literal


def canonical_double(value: float) -> str:
    """The canonical lexical form of an xsd:double, as pyld writes it (``1.5E0``)."""
    return _DOUBLE_EXPONENT.sub(r"\1E\2\3", f"{value:1.15E}")


def _literal(value: str, datatype: str) -> Term:
    if datatype == XSD_STRING:
        return '"' + escape_literal(value) + '"'
    return '"' + escape_literal(value) + '"^^<' + escape_iri(datatype) + ">"


class _Walk:
    """One document's walk: the quads found so far, blank node labels, the deadline."""

    __slots__ = ("_blank", "_chars", "_deadline", "_limits", "_ticks", "_values", "blocks", "lines", "mixed")

    def __init__(self, deadline: Deadline, limits: JsonLdLimits) -> None:
        # a dataset is a set of quads (kept as dict keys, in the order met), in the two forms of
        # :class:`~verifier.rdfc_serialized.WalkedQuads`
        self.lines: dict[tuple[str, str], None] = {}
        self.mixed: dict[SerializedQuad, None] = {}
        self.blocks: dict[str, list[str]] = {}
        self._blank = 0
        self._ticks = _TICK_STRIDE
        self._deadline = deadline
        self._limits = limits
        self._values = 0  # JSON values met (nodes, arrays, scalars, types): routes large documents
        self._chars = 0   # characters of keys and strings met

    def check_size(self) -> None:
        """NotCovered beyond what the fast path takes (the general path decides); once per node."""
        if self._values > HEAVY_VALUES or self._chars > self._limits.max_total_chars:
            raise NotCovered("a large document (it takes its turn on the general path)")

    def string(self, value: str) -> None:
        """A string value: within the string caps, or NotCovered (the general path decides)."""
        size = len(value)
        self._chars += size
        if size > self._limits.max_string and not (size <= self._limits.max_long_string
                                                   and value.startswith("data:")):
            raise NotCovered("a string over the length cap")

    def blank(self) -> Term:
        self._blank += 1
        return f"_:f{self._blank}"

    def emit(self, subject: Term, predicate: Term, obj: Term, graph: Term) -> None:
        if graph or obj[0] == "_":
            self.mixed[(subject, predicate, obj, graph)] = None
        else:
            self.lines[(subject, f" {predicate} {obj} .\n")] = None

    # -- nodes (JSON-LD 1.1 §5.1.2, for a map) ------------------------------------------

    def node(self, active: ContextTables, property_rule: Rule | None, element: dict[str, Any],
             graph: Term, depth: int = 1) -> Term:
        """Emit the statements of the node ``element`` into ``graph`` ("" the default); its subject.

        ``active`` is the context the parent's value is expanded under (the term's scoped
        context already applied, as pyld's ``term_ctx``), ``property_rule`` the rule of the key
        it is the value of, read under ``active`` (None at the top). What the node's keys mean
        comes from its :class:`~verifier.rdf_plans.Plan`, worked out once per shape.
        """
        self._ticks -= 1
        if self._ticks <= 0:
            self._ticks = _TICK_STRIDE
            self._deadline.check()
        if depth > MAX_NODE_DEPTH:
            raise NotCovered("nodes nested deeper than the fast path goes")
        plan = plan_for(active, property_rule, element, self._limits)
        values = 1 + plan.type_values  # counted here, added to the walk's counts after the loop
        chars = plan.key_chars
        subject: Term | None = None
        found: list[tuple[str, Term]] = []
        rests: list[str] = []   # in the default graph: literal statements written at once, after the subject
        default_graph = not graph
        max_string = self._limits.max_string
        for entry, value in zip(plan.entries, element.values(), strict=True):
            kind = entry.kind
            if kind == ENTRY_PROPERTY:
                suffix = entry.string_suffix
                if suffix is not None and type(value) is str and len(value) <= max_string:
                    # the usual value, a literal written as itself: its N-Quads text at once
                    chars += len(value)
                    values += 1
                    text = escape_literal(value) if literal_needs_escape(value) else value
                    if default_graph:
                        rests.append(f'{entry.opening}{text}"{suffix} .\n')
                    else:
                        found.append((entry.rule.predicate, '"' + text + '"' + suffix))
                else:
                    self.values(entry, value, graph, found, depth)
            elif kind == ENTRY_TYPE:
                if default_graph:
                    rests.extend(entry.type_rests)
                else:
                    found.extend(entry.type_objects)
            elif kind == ENTRY_ID:
                if subject is not None or not isinstance(value, str):
                    raise NotCovered("@id given twice or not as a string")
                self.string(value)
                subject = plan.active.id_term(value)
        self._values += values
        self._chars += chars
        self.check_size()
        if subject is None:
            self._blank += 1
            subject = f"_:f{self._blank}"
            if rests and plan.distinct:  # a new blank node whose lines differ: they stay together
                self.blocks[subject] = rests
                rests = []
        lines = self.lines
        for rest in rests:
            lines[(subject, rest)] = None
        for predicate, obj in found:
            self.emit(subject, predicate, obj, graph)
        return subject

    def values(self, entry: Entry, value: Any, graph: Term, found: list[tuple[str, Term]], depth: int) -> None:
        """The objects of one entry (step 13.7 on, Value Expansion, Object to RDF) into ``found``."""
        rule, term_ctx, term_rule = entry.rule, entry.term_ctx, entry.term_rule
        predicate = rule.predicate
        if type(value) is str:  # one string (a plain literal is written in :meth:`node` already)
            self.string(value)
            self._values += 1
            suffix = entry.string_suffix
            if suffix is not None:  # a literal written as itself: its N-Quads text at once
                found.append((predicate, '"' + escape_literal(value) + '"' + suffix))
                return
            if not rule.graph and not rule.list:
                found.append((predicate, _object(term_ctx, term_rule, value)))
                return
        if isinstance(value, list):
            if len(value) > self._limits.max_array:
                raise NotCovered("more values in one property than the cap")
            self._values += 1
            items: Any = value
        else:
            items = (value,)
        if rule.list:
            found.append((predicate, self.collection(term_ctx, term_rule, items, graph, depth)))
            return
        for item in items:
            if item is None:
                continue
            if isinstance(item, dict):
                if rule.graph:  # a graph object: the node goes into a new named graph
                    name = self.blank()
                    self.node(term_ctx, term_rule, item, name, depth + 1)
                    found.append((predicate, name))
                else:
                    found.append((predicate, self.node(term_ctx, term_rule, item, graph, depth + 1)))
            elif isinstance(item, list):
                raise NotCovered("an array inside an array")
            elif rule.graph:
                raise NotCovered("a value that is not an object in a graph container")
            else:
                if isinstance(item, str):
                    self.string(item)
                self._values += 1
                found.append((predicate, _object(term_ctx, term_rule, item)))

    def collection(self, active: ContextTables, rule: Rule, items: Any, graph: Term, depth: int) -> Term:
        """An ``@list`` value as an RDF collection (JSON-LD 1.1 API §8.1.3 List to RDF); its head."""
        terms: list[Term] = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, dict):
                terms.append(self.node(active, rule, item, graph, depth + 1))
            elif isinstance(item, list):
                raise NotCovered("a list of lists")
            else:
                if isinstance(item, str):
                    self.string(item)
                self._values += 1
                terms.append(_object(active, rule, item))
        head: Term = RDF_NIL
        for term in reversed(terms):
            cell = self.blank()
            self.emit(cell, RDF_FIRST, term, graph)
            self.emit(cell, RDF_REST, head, graph)
            head = cell
        return head


def _object(tables: ContextTables, rule: Rule, value: Any) -> Term:
    """A scalar value as an RDF term (Value Expansion, then Object to RDF)."""
    if isinstance(value, str):
        if rule.coercion == AS_ID:
            return tables.id_term(value)
        if rule.coercion == AS_VOCAB:
            iri = tables.expand_vocab(value)
            if iri.startswith("@"):
                raise NotCovered(f"the value {value!r} expands to a keyword")
            return iri_term(iri)
        datatype = rule.datatype
        if datatype is None:
            if not rule.language_free:
                raise NotCovered("a language-tagged string")
            return '"' + escape_literal(value) + '"'
        if datatype == XSD_DOUBLE:
            try:
                return _literal(canonical_double(float(value)), XSD_DOUBLE)
            except ValueError:
                return _literal(value, XSD_DOUBLE)
            except OverflowError as exc:
                raise NotCovered("a number too large for a double") from exc
        return _literal(value, datatype)
    datatype = rule.datatype
    if isinstance(value, bool):
        return _literal("true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, float) and not value.is_integer():
        return _literal(canonical_double(value), datatype or XSD_DOUBLE)
    if isinstance(value, (int, float)):
        try:
            if datatype == XSD_DOUBLE:
                return _literal(canonical_double(float(value)), XSD_DOUBLE)
            if abs(value) >= 1e21:
                return _literal(canonical_double(value), datatype or XSD_DOUBLE)
        except OverflowError as exc:
            raise NotCovered("a number too large for a double") from exc
        return _literal(str(int(value)), datatype or XSD_INTEGER)
    raise NotCovered(f"a JSON value of type {type(value).__name__}")

def fast_quads(document: dict[str, Any], engine: JsonLdEngine | None = None, *,
               deadline: Deadline | None = None) -> WalkedQuads:
    """The quads of ``document``'s RDF dataset, written as N-Quads terms, read through the term tables
    (:class:`~verifier.rdfc_serialized.WalkedQuads`: ``.quads()`` lists them as 4-tuples).

    Raises:
        NotCovered: the tables do not cover the document, or it is outside the caps (take the
            general path, which checks the caps in full).
        CredentialError: the deadline.
    """
    engine = engine or default_engine()
    if not isinstance(document, dict):
        raise NotCovered("the document is not a JSON object")
    walk = _Walk(effective_deadline(deadline), engine.limits)
    walk.node(engine.tables, None, document, "")
    return WalkedQuads(list(walk.lines), list(walk.mixed), walk.blocks)


def fast_nquads(document: dict[str, Any], engine: JsonLdEngine | None = None, *,
                limits: CanonicalizationLimits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``document`` through the fast path only (no fallback).

    Raises:
        NotCovered: the tables do not cover the document.
        CredentialError: as :func:`verifier.canonicalize.canonicalize`.
    """
    deadline = effective_deadline(deadline, limits.max_seconds)
    return canonicalize_serialized(fast_quads(document, engine, deadline=deadline), limits, deadline=deadline)
